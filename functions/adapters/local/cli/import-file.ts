import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { parse } from 'csv-parse';
import { SingleBar, Presets } from 'cli-progress';
import type { Rejection } from '../../../core/model.js';
import type { UploadResult } from '../../../app/upload-certificates.js';
import type { ApiClient } from './api-client.js';

export interface ImportSummary {
  file: string;
  total: number;
  accepted: number;
  created: number;
  updated: number;
  renewed: number;
  unchanged: number;
  /** `index` is 0-based over the file's records; `row` is the spreadsheet row (header = row 1) for CSV. */
  rejected: Array<Rejection & { row?: number }>;
}

/** Turns a CSV row with dotted headers (`holder.name`) into the API's nested record. */
export function csvRowToRecord(row: Record<string, string>): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [rawKey, value] of Object.entries(row)) {
    const key = rawKey.trim();
    if (key === '') continue;
    const alias = key === 'holderName' ? 'holder.name' : key === 'holderId' ? 'holder.id' : key;
    const [head = '', tail] = alias.split('.', 2);
    if (tail === undefined) {
      record[head] = value;
    } else {
      const nested = (record[head] ??= {}) as Record<string, unknown>;
      nested[tail] = value;
    }
  }
  return record;
}

async function* readRecords(file: string): AsyncGenerator<unknown> {
  if (extname(file).toLowerCase() === '.json') {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    const records = Array.isArray(parsed) ? parsed : (parsed as { certificates?: unknown[] }).certificates;
    if (!Array.isArray(records)) throw new Error(`${file}: expected a JSON array of certificate records`);
    yield* records;
    return;
  }
  const parser = createReadStream(file).pipe(parse({ columns: true, bom: true, skip_empty_lines: true, trim: true, relax_column_count: true }));
  for await (const row of parser) yield csvRowToRecord(row as Record<string, string>);
}

/** Sends a file to POST /v1/certificates in batches, with a progress bar, and adds up the answers. */
export async function importFile(options: { file: string; api: ApiClient; batchSize: number; progress: boolean }): Promise<ImportSummary> {
  const { file } = options;
  if (!existsSync(file)) throw Object.assign(new Error(`no such file: ${file}`), { code: 'ENOENT' });
  const isCsv = extname(file).toLowerCase() !== '.json';
  const summary: ImportSummary = { file, total: 0, accepted: 0, created: 0, updated: 0, renewed: 0, unchanged: 0, rejected: [] };
  const bar = options.progress ? new SingleBar({ format: '导入 {bar} {percentage}% | {value}/{total} bytes | {records} records', hideCursor: true }, Presets.shades_classic) : undefined;
  const size = statSync(file).size;
  bar?.start(size, 0, { records: 0 });
  let batch: unknown[] = [];
  let offset = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const result = await options.api.post<UploadResult>('/v1/certificates', batch);
    summary.accepted += result.accepted;
    summary.created += result.created;
    summary.updated += result.updated;
    summary.renewed += result.renewed;
    summary.unchanged += result.unchanged;
    for (const r of result.rejected) {
      const index = offset + r.index;
      summary.rejected.push({ ...r, index, ...(isCsv ? { row: index + 2 } : {}) });
    }
    offset += batch.length;
    batch = [];
    bar?.update(Math.round((offset / Math.max(summary.total, 1)) * size), { records: offset });
  };
  for await (const record of readRecords(file)) {
    batch.push(record);
    summary.total += 1;
    if (batch.length >= options.batchSize) await flush();
  }
  await flush();
  bar?.update(size, { records: summary.total });
  bar?.stop();
  return summary;
}
