import { randomUUID } from 'node:crypto';
import { mayTouchType, type Principal } from '../../core/access.js';
import { validateCertificates } from '../../core/certificate.js';
import type { Certificate } from '../../core/model.js';
import { ImportFailure } from '../../core/import-failure.js';
import type { AuditLog, Clock, ImportCounts, ImportError, ImportRecord, ImportStore, Logger, NewImport, OpenedSpreadsheet, PendingChunk, SpreadsheetOpener, StoredCertificate } from '../../core/ports.js';
import { RowKeySet } from '../../core/row-key-set.js';
import { cellText, isFieldReported, mapHeaders, rowToRecord, type Column } from '../../core/spreadsheet-rows.js';
import { auditImportFinished } from '../audit.js';
import { beginTypeWrites } from '../rules/type-writes.js';
import { addCounts, currentCalendar, lookupsFrom, planAll, PlanningError, prepareUpload, withFreshRules, type PlanningBasis, type UploadDeps } from '../upload-certificates.js';

export interface ImportLimits {
  maxBytes: number;
  maxRows: number;
}

export interface ImportDeps extends UploadDeps {
  imports: ImportStore;
  openSpreadsheet: SpreadsheetOpener;
  removeFile: (blobKey: string) => Promise<void>;
  limits: ImportLimits;
  logger: Logger;
  clock: Clock;
  /** Where the end of each import is recorded for the person who uploaded it. */
  audit?: AuditLog;
}

/** Rows validated and written together; the unit of resumption. */
const CHUNK_ROWS = 1000;

export function emptyImportCounts(): ImportCounts {
  return { rows: 0, accepted: 0, created: 0, updated: 0, renewed: 0, unchanged: 0, rejected: 0, blank: 0 };
}


/** Which caller's imports count as "the same file again": a bureau's, or one token's. */
export function importScope(principal: Principal): string {
  return principal.role === 'bureau' ? `authority:${principal.authority ?? ''}` : principal.subject;
}

/**
 * Record an uploaded file as an import. If the same caller has an unfinished import of the same file,
 * that one is returned instead, so running the upload again continues where it stopped.
 */
export async function createImport(
  deps: Pick<ImportDeps, 'imports' | 'clock' | 'removeFile'>,
  principal: Principal,
  upload: NewImport,
): Promise<{ record: ImportRecord; resumed: boolean }> {
  const scope = importScope(principal);
  for (const id of await deps.imports.openImports()) {
    const open = await deps.imports.getImport(id);
    if (open !== undefined && open.sha256 === upload.sha256 && importScope(principalOf(open)) === scope) {
      await deps.removeFile(upload.blobKey);
      return { record: open, resumed: true };
    }
  }
  const now = deps.clock.now().toISO() ?? '';
  const earlier = await deps.imports.findImportByHash(upload.sha256, scope);
  const record: ImportRecord = {
    id: `imp_${randomUUID().replace(/-/g, '').slice(0, 20)}`,
    revision: 1,
    state: 'queued',
    uploadedBy: { subject: principal.subject, role: principal.role, ...(principal.authority !== undefined ? { authority: principal.authority } : {}) },
    createdAt: now,
    updatedAt: now,
    fileName: upload.fileName,
    contentType: upload.contentType,
    bytes: upload.bytes,
    sha256: upload.sha256,
    blobKey: upload.blobKey,
    options: upload.options,
    progressRows: 0,
    checkpointRow: 1,
    counts: emptyImportCounts(),
    ...(earlier !== undefined ? { sameFileAs: earlier } : {}),
  };
  await deps.imports.createImport(record);
  return { record, resumed: false };
}

function principalOf(record: ImportRecord): Principal {
  return {
    role: record.uploadedBy.role as Principal['role'],
    subject: record.uploadedBy.subject,
    ...(record.uploadedBy.authority !== undefined ? { authority: record.uploadedBy.authority } : {}),
  };
}

interface CheckedChunk {
  fromRow: number;
  toRow: number;
  valid: Array<{ index: number; certificate: Certificate }>;
  /** Excel row of each `valid[i].index`. */
  rowOf: number[];
  errors: ImportError[];
  rejectedRows: number;
  blank: number;
  rows: number;
}

