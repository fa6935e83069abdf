import * as z from 'zod';
import type { Principal } from '../../../core/access.js';
import type { ImportRecord, ImportStore } from '../../../core/ports.js';
import type { HttpAppDeps, Route } from '../app.js';
import { HttpError, json, type HttpRequest } from '../http.js';
import { parseWith } from '../parse.js';

export interface ImportSubmission {
  fileName: string;
  contentType: string;
  options: ImportRecord['options'];
}

/** Accepts a file for import and returns the import's id (and, on AWS, where to upload the file). */
export type ImportSubmitter = (
  principal: Principal,
  req: HttpRequest,
  submission: ImportSubmission,
) => Promise<{ id: string; resumed: boolean; sameFileAs?: string; upload?: { url: string; method: string; headers: Record<string, string> } }>;

const submitQuery = z
  .object({
    fileName: z.string().min(1).max(255).optional(),
    allOrNothing: z.enum(['true', 'false']).optional(),
    encoding: z.enum(['auto', 'utf-8', 'utf8', 'gbk', 'gb18030']).optional(),
    sheet: z.string().min(1).max(100).optional(),
  })
  .strict();

function importStore(deps: HttpAppDeps): ImportStore {
  if (deps.imports === undefined) throw new HttpError(404, 'not_found', 'imports are not enabled in this deployment');
  return deps.imports;
}

async function visibleImport(deps: HttpAppDeps, principal: Principal, id: string): Promise<ImportRecord> {
  const record = await importStore(deps).getImport(id);
  if (record === undefined) throw new HttpError(404, 'not_found', `no import ${id}`);
  if (principal.role === 'bureau' && record.uploadedBy.authority !== principal.authority) {
    throw new HttpError(403, 'forbidden', `导入 ${id} 属于其他发证机关 / import ${id} belongs to another issuing authority`);
  }
  return record;
}

export function importView(record: ImportRecord) {
  const phase = record.state === 'checking' ? 'checking' : record.state === 'storing' ? 'storing' : record.state;
  const percent =
    record.state === 'done'
      ? 100
      : record.totalRows !== undefined && record.totalRows > 0 && record.state === 'storing'
        ? Math.min(99, Math.floor((record.progressRows / record.totalRows) * 100))
        : 0;
  return {
    id: record.id,
    state: record.state,
    fileName: record.fileName,
    contentType: record.contentType,
    bytes: record.bytes,
    sha256: record.sha256,
    format: record.format ?? null,
    encoding: record.encoding ?? null,
    sheet: record.sheet ?? null,
    options: record.options,
    uploadedBy: record.uploadedBy,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    finishedAt: record.finishedAt ?? null,
    progress: { phase, rowsDone: record.progressRows, totalRows: record.totalRows ?? null, percent },
    counts: record.counts,
    failure: record.failure ?? null,
    sameFileAs: record.sameFileAs ?? null,
    errorsCsv: `/v1/imports/${record.id}/errors.csv`,
  };
}

/** RFC 4180 quoting, plus a leading apostrophe for cells Excel would run as formulas. */
function csvCell(value: string | number): string {
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const importRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/imports$/,
    access: 'writeCertificates',
    handler: async (req, _p, deps, principal) => {
      if (deps.submitImport === undefined) throw new HttpError(404, 'not_found', 'imports are not enabled in this deployment');
      const query = parseWith(submitQuery, req.query, 'query');
      const contentType = (req.headers['content-type'] ?? 'application/octet-stream').split(';')[0]?.trim() ?? 'application/octet-stream';
      const encoding = query.encoding === 'utf8' ? 'utf-8' : query.encoding;
      const submitted = await deps.submitImport(principal, req, {
        fileName: query.fileName ?? 'upload',
        contentType,
        options: {
          allOrNothing: query.allOrNothing === 'true',
          ...(encoding !== undefined && encoding !== 'auto' ? { encoding } : {}),
          ...(query.sheet !== undefined ? { sheet: query.sheet } : {}),
        },
      });
      return json(202, { ...submitted, status: `/v1/imports/${submitted.id}` });
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/imports\/([^/]+)$/,
    access: 'readImports',
    handler: async (_req, params, deps, principal) => json(200, importView(await visibleImport(deps, principal, params[0] ?? ''))),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/imports\/([^/]+)\/errors\.csv$/,
    access: 'readImports',
    handler: async (_req, params, deps, principal) => {
      const record = await visibleImport(deps, principal, params[0] ?? '');
      // UTF-8 with a BOM, CRLF line ends: what Excel on a Chinese Windows PC opens correctly.
      const lines = ['row,column,value,reason'];
      for await (const error of importStore(deps).importErrors(record.id)) {
        lines.push([error.row === 0 ? '' : error.row, error.column, error.value, error.reason].map(csvCell).join(','));
      }
      return {
        status: 200,
        headers: {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="${record.id}-errors.csv"`,
        },
        body: `\uFEFF${lines.join('\r\n')}\r\n`,
      };
    },
  },
];
