/**
 * From a spreadsheet row to an upload record: which column holds which field, and the repair of
 * the damage Excel does to cells (stray and full-width characters, phones in scientific notation,
 * date serials, dates typed a dozen ways).
 *
 * A repair is made only when the cell can mean one thing. A cell that cannot be repaired becomes a
 * `CellIssue` and its field is left out of the record. Everything else is passed on, cleaned, for
 * `validateCertificates` to judge: this module raises an issue only where it knows something the
 * validator cannot (Excel turned the phone into 1.39E+10; 03/01/2026 has two readings), so each
 * problem is reported once, by the code that understands it.
 *
 * How the import pipeline combines the two:
 *   - a row with `blank: true` is counted as skipped, never as an error;
 *   - otherwise the record goes through `validateCertificates`;
 *   - the row is rejected if it has cell issues or rejections. Its report is the cell issues plus
 *     the validator's rejections for every field the cell issues do not name (`isFieldReported`).
 *     Those fields were left out of the record, so the validator reports them as missing.
 *
 * Per-row cost matters (a file may hold 1,000,000 rows). Regular expressions are compiled once,
 * here. Clean text takes a fast path with no copy. Dates are converted with integer arithmetic,
 * not luxon.
 */
import type { IsoDate } from './model.js';
import { civilFromDay, dayFromCivil, daysInMonth } from './civil-days.js';

export type FieldPath = 'type' | 'number' | 'holder.name' | 'holder.id' | 'phone' | 'township' | 'issuedOn' | 'expiresOn';

export const FIELD_PATHS: readonly FieldPath[] = [
  'type',
  'number',
  'holder.name',
  'holder.id',
  'phone',
  'township',
  'issuedOn',
  'expiresOn',
];

/**
 * The fields every file must have a column for: all but the holder's identifier (optional) and the
 * expiry, which a register of types without an expiry (tractor registrations) has no column for. A
 * file without an expiry column is fine only when none of its rows is of a type with an expiry; that
 * depends on the rows, so the importer decides it (`HeaderMapping.missingExpiry`).
 */
export const REQUIRED_FIELDS: readonly FieldPath[] = FIELD_PATHS.filter((field) => field !== 'holder.id' && field !== 'expiresOn');

// ---------------------------------------------------------------------------------------------
// Headers

/**
 * The headers bureaus use for each field, and the API's own names. Matching ignores case,
 * whitespace, `_` `.` `-`, quotes, `*` marks and bracketed notes, so each spelling is listed once.
 */
const HEADER_NAMES: Record<FieldPath, readonly string[]> = {
  type: ['type', '证照类型', '证照名称', '证件类型', '许可证类型'],
  number: ['number', '证照编号', '证书编号', '许可证编号', '证号', '编号'],
  'holder.name': ['holder.name', 'holderName', '持证主体', '持证人', '单位名称', '企业名称', '持证单位', '姓名'],
  'holder.id': ['holder.id', 'holderId', '统一社会信用代码', '身份证号', '身份证号码', '证件号码', '信用代码'],
  phone: ['phone', '联系电话', '手机号', '手机号码', '联系方式', '电话'],
  township: ['township', '所属乡镇', '乡镇', '乡镇（街道）'],
  issuedOn: ['issuedOn', '发证日期', '颁发日期', '签发日期'],
  expiresOn: ['expiresOn', '有效期至', '到期日期', '有效期截止日期', '截止日期', '有效期止'],
};