/**
 * Runs (or resumes) an import to its end, or until `stopAtMs` (an instant on `deps.clock`). Two passes over the streamed file:
 * a check (row count and limits; with all-or-nothing, every row), then the store pass in chunks.
 * Each chunk records its intended counts before writing and its checkpoint after, so a crash at any
 * point resumes without losing a row or counting one twice; writes themselves are idempotent.
 */
export async function runImport(deps: ImportDeps, id: string, options: { stopAtMs?: number } = {}): Promise<ImportRecord['state'] | 'paused'> {
  let record = await deps.imports.getImport(id);
  if (record === undefined) throw new ImportFailure('not_found', `no import ${id}`);
  if (record.state === 'done' || record.state === 'failed') return record.state;
  const save: Save = async (changes) => {
    const current = record as ImportRecord;
    const next: ImportRecord = {
      ...current,
      ...(typeof changes === 'function' ? changes(current) : changes),
      revision: current.revision + 1,
      updatedAt: deps.clock.now().toISO() ?? '',
    };
    if (!(await deps.imports.saveImport(next))) {
      throw new ImportFailure('concurrent_worker', `import ${id} is being processed by another worker`);
    }
    record = next;
    return next;
  };
  try {
    const principal = principalOf(record);
    if (record.state === 'queued' || record.state === 'checking') {
      record = await save({ state: 'checking', progressRows: 0 });
      const checkStarted = deps.clock.now().toMillis();
      const checked = await checkPass(deps, record, principal, save);
      deps.logger.info({ importId: id, rows: checked === 'failed' ? undefined : checked.rows, ms: deps.clock.now().toMillis() - checkStarted }, 'import check pass done');
      if (checked === 'failed') return 'failed';
      record = await save({ state: 'storing', totalRows: checked.rows, progressRows: record.checkpointRow - 1 });
    }
    const storeStarted = deps.clock.now().toMillis();
    const outcome = await storePass(deps, record, principal, save, options.stopAtMs);
    deps.logger.info({ importId: id, outcome, ms: deps.clock.now().toMillis() - storeStarted }, 'import store pass ended');
    if (outcome === 'paused') return 'paused';
    await save({ state: 'done', finishedAt: deps.clock.now().toISO() ?? '', progressRows: record.totalRows ?? record.progressRows });
    await finish(deps, record as ImportRecord);
    deps.logger.info({ importId: id, counts: (record as ImportRecord).counts }, 'import done');
    return 'done';
  } catch (error) {
    if (!(error instanceof ImportFailure)) {
      // An unexpected error (store unavailable, a crash) leaves the import resumable rather than failed.
      deps.logger.error({ importId: id, err: (error as Error).message }, 'import interrupted; it resumes on the next run');
      throw error;
    }
    if (error.code === 'concurrent_worker') throw error;
    const failure = { code: error.code, message: error.message };
    await deps.imports.putImportErrors(record, [{ row: failure.code === 'missing_columns' || failure.code === 'duplicate_columns' ? 1 : 0, column: '', value: '', reason: failure.message }]);
    await save({ state: 'failed', failure, finishedAt: deps.clock.now().toISO() ?? '' });
    await finish(deps, record as ImportRecord);
    deps.logger.warn({ importId: id, failure }, 'import failed');
    return 'failed';
  }
}

/**
 * Starts in a row that may resume an import from the same point. A file that crashes the process
 * (or fails it some other way the import cannot record) would otherwise be run into the same crash
 * on every start, with no request at all: after the first run and this many resumes, all stopped at
 * the same point, the import is failed instead.
 */
export const MAX_RESUMES_WITHOUT_PROGRESS = 1;

/** Where an import stands: equal marks on two starts mean nothing was done in between. */
function progressMark(record: ImportRecord): string {
  return `${record.state}:${record.checkpointRow}:${record.progressRows}`;
}

/**
 * Called on start for each unfinished import, before running it: counts the resume (saved first, so
 * a crash during it counts too) and says whether to run it. An import that stopped at the same point
 * on two starts is marked `failed` with the reason, and is never resumed again.
 */
