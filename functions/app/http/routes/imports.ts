import * as z from 'zod';
import type { Principal } from '../../../core/access.js';
import { IMPORT_ID } from '../../../core/import-messages.js';
import { csvCell } from '../../../core/csv.js';
import type { ImportRecord, ImportStore } from '../../../core/ports.js';
import { auditPrincipal, recordAudit } from '../../audit.js';
import type { HttpAppDeps, Route } from '../app.js';
import { HttpError, reply, type HttpRequest } from '../http.js';
import type { ImportAnswer, importContract, importSubmittedContract } from '../../../contracts/api/imports.js';
import { parseJsonBody, parseWith } from '../parse.js';

const encodingOption = z.enum(['auto', 'utf-8', 'utf8', 'gbk', 'gb18030']);

const submitQuery = z
  .object({
    fileName: z.string().min(1).max(255).optional(),
    allOrNothing: z.enum(['true', 'false']).optional(),
    encoding: encodingOption.optional(),
    sheet: z.string().min(1).max(100).optional(),
  })
  .strict();

/**
 * On AWS the file does not travel through the API: the client declares it in a JSON body and uploads
 * it to the URL in the answer. The options may come in the body or, as locally, in the query.
 */
const submitDeclaration = z
  .object({
    fileName: z.string().min(1).max(255),
    contentType: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/, 'a media type, e.g. text/csv').max(255),
    bytes: z.number().int().positive('the file is empty'),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'the SHA-256 of the file, 64 hex digits')
      .transform((hex) => hex.toLowerCase()),
    allOrNothing: z.boolean().optional(),
    encoding: encodingOption.optional(),
    sheet: z.string().min(1).max(100).optional(),
  })
  .strict();

function mediaType(req: HttpRequest): string {
  return (req.headers['content-type'] ?? 'application/octet-stream').split(';')[0]?.trim() ?? 'application/octet-stream';
}

function importStore(deps: HttpAppDeps): ImportStore {
  if (deps.imports === undefined) throw new HttpError(404, 'not_found', 'imports are not enabled in this deployment');
  return deps.imports;
}

async function visibleImport(deps: HttpAppDeps, principal: Principal, id: string): Promise<ImportRecord> {
  // Only ids of the form createImport gives out are looked up; anything else cannot exist.
  const record = IMPORT_ID.test(id) ? await importStore(deps).getImport(id) : undefined;
  if (record === undefined) throw new HttpError(404, 'not_found', `no import ${id.slice(0, 40)}`);
  if (principal.role === 'bureau' && record.uploadedBy.authority !== principal.authority) {
    throw new HttpError(403, 'forbidden', `导入 ${id} 属于其他发证机关 / import ${id} belongs to another issuing authority`);
  }
  return record;
}

export function importView(record: ImportRecord): ImportAnswer {
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
export const importRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/imports$/,
    access: 'writeCertificates',
    handler: async (req, _p, deps, principal) => {
      if (deps.submitImport === undefined) throw new HttpError(404, 'not_found', 'imports are not enabled in this deployment');
      const query = parseWith(submitQuery, req.query, 'query');
      // A raw body the transport already stored (local), or a JSON declaration of a file to upload (AWS).
      const declared = req.upload === undefined && mediaType(req).toLowerCase() === 'application/json' ? parseWith(submitDeclaration, parseJsonBody(req), 'import request') : undefined;
      const requested = query.encoding ?? declared?.encoding;
      const encoding = requested === 'utf8' ? 'utf-8' : requested;
      const sheet = query.sheet ?? declared?.sheet;
      const submitted = await deps.submitImport(principal, {
        fileName: declared?.fileName ?? query.fileName ?? 'upload',
        contentType: declared?.contentType ?? mediaType(req),
        options: {
          allOrNothing: query.allOrNothing === 'true' || declared?.allOrNothing === true,
          ...(encoding !== undefined && encoding !== 'auto' ? { encoding } : {}),
          ...(sheet !== undefined ? { sheet } : {}),
        },
        ...(declared !== undefined ? { file: { bytes: declared.bytes, sha256: declared.sha256 } } : {}),
        ...(req.upload !== undefined ? { upload: req.upload } : {}),
      });
      const fileName = declared?.fileName ?? query.fileName ?? 'upload';
      await recordAudit(deps, auditPrincipal(principal), {
        action: 'import.submitted',
        target: `import/${submitted.id}`,
        summary: `提交导入 ${fileName}${submitted.resumed ? '（继续未完成的导入）' : ''} / submitted ${fileName} for import${submitted.resumed ? ' (resuming an unfinished import)' : ''}`,
        details: {
          fileName,
          bytes: req.upload?.bytes ?? declared?.bytes ?? null,
          sha256: req.upload?.sha256 ?? declared?.sha256 ?? null,
          resumed: submitted.resumed,
          ...(submitted.sameFileAs !== undefined ? { sameFileAs: submitted.sameFileAs } : {}),
        },
      });
      return reply<typeof importSubmittedContract>(202, { ...submitted, status: `/v1/imports/${submitted.id}` });
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/imports\/([^/]+)$/,
    access: 'readImports',
    handler: async (_req, params, deps, principal) => reply<typeof importContract>(200, importView(await visibleImport(deps, principal, params[0] ?? ''))),
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