const BRACKETED = /[([【〔〈《][^)\]】〕〉》]*[)\]】〕〉》]/g;
const HEADER_NOISE = /[\s\u200B-\u200D\u2060\uFEFF"'“”‘’「」『』*_.\-:]/g;

/**
 * The comparison key of a header. NFKC folds full-width letters, spaces, brackets and `＊`; then
 * bracketed notes (`联系电话（手机）`), quotes, `*` marks, whitespace (BOM and zero-width too) and
 * `_` `.` `-` `:` go, and case is folded.
 */
export function headerKey(header: string): string {
  return header.normalize('NFKC').replace(BRACKETED, '').replace(HEADER_NOISE, '').toLowerCase();
}

const FIELD_BY_HEADER_KEY: ReadonlyMap<string, FieldPath> = new Map(
  FIELD_PATHS.flatMap((field) => HEADER_NAMES[field].map((name) => [headerKey(name), field] as const)),
);

export interface Column {
  /** 0-based position in the row's values. */
  index: number;
  /** The header as it appears in the file: the `column` of an error report. */
  header: string;
  /** Absent for a column this module does not read. */
  field?: FieldPath;
}

export interface HeaderMapping {
  columns: Column[];
  /** Required fields that no column provides. */
  missing: FieldPath[];
  /** No column gives the expiry: the file is usable only if every row is of a type without one. */
  missingExpiry: boolean;
  /**
   * Fields that two or more columns claim, with all of their headers. Only the first such column
   * gets the `field`; the importer should refuse the file rather than guess which one is meant.
   */
  duplicates: Array<{ field: FieldPath; headers: string[] }>;
  /** Non-blank headers that match no field. */
  ignored: string[];
}

/**
 * Templates often name one column by two titles, `统一社会信用代码/身份证号` or `有效期至/到期日期`: such a header
 * belongs to a field when every part that names a field names the same one.
 */
function fieldOfCombinedHeader(header: string): FieldPath | undefined {
  const parts = header.normalize('NFKC').split(/[/|、]|或/);
  if (parts.length < 2) return undefined;
  const fields = new Set(parts.map((part) => FIELD_BY_HEADER_KEY.get(headerKey(part))).filter((f): f is FieldPath => f !== undefined));
  return fields.size === 1 ? [...fields][0] : undefined;
}

export function mapHeaders(headers: readonly string[]): HeaderMapping {
  const columns: Column[] = [];
  const headersByField = new Map<FieldPath, string[]>();
  const ignored: string[] = [];

  headers.forEach((header, index) => {
    const key = headerKey(header);
    const field = FIELD_BY_HEADER_KEY.get(key) ?? fieldOfCombinedHeader(header);
    if (field === undefined) {
      if (key.length > 0) ignored.push(header);
      columns.push({ index, header });
      return;
    }
    const claimed = headersByField.get(field);
    if (claimed) {
      claimed.push(header);
      columns.push({ index, header });
    } else {
      headersByField.set(field, [header]);
      columns.push({ index, header, field });
    }
  });

  return {
    columns,
    missing: REQUIRED_FIELDS.filter((field) => !headersByField.has(field)),
    missingExpiry: !headersByField.has('expiresOn'),
    duplicates: [...headersByField].filter(([, names]) => names.length > 1).map(([field, names]) => ({ field, headers: names })),
    ignored,
  };
}

// ---------------------------------------------------------------------------------------------
// Rows

export interface CellIssue {
  field: FieldPath;
  /** The column header as it appears in the file. */
  column: string;
  /** The cell as `cellText` shows it. */
  value: string;
  reason: string;
}

export interface RowConversion {
  /** The API's record shape: `{ type, number, holder: { name, id? }, phone, township, issuedOn, expiresOn }`. */
  record: Record<string, unknown>;
  /** Cells that could not be repaired; their fields are absent from `record`. */
  issues: CellIssue[];
  /** Every cell is empty: the row is skipped, not rejected. */
  blank: boolean;
}

/**
 * Builds the record of one row. Empty cells leave their field out, so the validator reports a
 * missing value in its own words; an optional empty `holder.id` is simply absent.
 */
export function rowToRecord(columns: readonly Column[], values: readonly unknown[]): RowConversion {
  const holder: Record<string, unknown> = {};
  const record: Record<string, unknown> = { holder };
  const issues: CellIssue[] = [];
  if (isBlankRow(values)) return { record, issues, blank: true };

  for (const column of columns) {
    const field = column.field;
    if (field === undefined) continue;
    const raw = values[column.index];
    const converted = convertCell(field, raw);
    if (converted === undefined) continue;
    if (typeof converted !== 'string') {
      issues.push({ field, column: column.header, value: cellText(raw), reason: converted.reason });
      continue;
    }
    if (field === 'holder.name') holder.name = converted;
    else if (field === 'holder.id') holder.id = converted;
    else record[field] = converted;
  }
  return { record, issues, blank: false };
}

/** Whether a validator rejection on `field` is already explained by one of the row's cell issues. */
export function isFieldReported(issues: readonly CellIssue[], field: string): boolean {
  return issues.some((issue) => issue.field === field);
}

/** Every cell empty, blank or whitespace only (full-width and zero-width spaces included). */
export function isBlankRow(values: readonly unknown[]): boolean {
  for (const value of values) {
    if (!isEmptyCell(value)) return false;
  }
  return true;
}

function isEmptyCell(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  return typeof value === 'string' && cleanText(value, 'alnum').length === 0;
}

/** A cell that cannot be repaired. Allocated only on that path, so good cells cost no object. */
interface Unrepairable {
  reason: string;
}

/** The cleaned text of a cell, `undefined` for an empty one, or why it cannot be used. */
function convertCell(field: FieldPath, raw: unknown): string | undefined | Unrepairable {
  if (raw === undefined || raw === null) return undefined;
  switch (field) {
    case 'phone':
      return phoneCell(raw);
    case 'issuedOn':
    case 'expiresOn':
      return dateCell(raw, LABELS[field]);
    case 'number':
    case 'holder.id':
      return codeCell(raw, LABELS[field], field === 'holder.id');
    case 'type':
    case 'township':
    case 'holder.name':
      return nameCell(raw, LABELS[field]);
  }
}

interface Label {
  zh: string;
  en: string;
}

/** The validator's names for the fields, so both halves of a report speak alike. */
const LABELS: Record<FieldPath, Label> = {
  type: { zh: '证照类型', en: 'certificate type' },
  number: { zh: '证照编号', en: 'certificate number' },
  'holder.name': { zh: '持证人名称', en: 'holder name' },
  'holder.id': { zh: '持证人证件号码', en: 'holder identifier' },
  phone: { zh: '手机号', en: 'phone' },
  township: { zh: '乡镇', en: 'township' },
  issuedOn: { zh: '发证日期', en: 'issue date' },
  expiresOn: { zh: '到期日期', en: 'expiry date' },
};

function unrepairable(zh: string, en: string): Unrepairable {
  return { reason: `${zh} / ${en}` };
}

/** A date where text was expected: Excel turns `3-12` or `2021.5` typed into a General cell into dates. */
function dateInTextColumn(date: Date, label: Label): Unrepairable {
  const shown = cellText(date);
  return unrepairable(
    `${label.zh}被 Excel 当成了日期（${shown}），原来的内容已无法还原；请把该列设为文本后重新填写`,
    `Excel turned the ${label.en} into a date (${shown}) and the original text cannot be recovered; format the column as text and enter it again`,
  );
}

// Names, types and townships: legal names keep their full-width brackets (catalogue names such as
// 药品经营许可证（零售） have them too), so only spaces and full-width letters and digits are folded.
function nameCell(raw: unknown, label: Label): string | undefined | Unrepairable {
  if (typeof raw === 'string') return emptyToUndefined(cleanText(raw, 'alnum'));
  if (raw instanceof Date) return dateInTextColumn(raw, label);
  return emptyToUndefined(cellText(raw));
}

// Excel keeps 15 significant digits of a number: an 18-digit ID typed into a General cell comes
// back with its last three digits turned to 0.
const EXCEL_DIGITS = 15;
const FIRST_LOSSY_INTEGER = 10 ** EXCEL_DIGITS;
/** How Excel shows a long number in a General cell, and so how it writes one to CSV: always `E+`. */
const EXCEL_SCIENTIFIC = /^(\d)(?:\.(\d+))?E\+(\d{1,3})$/i;
const TRAILING_POINT_ZERO = /^(\d+)\.0+$/;

/** Certificate numbers and holder identifiers: codes, so every full-width character is folded. */
function codeCell(raw: unknown, label: Label, stripPointZero: boolean): string | undefined | Unrepairable {
  if (typeof raw === 'number') {
    if (Number.isInteger(raw) && Math.abs(raw) >= FIRST_LOSSY_INTEGER) return digitsLostAsNumber(raw, label);
    return cellText(raw);
  }
  if (raw instanceof Date) return dateInTextColumn(raw, label);
  if (typeof raw !== 'string') return emptyToUndefined(cellText(raw));
  const text = cleanText(raw, 'ascii');
  if (text.length === 0) return undefined;
  const scientific = EXCEL_SCIENTIFIC.exec(text);
  if (scientific) {
    const digits = recoverScientific(scientific);
    return digits ?? scientificLost(text, label);
  }
  if (stripPointZero) {
    const pointZero = TRAILING_POINT_ZERO.exec(text);
    if (pointZero) return pointZero[1]!;
  }
  return text;
}

function digitsLostAsNumber(value: number, label: Label): Unrepairable {
  const shown = cellText(value);
  return unrepairable(
    `${label.zh}被 Excel 存成了数字，只保留了前 ${EXCEL_DIGITS} 位，后面的数字已变成 0（${shown}）；请把该列设为文本后重新填写`,
    `Excel stored the ${label.en} as a number and kept only its first ${EXCEL_DIGITS} digits; the rest became 0 (${shown}); format the column as text and enter it again`,
  );
}

function scientificLost(text: string, label: Label): Unrepairable {
  return unrepairable(
    `${label.zh}被 Excel 转成了科学计数法（${text}），位数已丢失；请把该列设为文本后重新导出`,
    `the ${label.en} was turned into scientific notation by Excel (${text}) and digits were lost; format the column as text and export again`,
  );
}

/**
 * The digits behind `d.dddE+n` when the mantissa holds all of them (`1.3900000001E+10`), else
 * undefined: `1.39E+10` could be any of a hundred million numbers.
 */
function recoverScientific(match: RegExpExecArray): string | undefined {
  const fraction = match[2] ?? '';
  const exponent = Number(match[3]);
  if (fraction.length !== exponent) return undefined;
  return `${match[1]}${fraction}`;
}

// Phones keep `+` and brackets for the validator (`+86 139…`); spaces and dashes between digit
// groups go, so the record holds the digits.
const PHONE_SCIENTIFIC = /^(\d)(?:\.(\d+))?E\+?(\d{1,3})$/i;
const PHONE_SEPARATORS = /[\s-]+/g;

function phoneCell(raw: unknown): string | undefined | Unrepairable {
  if (typeof raw === 'number') return cellText(raw);
  if (raw instanceof Date) return dateInTextColumn(raw, LABELS.phone);
  if (typeof raw !== 'string') return emptyToUndefined(cellText(raw));
  const text = cleanText(raw, 'ascii');
  if (text.length === 0) return undefined;
  const scientific = PHONE_SCIENTIFIC.exec(text);
  if (scientific) return recoverScientific(scientific) ?? scientificLost(text, LABELS.phone);
  const pointZero = TRAILING_POINT_ZERO.exec(text);
  if (pointZero) return pointZero[1]!;
  return text.replace(PHONE_SEPARATORS, '');
}

// ---------------------------------------------------------------------------------------------
// Dates

/** The first and last day a date cell may be, as Excel serials. Outside it a number is no date. */
const EARLIEST_DATE = { year: 1950, month: 1, day: 1 };
const LATEST_DATE = { year: 2200, month: 12, day: 31 };
const UNIX_EPOCH_SERIAL = 25569; // 1970-01-01 in Excel's 1900 date system
const FAKE_LEAP_DAY_SERIAL = 60; // 1900-02-29, which Excel took over from Lotus 1-2-3
const MIN_SERIAL = dayFromCivil(EARLIEST_DATE.year, EARLIEST_DATE.month, EARLIEST_DATE.day) + UNIX_EPOCH_SERIAL;
const MAX_SERIAL = dayFromCivil(LATEST_DATE.year, LATEST_DATE.month, LATEST_DATE.day) + UNIX_EPOCH_SERIAL;
const EARLIEST_TEXT = isoFromParts(EARLIEST_DATE.year, EARLIEST_DATE.month, EARLIEST_DATE.day);
const LATEST_TEXT = isoFromParts(LATEST_DATE.year, LATEST_DATE.month, LATEST_DATE.day);

const TIME_OF_DAY = /(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?$/;
const YEAR_FIRST = /^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})$/;
const YEAR_FIRST_ZH = /^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?$/;
const EIGHT_DIGITS = /^\d{8}$/;
const SERIAL_TEXT = /^\d{1,7}(?:\.\d+)?$/;
const YEAR_LAST = /^(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})$/;
const TWO_DIGIT_YEAR = /^\d{1,2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?$/;

/**
 * A date cell as `YYYY-MM-DD`. Impossible dates (`2026-02-30`) come out as such text, so the
 * validator reports them as dates that do not exist. Text in no form known here is passed on
 * cleaned, for the validator's "not YYYY-MM-DD" message.
 */
function dateCell(raw: unknown, label: Label): string | undefined | Unrepairable {
  if (raw instanceof Date) {
    // The xlsx reader gives a date cell as UTC midnight of its calendar day.
    if (Number.isNaN(raw.getTime())) return unrepairable(`${label.zh}不是有效的日期`, `the ${label.en} is not a valid date`);
    return isoFromUtc(raw);
  }
  if (typeof raw === 'number') return dateFromNumber(raw, cellText(raw), label);
  if (typeof raw !== 'string') return emptyToUndefined(cellText(raw));

  const cleaned = cleanText(raw, 'ascii');
  if (cleaned.length === 0) return undefined;
  const text = cleaned.replace(TIME_OF_DAY, '');

  const ymd = YEAR_FIRST.exec(text) ?? YEAR_FIRST_ZH.exec(text);
  if (ymd) return isoFromParts(Number(ymd[1]), Number(ymd[2]), Number(ymd[3]));
  if (EIGHT_DIGITS.test(text)) return eightDigitDate(text, cleaned, label);
  if (SERIAL_TEXT.test(text)) return dateFromNumber(Number(text), cleaned, label);

  const yearLast = YEAR_LAST.exec(text);
  if (yearLast) return yearLastDate(cleaned, Number(yearLast[1]), Number(yearLast[2]), Number(yearLast[3]), label);
  if (TWO_DIGIT_YEAR.test(text)) {
    return unrepairable(
      `${label.zh} ${cleaned} 的年份只有两位，无法确定是哪一年、哪个数是月哪个数是日；请写成四位年份的 YYYY-MM-DD 格式，如 2026-03-01`,
      `the ${label.en} ${cleaned} has a two-digit year, so neither the year nor the order of month and day is certain; write it as YYYY-MM-DD with a four-digit year, e.g. 2026-03-01`,
    );
  }
  return cleaned;
}

/** An Excel serial, or an 8-digit `YYYYMMDD` typed as a number. */
function dateFromNumber(value: number, shown: string, label: Label): string | Unrepairable {
  if (Number.isInteger(value) && value >= 10_000_000 && value <= 99_999_999) return eightDigitDate(String(value), shown, label);
  if (value >= MIN_SERIAL && value < MAX_SERIAL + 1) return excelSerialToIsoDate(value);
  const yearHint = Number.isInteger(value) && value >= 1900 && value <= 2200
    ? { zh: '；它像是只写了年份，请写完整日期', en: '; it looks like a year alone, so give the full date' }
    : { zh: '', en: '' };
  return unrepairable(
    `${label.zh} ${shown} 不是日期：作为 Excel 日期序号，它不在 ${EARLIEST_TEXT} 至 ${LATEST_TEXT}（${MIN_SERIAL}–${MAX_SERIAL}）之间${yearHint.zh}；请写成 YYYY-MM-DD 格式`,
    `the ${label.en} ${shown} is not a date: as an Excel date serial it falls outside ${EARLIEST_TEXT} to ${LATEST_TEXT} (${MIN_SERIAL}–${MAX_SERIAL})${yearHint.en}; write it as YYYY-MM-DD`,
  );
}

/** `YYYYMMDD`; or, when the first four digits are no plausible year, `DDMMYYYY`/`MMDDYYYY` run together. */
function eightDigitDate(digits: string, shown: string, label: Label): string | Unrepairable {
  const year = Number(digits.slice(0, 4));
  if (year >= EARLIEST_DATE.year && year <= LATEST_DATE.year) {
    return isoFromParts(year, Number(digits.slice(4, 6)), Number(digits.slice(6)));
  }
  return yearLastDate(shown, Number(digits.slice(0, 2)), Number(digits.slice(2, 4)), Number(digits.slice(4)), label);
}

/**
 * `a/b/yyyy`: month-first in American files, day-first in European ones, and a file does not say
 * which. Even `25/12/2026`, which only one order can read, is refused: the same column's
 * `03/01/2026` would be read by a guessed convention.
 */
function yearLastDate(shown: string, a: number, b: number, year: number, label: Label): Unrepairable {
  const monthFirst = isoFromParts(year, a, b);
  const dayFirst = isoFromParts(year, b, a);
  const monthFirstExists = dateExists(year, a, b);
  const dayFirstExists = dateExists(year, b, a);
  if (monthFirstExists && dayFirstExists && a !== b) {
    return unrepairable(
      `${label.zh} ${shown} 有两种读法（${year}年${a}月${b}日 或 ${year}年${b}月${a}日）；请写成 YYYY-MM-DD 格式，如 ${monthFirst} 表示 ${year}年${a}月${b}日`,
      `the ${label.en} ${shown} can be read two ways (${monthFirst} month-first or ${dayFirst} day-first); write it as YYYY-MM-DD, e.g. ${monthFirst}`,
    );
  }
  if (monthFirstExists !== dayFirstExists) {
    const [month, day, iso] = monthFirstExists ? [a, b, monthFirst] : [b, a, dayFirst];
    return unrepairable(
      `${label.zh} ${shown} 把年份写在最后：本行只能读作 ${year}年${month}月${day}日，但文件没有说明它用“月/日”还是“日/月”顺序，同一列中其他日期可能被读错；请把整列写成 YYYY-MM-DD 格式，如 ${iso}`,
      `the ${label.en} ${shown} puts the year last: this row can only be ${iso}, but the file does not say whether it writes month or day first, so other dates in the column could be misread; write the whole column as YYYY-MM-DD, e.g. ${iso}`,
    );
  }
  if (monthFirstExists) {
    // Month and day are equal: one reading, but the column still follows an unknown convention.
    return unrepairable(
      `${label.zh} ${shown} 把年份写在最后，文件的日月顺序无法确定；请把整列写成 YYYY-MM-DD 格式，如 ${monthFirst}`,
      `the ${label.en} ${shown} puts the year last, and the file's order of month and day is unknown; write the whole column as YYYY-MM-DD, e.g. ${monthFirst}`,
    );
  }
  return unrepairable(
    `${label.zh} ${shown} 无论按“月/日/年”还是“日/月/年”都不是存在的日期；请核对并写成 YYYY-MM-DD 格式`,
    `the ${label.en} ${shown} is not a date that exists, read month-first or day-first; check it and write it as YYYY-MM-DD`,
  );
}

function dateExists(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/**
 * An Excel serial (1900 date system) as `YYYY-MM-DD`; a time-of-day fraction is dropped.
 * Excel counts the non-existent 1900-02-29 (serial 60), a bug kept for Lotus 1-2-3 compatibility,
 * so serials from 61 on are one day ahead of a plain count from 1899-12-31. Serial 60 comes out
 * as `1900-02-29`, which the validator refuses as a date that does not exist.
 */
export function excelSerialToIsoDate(serial: number): IsoDate {
  const day = Math.floor(serial);
  if (day === FAKE_LEAP_DAY_SERIAL) return '1900-02-29';
  const unixDays = day > FAKE_LEAP_DAY_SERIAL ? day - UNIX_EPOCH_SERIAL : day - UNIX_EPOCH_SERIAL + 1;
  const { year, month, day: dayOfMonth } = civilFromDay(unixDays);
  return isoFromParts(year, month, dayOfMonth);
}

function isoFromUtc(date: Date): IsoDate {
  return isoFromParts(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate());
}

function isoFromParts(year: number, month: number, day: number): IsoDate {
  return `${String(year).padStart(4, '0')}-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`;
}


// ---------------------------------------------------------------------------------------------
// Cell text

/**
 * How a cell is shown in an error report: text as it is, numbers without an exponent (Excel's
 * 13900000001, not 1.3900000001e10), dates as YYYY-MM-DD, booleans as Excel writes them.
 */
export function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return numberText(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : isoFromUtc(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'bigint') return value.toString();
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 80 ? `${json.slice(0, 80)}…` : json;
}

function numberText(value: number): string {
  const text = String(value);
  if (!Number.isFinite(value) || !text.includes('e')) return text;
  // From 1e21 on, and below 1e-6, JavaScript switches to an exponent; Excel never shows one in a cell's value.
  if (Number.isInteger(value)) return BigInt(value).toString();
  return value.toFixed(20).replace(/\.?0+$/, '');
}

function emptyToUndefined(text: string): string | undefined {
  return text.length === 0 ? undefined : text;
}

/**
 * Width folding. `ascii` is for codes, phones and dates: every full-width ASCII variant (`１３９`,
 * `－`, `／`, `．`), dash look-alikes and the ideographic full stop become ASCII. `alnum` is for
 * names: only full-width letters and digits are folded, and brackets stay as written.
 */
type Fold = 'ascii' | 'alnum';

/** Anything the slow path would change. Plain cells (most of them) pass this test and are returned as they are. */
const NEEDS_CLEANING = /^\s|\s$|[\s\u200B-\u200D\u2060\uFEFF\uFF01-\uFF5E\u2010-\u2015\u2212\u3002]/;

/**
 * Trims, turns every kind of space (NBSP, U+3000, …) into one ASCII space between words, drops
 * zero-width characters and the BOM, and folds width as `fold` says.
 */
export function cleanText(raw: string, fold: Fold): string {
  if (!NEEDS_CLEANING.test(raw)) return raw;
  let out = '';
  let pendingSpace = false;
  for (let i = 0; i < raw.length; i++) {
    let code = raw.charCodeAt(i);
    if (code === 0x200b || code === 0x200c || code === 0x200d || code === 0x2060 || code === 0xfeff) continue;
    if (isSpace(code)) {
      pendingSpace = out.length > 0;
      continue;
    }
    if (code >= 0xff01 && code <= 0xff5e) {
      if (fold === 'ascii' || isFullWidthAlnum(code)) code -= 0xfee0;
    } else if (fold === 'ascii') {
      if ((code >= 0x2010 && code <= 0x2015) || code === 0x2212) code = 0x2d; // hyphens, dashes and minus → '-'
      else if (code === 0x3002) code = 0x2e; // 。 → '.'
    }
    if (pendingSpace) {
      out += ' ';
      pendingSpace = false;
    }
    out += String.fromCharCode(code);
  }
  return out;
}

function isFullWidthAlnum(code: number): boolean {
  return (code >= 0xff10 && code <= 0xff19) || (code >= 0xff21 && code <= 0xff3a) || (code >= 0xff41 && code <= 0xff5a);
}

function isSpace(code: number): boolean {
  return (
    code === 0x20 ||
    (code >= 0x09 && code <= 0x0d) ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}
