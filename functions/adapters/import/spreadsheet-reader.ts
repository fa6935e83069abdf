/**
 * Reads an uploaded spreadsheet (CSV in UTF-8 or GBK/GB18030, or xlsx) as a header and a stream of
 * rows numbered as Excel shows them. Memory stays flat whatever the number of rows: bytes are
 * decoded and parsed as they arrive, and rows are handed on one at a time.
 *
 * What a row holds:
 *   - CSV cells are strings.
 *   - xlsx cells are strings, numbers, booleans or `Date`s (UTC midnight of the cell's day).
 *   - Rich text becomes its plain text, a formula becomes its cached result, and an error cell
 *     becomes its code (`#N/A`).
 *   - `values[i]` belongs under `headers[i]`.
 *
 * Which row is the header: the first row with any content, normally row 1. Rows are numbered as
 * Excel numbers them, the header included:
 *   - CSV: record n of the file is row n. A blank line is a row, because Excel shows it as one, and
 *     a quoted cell spanning several lines is one row. So row numbers count records, not lines.
 *   - xlsx: the row number stored in the sheet; rows Excel never wrote (blank ones) do not appear.
 * Blank rows are passed on, so the caller can count them as skipped.
 *
 * xlsx limits (the reading itself is in xlsx-workbook.ts):
 *   - The shared-strings table (every distinct text in the workbook) is held in memory, up to
 *     `limits.maxSharedStrings` entries and `limits.maxSharedStringChars` characters.
 *   - Every other bound on what a file may make the reader inflate, hold or write is in
 *     `SpreadsheetLimits` (core/import-limits.ts); past one, reading fails with a `SpreadsheetError`
 *     saying which, in Chinese and English. CSV rows are held to the same column and cell bounds.
 *   - Excel writes sheets before that table and the styles, and exceljs writes the workbook part
 *     last, so the wanted sheet is then first copied, decompressed, to a temporary file: /tmp needs
 *     room for the uncompressed sheet (at most `limits.maxPartBytes`). A sheet stored after those
 *     parts is read straight from the ZIP.
 *   - The temporary files are deleted when the sheet has been read, on an error, and when reading
 *     stops early (`break`, `close()`).
 *   - A sheet written in one pass (its sizes after its data, as streaming writers do) is, rarely,
 *     refused as damaged when its compressed bytes happen to look like a ZIP marker; see xlsx-workbook.ts.
 *   - A number in a date or time format becomes a `Date`, in the workbook's date system (1900 or
 *     1904). Numbers in other formats stay numbers, and a date serial typed as a plain number is
 *     read in the 1900 system like any other.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { Readable, Transform, pipeline, type TransformCallback } from 'node:stream';
import * as z from 'zod';
import { DEFAULT_SPREADSHEET_LIMITS, type SpreadsheetLimits } from '../../core/import-limits.js';
import { cellText, isBlankRow } from '../../core/spreadsheet-rows.js';
import { cellTooLong, fail, sizeText, SpreadsheetError, tooManyColumns } from './spreadsheet-errors.js';
import type * as XlsxWorkbook from './xlsx-workbook.js';

export { SpreadsheetError, type SpreadsheetErrorCode } from './spreadsheet-errors.js';

export type SpreadsheetFormat = 'csv' | 'xlsx';

export const spreadsheetOptionsSchema = z.object({
  /** Default: sniffed from the content (ZIP → xlsx, text → CSV); the file name's extension is not trusted. */
  format: z.enum(['csv', 'xlsx']).optional(),
  /** CSV only. `gbk` is read as GB18030, its superset. Default `auto`. */
  encoding: z.enum(['auto', 'utf-8', 'gb18030', 'gbk']).optional(),
  /** xlsx only: a sheet's name (case and surrounding spaces do not matter). Default: the first visible sheet. */
  sheet: z.string().trim().min(1).optional(),
  /** Refuse a file larger than this many bytes (as stored: the compressed size of an xlsx). */
  maxBytes: z.number().int().positive().optional(),
  /** What the content may make the reader inflate, hold or write; each bound defaults to `DEFAULT_SPREADSHEET_LIMITS`. */
  limits: z
    .object({
      maxInflatedBytes: z.number().int().positive(),
      maxPartBytes: z.number().int().positive(),
      maxInflationRatio: z.number().positive(),
      ratioFloorBytes: z.number().int().nonnegative(),
      maxCellChars: z.number().int().positive(),
      maxColumns: z.number().int().positive(),
      maxSharedStrings: z.number().int().positive(),
      maxSharedStringChars: z.number().int().positive(),
    })
    .partial()
    .optional(),
});
export type SpreadsheetOptions = z.input<typeof spreadsheetOptionsSchema>;