export async function startResume(deps: Pick<ImportDeps, 'imports' | 'clock' | 'removeFile' | 'logger'>, id: string): Promise<boolean> {
  const record = await deps.imports.getImport(id);
  if (record === undefined || record.state === 'done' || record.state === 'failed') {
    if (record !== undefined) await deps.imports.closeImport(id);
    return false;
  }
  const mark = progressMark(record);
  const attempts = record.resumes?.mark === mark ? record.resumes.attempts + 1 : 1;
  const now = deps.clock.now().toISO() ?? '';
  const next: ImportRecord = { ...record, revision: record.revision + 1, updatedAt: now, resumes: { attempts, mark } };
  if (attempts <= MAX_RESUMES_WITHOUT_PROGRESS) {
    if (!(await deps.imports.saveImport(next))) return false;
    return true;
  }
  const row = Math.max(record.checkpointRow, record.state === 'checking' ? record.progressRows + 1 : 0);
  const failure = {
    code: 'interrupted_repeatedly',
    message: `导入在连续两次启动中都在同一处（${record.state === 'storing' ? '存储' : '检查'}阶段，约第 ${row} 行之后）中断，不再自动继续；文件可能过大或已损坏，请检查后重新上传 / the import stopped at the same point (${record.state === 'storing' ? 'storing' : 'checking'}, after about row ${row}) on two starts in a row and is not resumed again; the file may be too large or damaged, so check it and upload it again`,
  };
  if (!(await deps.imports.saveImport({ ...next, state: 'failed', failure, finishedAt: now }))) return false;
  await deps.imports.putImportErrors(record, [{ row: 0, column: '', value: '', reason: failure.message }]);
  await deps.imports.closeImport(id);
  await deps.removeFile(record.blobKey).catch(() => undefined);
  deps.logger.warn({ importId: id, failure }, 'import failed: it stopped at the same point on two starts');
  return false;
}

async function finish(deps: ImportDeps, record: ImportRecord): Promise<void> {
  await deps.imports.closeImport(record.id);
  if (record.state === 'done') await deps.imports.rememberImportHash(record.sha256, importScope(principalOf(record)), record.id);
  await deps.removeFile(record.blobKey).catch(() => undefined);
  await auditImportFinished(deps, record);
}

async function open(deps: ImportDeps, record: ImportRecord): Promise<{ sheet: OpenedSpreadsheet; columns: Column[]; missingExpiry: boolean }> {
  const sheet = await deps.openSpreadsheet(record.blobKey, {
    contentType: record.contentType,
    fileName: record.fileName,
    ...(record.options.encoding !== undefined ? { encoding: record.options.encoding } : {}),
    ...(record.options.sheet !== undefined ? { sheet: record.options.sheet } : {}),
  });
  const mapping = mapHeaders(sheet.headers);
  if (mapping.missing.length > 0 || mapping.duplicates.length > 0) await sheet.close?.();
  if (mapping.missing.length > 0) {
    // The file fails anyway: name the expiry column too, which almost every file needs.
    const missing = mapping.missingExpiry ? [...mapping.missing, 'expiresOn'] : mapping.missing;
    throw new ImportFailure(
      'missing_columns',
      `缺少必填列：${missing.join('、')}（表头为第1行）/ missing required columns: ${missing.join(', ')} (the header is row 1). Found: ${sheet.headers.join(', ')}`,
    );
  }
  if (mapping.duplicates.length > 0) {
    const list = mapping.duplicates.map((d) => `${d.field}: ${d.headers.join(' / ')}`).join('; ');
    throw new ImportFailure('duplicate_columns', `多列对应同一字段，请只保留一列：${list} / several columns give the same field; keep one: ${list}`);
  }
  return { sheet, columns: mapping.columns, missingExpiry: mapping.missingExpiry };
}

/**
 * A file without an expiry column can only hold types without an expiry (a register of tractor
 * registrations). The first row of a type that has one fails the file in the check pass, before
 * anything is stored, as a missing column: one message instead of an error on every row.
 */
