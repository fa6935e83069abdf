/**
 * Why a file cannot be read as a spreadsheet, in Chinese and English, shared by the CSV and the xlsx
 * readers. Reading the file again gives the same answer, so none of these is retryable.
 */
export type SpreadsheetErrorCode =
  | 'invalid_options'
  | 'empty_file'
  | 'no_header'
  | 'too_large'
  | 'too_large_unpacked'
  | 'cell_too_long'
  | 'too_many_columns'
  | 'too_many_shared_strings'
  | 'dtd_refused'
  | 'not_a_spreadsheet'
  | 'legacy_xls'
  | 'unsupported_encoding'
  | 'invalid_encoding'
  | 'malformed_csv'
  | 'corrupt_xlsx'
  | 'unknown_sheet';

/**
 * The file cannot be read as a spreadsheet. Failures of the byte source itself (a dropped S3
 * connection) are rethrown as they are, for the caller's retry policy to judge.
 */
export class SpreadsheetError extends Error {
  override readonly name = 'SpreadsheetError';
  readonly retryable = false;
  constructor(
    readonly code: SpreadsheetErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function fail(code: SpreadsheetErrorCode, zh: string, en: string, cause?: unknown): SpreadsheetError {
  return new SpreadsheetError(code, `${zh} / ${en}`, cause === undefined ? undefined : { cause });
}

/** A size for people: `512.0 MB`, or bytes below a megabyte. */
export function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${bytes} bytes`;
}

const SPLIT = { zh: '请拆分成几个文件后分别上传', en: 'split it into several files and upload each' };

export function unpackedTooLarge(limit: number): SpreadsheetError {
  return fail(
    'too_large_unpacked',
    `文件解压后过大（超过 ${sizeText(limit)} 的上限）；${SPLIT.zh}`,
    `file too large when unpacked (over the limit of ${sizeText(limit)}); ${SPLIT.en}`,
  );
}

export function partTooLarge(part: string, limit: number): SpreadsheetError {
  return fail(
    'too_large_unpacked',
    `文件解压后过大：其中的 ${part} 超过 ${sizeText(limit)} 的上限；${SPLIT.zh}`,
    `file too large when unpacked: its part ${part} is over the limit of ${sizeText(limit)}; ${SPLIT.en}`,
  );
}

export function ratioTooHigh(ratio: number): SpreadsheetError {
  return fail(
    'too_large_unpacked',
    `文件解压后过大：解压后超过压缩大小的 ${ratio} 倍，真实的表格不会这样；请在 Excel 中打开并重新保存，或另存为“CSV UTF-8（逗号分隔）”后上传`,
    `file too large when unpacked: it inflates to more than ${ratio} times its compressed size, which no real spreadsheet does; open it in Excel and save it again, or save it as "CSV UTF-8 (Comma delimited)", then upload`,
  );
}

/** `row` when known: the xlsx shared-strings table and XML markup have none. */
export function cellTooLong(limit: number, row?: number): SpreadsheetError {
  const where = row === undefined ? { zh: '文件中有', en: 'the file holds' } : { zh: `第 ${row} 行有`, en: `row ${row} holds` };
  return fail(
    'cell_too_long',
    `${where.zh}一个单元格或文本超过 ${limit} 个字符的上限（Excel 单元格最多 32767 个字符）；请检查该单元格`,
    `${where.en} a cell or text longer than the limit of ${limit} characters (an Excel cell holds at most 32,767); check that cell`,
  );
}

export function tooManyColumns(limit: number, row?: number): SpreadsheetError {
  const where = row === undefined ? { zh: '有一行', en: 'a row' } : { zh: `第 ${row} 行`, en: `row ${row}` };
  return fail(
    'too_many_columns',
    `${where.zh}超过 ${limit} 列的上限（Excel 最多 16384 列，到 XFD 列）；导入只需要 8 列，请删去多余的列后重新上传`,
    `${where.en} has more than ${limit} columns, the limit (Excel has at most 16,384, up to column XFD); an import needs 8 columns, so remove the others and upload again`,
  );
}

export function tooManySharedStrings(what: { count: number } | { chars: number }): SpreadsheetError {
  const limit = 'count' in what ? { zh: `${what.count} 条`, en: `${what.count} entries` } : { zh: `${what.chars} 个字符`, en: `${what.chars} characters` };
  return fail(
    'too_many_shared_strings',
    `工作簿的共享文本表过大（超过 ${limit.zh}）；${SPLIT.zh}，或另存为“CSV UTF-8（逗号分隔）”后上传`,
    `the workbook's shared-strings table is too large (over ${limit.en}); ${SPLIT.en}, or save it as "CSV UTF-8 (Comma delimited)" and upload that`,
  );
}

export function dtdRefused(part: string): SpreadsheetError {
  return fail(
    'dtd_refused',
    `xlsx 文件的 ${part} 含有 DTD（文档类型声明），Excel 从不写入，出于安全原因不予读取；请在 Excel 中重新保存后上传`,
    `the xlsx part ${part} holds a DTD (document type declaration), which Excel never writes; it is refused for safety. Save the file again in Excel and upload it`,
  );
}