export type SpreadsheetInput =
  | { path: string }
  /** Called once per `openSpreadsheet`. */
  | { stream: () => NodeJS.ReadableStream | Readable };

export interface SpreadsheetRow {
  /** The row number Excel shows; the header row is normally 1. */
  row: number;
  values: unknown[];
}

export interface OpenSpreadsheet {
  format: SpreadsheetFormat;
  /** CSV: the encoding the file was decoded with (`utf-8` or `gb18030`). */
  encoding?: string;
  /** xlsx: the name of the sheet being read. */
  sheet?: string;
  headers: string[];
  /** The header's row number: 1 unless blank rows come before it. */
  headerRow: number;
  /** The rows after the header. Iterate once; leaving the loop early closes the file. */
  rows: AsyncIterable<SpreadsheetRow>;
  /**
   * Stops reading and releases the file, and an xlsx's temporary files. Call it when the rows
   * will not be read to the end, e.g. when the headers are refused. Harmless after the last row.
   */
  close(): Promise<void>;
}

/** How much of a CSV decides its encoding. */
const SNIFF_BYTES = 64 * 1024;
/** A record this long can only come from a quote that never closes; stop before it fills memory. */
const MAX_RECORD_CHARS = 1024 * 1024;

export async function openSpreadsheet(input: SpreadsheetInput, options: SpreadsheetOptions = {}): Promise<OpenSpreadsheet> {
  const parsed = spreadsheetOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw fail('invalid_options', `读取选项有误：${z.prettifyError(parsed.error)}`, `invalid read options: ${z.prettifyError(parsed.error)}`, parsed.error);
  }
  const settings = parsed.data;
  const limits: SpreadsheetLimits = { ...DEFAULT_SPREADSHEET_LIMITS, ...settings.limits };

  const source = await openSource(input, settings.maxBytes);
  const bytes = await peek(source, settings.maxBytes);
  try {
    if (bytes.head.length === 0) throw fail('empty_file', '文件是空的（0 字节）', 'the file is empty (0 bytes)');
    const format = settings.format ?? sniffFormat(bytes.head);
    if (format === 'xlsx') return await openXlsx(bytes, settings.sheet, limits);
    return await openCsv(bytes, settings.encoding ?? 'auto', limits);
  } catch (error) {
    bytes.close();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Bytes

async function openSource(input: SpreadsheetInput, maxBytes: number | undefined): Promise<Readable> {
  if ('path' in input) {
    // The size is known up front: refuse before reading a byte.
    const { size } = await stat(input.path);
    if (maxBytes !== undefined && size > maxBytes) throw tooLarge(maxBytes);
    return createReadStream(input.path);
  }
  const stream = input.stream();
  return stream instanceof Readable ? stream : new Readable().wrap(stream);
}

function tooLarge(maxBytes: number): SpreadsheetError {
  const size = sizeText(maxBytes);
  return fail('too_large', `文件超过了大小上限（${size}）；请拆分成几个文件后分别上传`, `the file is larger than the limit (${size}); split it into several files and upload each`);
}

interface PeekedBytes {
  /** The first `SNIFF_BYTES` or more, or the whole file if it is shorter. */
  head: Buffer;
  /** The head included. */
  complete: boolean;
  /** The whole file, head first, with the size limit enforced. */
  body: Readable;
  /** Whether an error came from the byte source (to pass on as it is) rather than from the content. */
  isSourceError(error: unknown): boolean;
  /** Closes the source, whether or not `body` was ever read. */
  close(): void;
}

/** Reads the head for sniffing, then hands on one stream of the whole file: the source is opened once. */
async function peek(source: Readable, maxBytes: number | undefined): Promise<PeekedBytes> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const sourceErrors = new WeakSet<object>();
  let total = 0;

  const next = async (): Promise<Buffer | undefined> => {
    let result: IteratorResult<Buffer | string>;
    try {
      result = await iterator.next();
    } catch (error) {
      if (typeof error === 'object' && error !== null) sourceErrors.add(error);
      throw error;
    }
    if (result.done) return undefined;
    const chunk = typeof result.value === 'string' ? Buffer.from(result.value) : result.value;
    total += chunk.length;
    if (maxBytes !== undefined && total > maxBytes) throw tooLarge(maxBytes);
    return chunk;
  };

  const headChunks: Buffer[] = [];
  let headLength = 0;
  let complete = false;
  try {
    while (headLength < SNIFF_BYTES) {
      const chunk = await next();
      if (chunk === undefined) {
        complete = true;
        break;
      }
      headChunks.push(chunk);
      headLength += chunk.length;
    }
  } catch (error) {
    source.destroy();
    throw error;
  }
  const head = Buffer.concat(headChunks);

  async function* all(): AsyncGenerator<Buffer> {
    try {
      if (head.length > 0) yield head;
      if (complete) return;
      for (let chunk = await next(); chunk !== undefined; chunk = await next()) yield chunk;
    } finally {
      // Also runs when the consumer stops early: close the file or connection.
      await iterator.return?.();
    }
  }

  const body = Readable.from(all(), { objectMode: false });
  return {
    head,
    complete,
    body,
    isSourceError: (error) => typeof error === 'object' && error !== null && sourceErrors.has(error),
    close: () => {
      body.destroy();
      source.destroy();
    },
  };
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const EMPTY_ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
/** OLE compound file: legacy .xls, and also any password-protected .xlsx. */
const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

function sniffFormat(head: Buffer): SpreadsheetFormat {
  if (startsWith(head, ZIP_MAGIC) || startsWith(head, EMPTY_ZIP_MAGIC)) return 'xlsx';
  return 'csv';
}

function startsWith(buffer: Buffer, prefix: Buffer): boolean {
  return buffer.length >= prefix.length && buffer.subarray(0, prefix.length).equals(prefix);
}

/** Content that is no CSV at all, with a message saying what it is and what to upload instead. */
function refuseNonText(head: Buffer): void {
  if (startsWith(head, OLE_MAGIC)) {
    throw fail(
      'legacy_xls',
      '这是旧版 Excel（.xls）文件或设置了密码的工作簿，无法读取；请在 Excel 中去掉密码，“另存为” .xlsx 或 “CSV UTF-8（逗号分隔）”后重新上传',
      'this is a legacy Excel .xls file or a password-protected workbook, which cannot be read; remove the password and use Save As .xlsx or "CSV UTF-8 (Comma delimited)", then upload again',
    );
  }
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    throw fail(
      'unsupported_encoding',
      '文件是 UTF-16 编码（Excel 的“Unicode 文本”格式）；请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后重新上传',
      'the file is UTF-16 text (Excel\'s "Unicode Text"); use Save As "CSV UTF-8 (Comma delimited)" in Excel and upload again',
    );
  }
  if (head.includes(0)) {
    throw fail(
      'not_a_spreadsheet',
      '文件不是 CSV 或 xlsx 表格（含有二进制内容）；请上传 .xlsx 或 .csv 文件',
      'the file is neither CSV nor xlsx (it holds binary data); upload an .xlsx or .csv file',
    );
  }
}

