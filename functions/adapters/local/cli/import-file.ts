import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { Readable } from 'node:stream';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { Rejection } from '../../../core/model.js';
import { uploadResultContract } from '../../../contracts/api/certificates.js';
import { importContract, importSubmittedContract, type ImportAnswer } from '../../../contracts/api/imports.js';
import type { ApiClient } from './api-client.js';

// The CLI (bin/certalarm.ts and this folder) is entry code, a client of the HTTP API: it reads the
// application's response types, so it may import from app/ (see eslint.config.js).

export interface ImportOptions {
  file: string;
  api: ApiClient;
  progress: boolean;
  allOrNothing: boolean;
  encoding?: string;
  sheet?: string;
  /** JSON files only: records per POST /v1/certificates. */
  batchSize: number;
  pollMs?: number;
}

/** What `certalarm import` reports, for a spreadsheet or a JSON file alike. */
export interface ImportSummary {
  file: string;
  importId?: string;
  state: string;
  resumed?: boolean;
  sameFileAs?: string | null;
  counts: { rows: number; accepted: number; created: number; updated: number; renewed: number; unchanged: number; rejected: number; blank?: number };
  failure?: { code: string; message: string } | null;
  /** Spreadsheet rows as Excel numbers them (header = row 1); JSON records by 0-based index. */
  rejected: Array<{ row?: number; index?: number; column: string; value?: string; reason: string }>;
  errorsCsv?: string;
}

const SPREADSHEET_TYPES: Record<string, string> = {
  '.csv': 'text/csv',
  '.txt': 'text/csv',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

export async function importFile(options: ImportOptions): Promise<ImportSummary> {
  if (!existsSync(options.file)) throw Object.assign(new Error(`no such file: ${options.file}`), { code: 'ENOENT' });
  const ext = extname(options.file).toLowerCase();
  if (ext === '.json') return importJson(options);
  const contentType = SPREADSHEET_TYPES[ext];
  if (contentType === undefined) {
    throw Object.assign(new Error(`${options.file}: use a .csv, .xlsx or .json file`), { code: 'ENOENT' });
  }
  return importSpreadsheet(options, contentType);
}

async function importSpreadsheet(options: ImportOptions, contentType: string): Promise<ImportSummary> {
  const size = statSync(options.file).size;
  const bars = options.progress ? new MultiBar({ hideCursor: true, format: '{phase} {bar} {percentage}% | {detail}' }, Presets.shades_classic) : undefined;
  const bar: SingleBar | undefined = bars?.create(100, 0, { phase: '上传 upload ', detail: `${(size / 1048576).toFixed(1)} MB` });
  let sent = 0;
  const stream = createReadStream(options.file);
  stream.on('data', (chunk) => {
    sent += chunk.length;
    bar?.update(Math.floor((sent / Math.max(size, 1)) * 100));
  });
  const query = new URLSearchParams({ fileName: basename(options.file) });
  if (options.allOrNothing) query.set('allOrNothing', 'true');
  if (options.encoding !== undefined) query.set('encoding', options.encoding);
  if (options.sheet !== undefined) query.set('sheet', options.sheet);
  try {
    const submitted = await options.api.upload(
      `/v1/imports?${query.toString()}`,
      Readable.toWeb(stream) as ReadableStream<Uint8Array>,
      { 'content-type': contentType, 'content-length': String(size) },
      importSubmittedContract,
    );
    let status: ImportAnswer;
    for (;;) {
      status = await options.api.get(`/v1/imports/${submitted.id}`, importContract);
      const phase = status.progress.phase === 'checking' ? '检查 check  ' : '导入 import ';
      bar?.update(status.progress.percent, {
        phase,
        detail: `${status.progress.rowsDone}${status.progress.totalRows !== null ? `/${status.progress.totalRows}` : ''} rows · ${status.counts.rejected} rejected`,
      });
      if (status.state === 'done' || status.state === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 400));
    }
    bar?.update(100);
    bars?.stop();
    const errors = await options.api.text(status.errorsCsv);
    return {
      file: options.file,
      importId: status.id,
      state: status.state,
      resumed: submitted.resumed,
      sameFileAs: status.sameFileAs,
      counts: status.counts,
      failure: status.failure,
      // A failed import's errors.csv repeats its failure (for whoever downloads only the file); the summary already says it.
      rejected: parseErrorsCsv(errors).filter((r) => status.failure === null || r.reason !== status.failure.message),
      errorsCsv: status.errorsCsv,
    };
  } finally {
    bars?.stop();
  }
}

/** Reads back the service's errors.csv (BOM, RFC 4180 quoting). */
export function parseErrorsCsv(text: string): ImportSummary['rejected'] {
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  const body = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < body.length; i += 1) {
    const c = body[i];
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field.replace(/\r$/, ''));
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows.slice(1).map(([row = '', column = '', value = '', reason = '']) => ({
    ...(row !== '' ? { row: Number(row) } : {}),
    column,
    value: value.replace(/^'(?=[=+\-@])/, ''),
    reason,
  }));
}

/** JSON arrays go straight to POST /v1/certificates in batches, as the API takes them. */
async function importJson(options: ImportOptions): Promise<ImportSummary> {
  const text = readFileSync(options.file, 'utf8');
  const parsed: unknown = JSON.parse(text);
  const records = Array.isArray(parsed) ? parsed : (parsed as { certificates?: unknown[] }).certificates;
  if (!Array.isArray(records)) throw new Error(`${options.file}: expected a JSON array of certificate records`);
  const sha = createHash('sha256').update(text).digest('hex').slice(0, 12);
  const bars = options.progress ? new MultiBar({ hideCursor: true, format: '导入 import {bar} {percentage}% | {value}/{total} records' }, Presets.shades_classic) : undefined;
  const bar = bars?.create(records.length, 0);
  const summary: ImportSummary = {
    file: options.file,
    state: 'done',
    counts: { rows: records.length, accepted: 0, created: 0, updated: 0, renewed: 0, unchanged: 0, rejected: 0 },
    rejected: [],
  };
  const batchSize = options.allOrNothing ? records.length : options.batchSize;
  try {
    for (let offset = 0; offset < records.length; offset += batchSize) {
      const batch = records.slice(offset, offset + batchSize);
      const result = await options.api.post(`/v1/certificates${options.allOrNothing ? '?allOrNothing=true' : ''}`, batch, uploadResultContract);
      summary.counts.accepted += result.accepted;
      summary.counts.created += result.created;
      summary.counts.updated += result.updated;
      summary.counts.renewed += result.renewed;
      summary.counts.unchanged += result.unchanged;
      const rejectedIndexes = new Set<number>();
      for (const r of result.rejected as Rejection[]) {
        rejectedIndexes.add(r.index);
        summary.rejected.push({ index: offset + r.index, column: r.field, reason: r.reason });
      }
      summary.counts.rejected += rejectedIndexes.size;
      bar?.update(offset + batch.length);
    }
  } finally {
    bars?.stop();
  }
  if (options.allOrNothing && summary.rejected.length > 0) {
    summary.state = 'failed';
    summary.failure = { code: 'rejected_rows', message: `${summary.counts.rejected} records are bad and all-or-nothing was asked, so nothing was imported (file ${sha})` };
  }
  return summary;
}