function expiryColumnNeeded(deps: ImportDeps, columns: readonly Column[], sheet: OpenedSpreadsheet, entry: { row: number; values: unknown[] }): ImportFailure | undefined {
  const converted = rowToRecord(columns, entry.values);
  if (converted.blank || typeof converted.record.type !== 'string') return undefined;
  const type = deps.reference.catalogue.resolve(converted.record.type);
  // An unknown type is the row's own error, reported with it.
  if (type === undefined || !type.reminders) return undefined;
  return new ImportFailure(
    'missing_columns',
    `缺少必填列：expiresOn（到期日期，如"有效期至"）；第 ${entry.row} 行的${type.nameZh}有有效期，需要此列（表头为第1行）/ ` +
      `missing required column: expiresOn (the expiry date, e.g. 有效期至); row ${entry.row} is a ${type.code}, which has an expiry (the header is row 1). Found: ${sheet.headers.join(', ')}`,
  );
}

type Save = (changes: Partial<ImportRecord> | ((current: ImportRecord) => Partial<ImportRecord>)) => Promise<ImportRecord>;

/** Pass 1: count rows and enforce limits before anything is stored; with all-or-nothing, check every row. */
async function checkPass(deps: ImportDeps, record: ImportRecord, principal: Principal, save: Save): Promise<{ rows: number } | 'failed'> {
  const { sheet, columns, missingExpiry } = await open(deps, record);
  await save({ format: sheet.format, ...(sheet.encoding !== undefined ? { encoding: sheet.encoding } : {}), ...(sheet.sheet !== undefined ? { sheet: sheet.sheet } : {}) });
  const seen = new RowKeySet();
  const errors: ImportError[] = [];
  let rows = 0;
  let rejected = 0;
  let buffer: Array<{ row: number; values: unknown[] }> = [];
  const flush = async () => {
    if (buffer.length === 0) return;
    const checked = checkChunk(deps, columns, buffer, principal, seen);
    // A check pass writes nothing: the cached rules are good enough to find the rows that cannot be planned.
    const prepared = await prepareUpload(deps, await plannedChunk(deps, checked, await currentCalendar(deps)), deps.clock.now());
    const stale = prepared.rejected.map((r) => ({ row: checked.rowOf[r.index] ?? 0, column: columnFor(columns, r.field), value: '', reason: r.reason }));
    errors.push(...checked.errors, ...stale);
    rejected += checked.rejectedRows + stale.length;
    buffer = [];
  };
  for await (const entry of sheet.rows) {
    rows += 1;
    const needed = missingExpiry ? expiryColumnNeeded(deps, columns, sheet, entry) : undefined;
    if (needed !== undefined) throw needed;
    if (rows > deps.limits.maxRows) {
      throw new ImportFailure('too_many_rows', `文件超过 ${deps.limits.maxRows} 行的上限，未导入任何数据；请拆分后分批上传 / the file has more than ${deps.limits.maxRows} rows; nothing was imported. Split it and upload the parts.`);
    }
    if (record.options.allOrNothing) {
      buffer.push(entry);
      if (buffer.length >= CHUNK_ROWS) await flush();
    }
    if (rows % 10_000 === 0) await save({ progressRows: rows });
  }
  await flush();
  if (record.options.allOrNothing && rejected > 0) {
    await deps.imports.putImportErrors(record, errors);
    await save({ counts: { ...emptyImportCounts(), rows, rejected } });
    throw new ImportFailure('rejected_rows', `${rejected} 行有误，按"全部或全不"方式整个文件未导入；请按 errors.csv 修改后重新上传 / ${rejected} rows are bad and all-or-nothing was asked, so nothing was imported; fix them (see errors.csv) and upload again`);
  }
  return { rows };
}