/** Reads rows until the first with content: the header. What follows is handed on unread. */
async function splitHeader(
  rows: AsyncGenerator<SpreadsheetRow>,
  noHeader: () => SpreadsheetError,
): Promise<Pick<OpenSpreadsheet, 'headers' | 'headerRow' | 'rows' | 'close'>> {
  for (;;) {
    const result = await rows.next();
    if (result.done) throw noHeader();
    if (isBlankRow(result.value.values)) continue;
    return {
      headers: result.value.values.map(cellText),
      headerRow: result.value.row,
      rows: once(rows),
      close: async () => {
        await rows.return(undefined);
      },
    };
  }
}

function once<T>(iterator: AsyncGenerator<T>): AsyncIterable<T> {
  let taken = false;
  return {
    [Symbol.asyncIterator]() {
      if (taken) throw new Error('the rows of a spreadsheet can be iterated only once; open it again to re-read');
      taken = true;
      return iterator;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CSV

async function openCsv(bytes: PeekedBytes, requested: 'auto' | 'utf-8' | 'gb18030' | 'gbk', limits: SpreadsheetLimits): Promise<OpenSpreadsheet> {
  refuseNonText(bytes.head);
  const encoding = requested === 'auto' ? detectEncoding(bytes) : requested === 'utf-8' ? 'utf-8' : 'gb18030';
  const decoder: Transform = encoding === 'utf-8' ? new Utf8Check() : new Gb18030Decoder();
  // Loaded on the first CSV, not with the module: a process that only ever reads xlsx never evaluates it.
  const { parse } = await import('csv-parse');
  const parser = parse({
    bom: true,
    relax_column_count: true,
    // Excel opens `a "b" c` as the text it shows; so does this reader.
    relax_quotes: true,
    skip_empty_lines: false,
    max_record_size: MAX_RECORD_CHARS,
  });
  // pipeline, not pipe: an error anywhere (size limit, bad bytes, a dropped connection) must reach the reader of the rows.
  pipeline(bytes.body, decoder, parser, () => undefined);

  const header = await splitHeader(csvRows(parser, bytes, limits), () =>
    fail('no_header', '文件中没有表头行：所有行都是空的', 'the file has no header row: every row is blank'),
  );
  return { format: 'csv', encoding, ...header };
}

async function* csvRows(parser: AsyncIterable<unknown>, bytes: PeekedBytes, limits: SpreadsheetLimits): AsyncGenerator<SpreadsheetRow> {
  // Every record is a row, blank ones included (skip_empty_lines is off): counting them is csv-parse's
  // `info.records`, without the cost of an info object per record.
  let row = 0;
  try {
    for await (const record of parser) {
      const values = record as string[];
      row += 1;
      // The same bounds as an xlsx, so a file is refused alike whichever way it was saved.
      if (values.length > limits.maxColumns) throw tooManyColumns(limits.maxColumns, row);
      for (const value of values) if (value.length > limits.maxCellChars) throw cellTooLong(limits.maxCellChars, row);
      yield { row, values };
    }
  } catch (error) {
    throw explainCsvError(error, bytes, limits);
  } finally {
    bytes.close();
  }
}

function explainCsvError(error: unknown, bytes: PeekedBytes, limits: SpreadsheetLimits): unknown {
  if (error instanceof SpreadsheetError || bytes.isSourceError(error)) return error;
  // csv-parse counts the records it completed; the one that failed is the next, numbered as Excel numbers rows.
  const { code, records, column } = error as { code?: unknown; records?: unknown; column?: unknown };
  const row = typeof records === 'number' ? records + 1 : undefined;
  // A record stopped for its length after more cells than a row may have is a very wide row, not a broken quote.
  if (code === 'CSV_MAX_RECORD_SIZE' && typeof column === 'number' && column > limits.maxColumns) return tooManyColumns(limits.maxColumns, row);
  const where = row === undefined ? { zh: '', en: '' } : { zh: `第 ${row} 行`, en: ` in row ${row}` };
  if (code === 'CSV_QUOTE_NOT_CLOSED' || code === 'CSV_MAX_RECORD_SIZE') {
    return fail(
      'malformed_csv',
      `CSV ${where.zh}有一个引号（"）没有闭合，其后的内容都被当成了同一个单元格；请检查该行的引号`,
      `a quote (") in the CSV${where.en} is never closed, so everything after it reads as one cell; check the quotes in that row`,
      error,
    );
  }
  const detail = error instanceof Error ? error.message : String(error);
  return fail('malformed_csv', `CSV ${where.zh}格式有误：${detail}`, `the CSV is malformed${where.en}: ${detail}`, error);
}

/**
 * UTF-8 BOM → UTF-8. Otherwise the head (cut back to a whole character) decides: valid UTF-8 →
 * UTF-8, else GB18030, which also reads GBK and GB2312. A head of plain ASCII says nothing, and
 * UTF-8 is assumed. A GBK byte later on then stops the read with `invalid_encoding` instead of
 * storing mangled names.
 */
function detectEncoding(bytes: PeekedBytes): 'utf-8' | 'gb18030' {
  const { head } = bytes;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  const sample = head.length > SNIFF_BYTES ? head.subarray(0, SNIFF_BYTES) : head;
  const whole = bytes.complete && sample.length === head.length;
  return isUtf8(whole ? sample : withoutTrailingPartialCharacter(sample)) ? 'utf-8' : 'gb18030';
}

/** `bytes` without a UTF-8 sequence cut off at its end. */
function withoutTrailingPartialCharacter(bytes: Buffer): Buffer {
  for (let back = 1; back <= Math.min(4, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: keep looking for the lead byte
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? bytes.subarray(0, bytes.length - back) : bytes;
  }
  return bytes;
}

/**
 * GB18030 (so also GBK and GB2312) to text, by Node's built-in decoder (official builds, Lambda's
 * included, carry full ICU). With `stream`, a character whose bytes are split between chunks is
 * held back until its last byte arrives. Bytes that are no GB18030 become U+FFFD.
 */
class Gb18030Decoder extends Transform {
  readonly #decoder = new TextDecoder('gb18030');

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    callback(null, this.#decoder.decode(chunk, { stream: true }));
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.#decoder.decode());
  }
}

/**
 * Passes UTF-8 bytes through unchanged (csv-parse reads bytes) and stops at the first invalid
 * sequence. A decoder would instead turn bad bytes into U+FFFD, and a GBK name would then be
 * stored as ���.
 */
class Utf8Check extends Transform {
  #carry: Buffer = Buffer.alloc(0);
  #offset = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const bytes = this.#carry.length > 0 ? Buffer.concat([this.#carry, chunk]) : chunk;
    const whole = withoutTrailingPartialCharacter(bytes);
    if (!isUtf8(whole)) {
      callback(this.#invalid(whole));
      return;
    }
    this.#carry = Buffer.from(bytes.subarray(whole.length));
    this.#offset += whole.length;
    callback(null, whole);
  }

  override _flush(callback: TransformCallback): void {
    callback(this.#carry.length > 0 ? this.#invalid(this.#carry) : null);
  }

  #invalid(bytes: Buffer): SpreadsheetError {
    const at = this.#offset + firstInvalidUtf8(bytes);
    return fail(
      'invalid_encoding',
      `文件按 UTF-8 读取，但第 ${at} 字节处不是 UTF-8 字符；如果文件是 GBK/GB18030 编码，请指定编码 gb18030，或在 Excel 中另存为“CSV UTF-8（逗号分隔）”`,
      `the file is read as UTF-8, but byte ${at} is not UTF-8; if the file is GBK/GB18030, give the encoding gb18030, or use Save As "CSV UTF-8 (Comma delimited)" in Excel`,
    );
  }
}

/** The offset of the first byte that starts an invalid (or cut-off) UTF-8 sequence. Runs only on the error path. */
function firstInvalidUtf8(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i]!;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const length = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (length === 0 || !isUtf8(bytes.subarray(i, i + length))) return i;
    i += length;
  }
  return bytes.length;
}

// ---------------------------------------------------------------------------------------------
// xlsx

async function openXlsx(bytes: PeekedBytes, sheet: string | undefined, limits: SpreadsheetLimits): Promise<OpenSpreadsheet> {
  if (!startsWith(bytes.head, ZIP_MAGIC)) throw corrupt();
  const state: { sheet?: string } = {};
  // Loaded on the first xlsx, not with the module: the unzip's inflate tables and the XML parser are
  // built when evaluated, and a process that only ever reads CSV never needs them.
  const workbook = await import('./xlsx-workbook.js');
  const header = await splitHeader(xlsxRows(workbook, bytes, sheet, state, limits), () =>
    fail(
      'no_header',
      `工作表「${state.sheet ?? ''}」中没有表头行：所有行都是空的`,
      `sheet "${state.sheet ?? ''}" has no header row: every row is blank`,
    ),
  );
  return { format: 'xlsx', sheet: state.sheet, ...header };
}

function corrupt(cause?: unknown): SpreadsheetError {
  return fail(
    'corrupt_xlsx',
    'xlsx 文件已损坏或不完整，无法读取；请在 Excel 中打开并重新保存，或另存为“CSV UTF-8（逗号分隔）”后上传',
    'the xlsx file is damaged or incomplete and cannot be read; open it in Excel and save it again, or save it as "CSV UTF-8 (Comma delimited)", then upload',
    cause,
  );
}

/** The sheet's rows, with the workbook reader's failures told as the reader's errors. */
async function* xlsxRows(
  { workbookRows, UnknownSheetError }: typeof XlsxWorkbook,
  bytes: PeekedBytes,
  wanted: string | undefined,
  state: { sheet?: string },
  limits: SpreadsheetLimits,
): AsyncGenerator<SpreadsheetRow> {
  try {
    yield* workbookRows(
      bytes.body,
      wanted,
      (name) => {
        state.sheet = name;
      },
      limits,
    );
  } catch (error) {
    if (error instanceof UnknownSheetError) {
      throw fail(
        'unknown_sheet',
        `工作簿中没有名为「${wanted}」的工作表；现有工作表：${error.sheets.join('、')}`,
        `the workbook has no sheet named "${wanted}"; its sheets are: ${error.sheets.join(', ')}`,
      );
    }
    if (error instanceof SpreadsheetError || bytes.isSourceError(error)) throw error;
    throw corrupt(error);
  } finally {
    bytes.close();
  }
}