/** Pass 2: validate and store chunk by chunk from the checkpoint, overlapping the next chunk's checks with this one's writes. */
async function storePass(deps: ImportDeps, start: ImportRecord, principal: Principal, save: Save, stopAtMs?: number): Promise<'done' | 'paused'> {
  const { sheet, columns } = await open(deps, start);
  const seen = new RowKeySet(Math.max(start.totalRows ?? 0, 16));
  let pending = start.pending;
  let buffer: Array<{ row: number; values: unknown[] }> = [];
  let commit: Promise<void> = Promise.resolve();
  const process = async (rows: Array<{ row: number; values: unknown[] }>) => {
    const checked = checkChunk(deps, columns, rows, principal, seen);
    // Read before planning, settled after the write: see rules/type-writes.ts.
    const typeWrites = await beginTypeWrites(deps, checked.valid.map((v) => v.certificate.type));
    const basis = withFreshRules(await currentCalendar(deps), typeWrites);
    const now = deps.clock.now();
    const prepared = await prepareUpload(deps, await plannedChunk(deps, checked, basis), now);
    await commit;
    commit = commitChunk(deps, start, checked, prepared, pending, save, async (writes) => typeWrites?.settle(writes, basis, now));
    // Marked handled now; the failure still surfaces at the next await of `commit`.
    commit.catch(() => undefined);
    pending = undefined;
  };
  try {
    for await (const entry of sheet.rows) {
      if (entry.row <= start.checkpointRow) {
        // Already stored before an interruption: only remember its key, so later duplicates are still caught.
        rememberKey(deps, columns, entry, seen);
        continue;
      }
      buffer.push(entry);
      if (buffer.length >= CHUNK_ROWS) {
        await process(buffer);
        buffer = [];
        if (stopAtMs !== undefined && deps.clock.now().toMillis() >= stopAtMs) {
          await commit;
          return 'paused';
        }
      }
    }
    if (buffer.length > 0) await process(buffer);
    await commit;
    return 'done';
  } catch (error) {
    // The import is marked failed or interrupted only after the chunk in flight has settled, so its
    // checkpoint and counts describe what was really written.
    await commit.catch(() => undefined);
    throw error;
  }
}

/**
 * Plans a chunk's certificates before any of it is written. Planning is pure, so a row it cannot plan
 * fails the same way on every retry: the import fails naming the row, rather than staying unfinished.
 */
async function plannedChunk(deps: ImportDeps, checked: CheckedChunk, calendar: PlanningBasis) {
  try {
    return planAll(deps, checked.valid, deps.clock.now(), calendar);
  } catch (error) {
    if (!(error instanceof PlanningError)) throw error;
    const row = checked.rowOf[error.index] ?? 0;
    throw new ImportFailure(
      'planning_failed',
      `第 ${row} 行无法安排提醒，导入已停止，该行所在的 ${CHUNK_ROWS} 行一组及其后的行均未保存；请将此文件交给运维人员 / ` +
        `row ${row} could not be planned, so the import stopped; neither its group of ${CHUNK_ROWS} rows nor any later row was stored. ` +
        `Give this file to an operator (${error.message})`,
    );
  }
}

async function commitChunk(
  deps: ImportDeps,
  owner: Pick<ImportRecord, 'id' | 'createdAt'>,
  checked: CheckedChunk,
  prepared: Awaited<ReturnType<typeof prepareUpload>>,
  resumedPending: PendingChunk | undefined,
  save: Save,
  settle: (writes: StoredCertificate[]) => Promise<void>,
): Promise<void> {
  const stale = prepared.rejected.map((r) => ({ row: checked.rowOf[r.index] ?? 0, column: 'expiresOn', value: '', reason: r.reason }));
  const counts: ImportCounts = {
    ...emptyImportCounts(),
    rows: checked.rows,
    blank: checked.blank,
    rejected: checked.rejectedRows + stale.length,
  };
  addCounts(counts, prepared.counts);
  // A chunk interrupted after its writes began re-reads as "unchanged"; its first attempt's counts are the true ones.
  const chunkCounts = resumedPending !== undefined && resumedPending.fromRow === checked.fromRow ? resumedPending.counts : counts;
  await save({ pending: { fromRow: checked.fromRow, toRow: checked.toRow, counts: chunkCounts } });
  await deps.imports.putImportErrors(owner, [...checked.errors, ...stale]);
  await deps.store.putCertificates(prepared.writes);
  await settle(prepared.writes);
  await save((current) => {
    const total = { ...current.counts };
    for (const key of Object.keys(total) as Array<keyof ImportCounts>) total[key] += chunkCounts[key];
    return { pending: undefined, checkpointRow: checked.toRow, progressRows: current.progressRows + checked.rows + checked.blank, counts: total };
  });
}

function columnFor(columns: readonly Column[], field: string): string {
  return columns.find((c) => c.field === field)?.header ?? field;
}

function keyOf(deps: ImportDeps, record: Record<string, unknown>): string | undefined {
  const typeInput = typeof record.type === 'string' ? record.type : undefined;
  const number = typeof record.number === 'string' ? record.number.trim() : undefined;
  if (typeInput === undefined || number === undefined || number === '') return undefined;
  const type = deps.reference.catalogue.resolve(typeInput)?.code ?? typeInput;
  return `${type}#${number}`;
}

function rememberKey(deps: ImportDeps, columns: readonly Column[], entry: { row: number; values: unknown[] }, seen: RowKeySet): void {
  const converted = rowToRecord(columns, entry.values);
  if (converted.blank) return;
  const key = keyOf(deps, converted.record);
  if (key !== undefined) seen.addOrGetFirstRow(key, entry.row);
}

/** Repair, validate, check scope and duplicates for a chunk of rows. */
function checkChunk(
  deps: ImportDeps,
  columns: readonly Column[],
  rows: ReadonlyArray<{ row: number; values: unknown[] }>,
  principal: Principal,
  seen: RowKeySet,
): CheckedChunk {
  const errors: ImportError[] = [];
  const records: unknown[] = [];
  const recordRows: number[] = [];
  const recordValues: unknown[][] = [];
  const issuesOf: Array<ReturnType<typeof rowToRecord>['issues']> = [];
  const rejectedRows = new Set<number>();
  let blank = 0;
  for (const { row, values } of rows) {
    const converted = rowToRecord(columns, values);
    if (converted.blank) {
      blank += 1;
      continue;
    }
    const key = keyOf(deps, converted.record);
    const firstRow = key === undefined ? undefined : seen.addOrGetFirstRow(key, row);
    if (firstRow !== undefined) {
      errors.push({
        row,
        column: columnFor(columns, 'number'),
        value: typeof converted.record.number === 'string' ? converted.record.number : '',
        reason: `与第 ${firstRow} 行是同一证照（类型和编号相同），未合并；请删除重复行 / the same certificate (type and number) as row ${firstRow}; not merged — remove the duplicate row`,
      });
      rejectedRows.add(row);
      continue;
    }
    for (const issue of converted.issues) {
      errors.push({ row, column: issue.column, value: issue.value, reason: issue.reason });
      rejectedRows.add(row);
    }
    records.push(converted.record);
    recordRows.push(row);
    recordValues.push(values);
    issuesOf.push(converted.issues);
  }
  const { valid, rejected } = validateCertificates(records, lookupsFrom(deps.reference));
  for (const rejection of rejected) {
    const issues = issuesOf[rejection.index] ?? [];
    const row = recordRows[rejection.index] ?? 0;
    if (isFieldReported(issues, rejection.field)) continue;
    const column = columnFor(columns, rejection.field);
    const cell = columns.find((c) => c.field === rejection.field);
    const raw = cell === undefined ? undefined : recordValues[rejection.index]?.[cell.index];
    errors.push({ row, column, value: raw === undefined || raw === null ? '' : cellText(raw), reason: rejection.reason });
    rejectedRows.add(row);
  }
  const kept: CheckedChunk['valid'] = [];
  const rowOf: number[] = [];
  for (const entry of valid) {
    const row = recordRows[entry.index] ?? 0;
    if (rejectedRows.has(row)) continue;
    const type = deps.reference.catalogue.get(entry.certificate.type);
    const decision = mayTouchType(principal, entry.certificate.type, type?.authority ?? '');
    if (!decision.allowed) {
      errors.push({ row, column: columnFor(columns, 'type'), value: entry.certificate.type, reason: decision.reason });
      rejectedRows.add(row);
      continue;
    }
    rowOf.push(row);
    kept.push({ index: rowOf.length - 1, certificate: entry.certificate });
  }
  errors.sort((a, b) => a.row - b.row);
  const first = rows[0]?.row ?? 0;
  const last = rows[rows.length - 1]?.row ?? first;
  return { fromRow: first, toRow: last, valid: kept, rowOf, errors, rejectedRows: rejectedRows.size, blank, rows: rows.length - blank };
}
