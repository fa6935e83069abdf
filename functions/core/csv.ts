/**
 * CSV for people who open it in Excel on a Chinese Windows PC: UTF-8 with a BOM (without it Excel
 * reads the bytes as GBK and shows mojibake), CRLF line ends, and RFC 4180 quoting. The service only
 * ever writes small reports, so a string is enough; csv-parse (already a dependency) reads, but the
 * project has no writer, and this is the whole of one.
 *
 * Pure: report routes call it.
 */

export type CsvValue = string | number;

/**
 * One cell. Quoted when it holds a quote, comma or line break (RFC 4180). A text that Excel would run
 * as a formula (=, +, -, @, tab, CR first) is prefixed with ' so an uploaded value cannot become one.
 */
export function csvCell(value: CsvValue): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/u.test(text)) text = `'${text}`;
  return /[",\r\n]/u.test(text) ? `"${text.replace(/"/gu, '""')}"` : text;
}

/** A whole document: BOM, the header row, then the rows, every line ended by CRLF. */
export function toExcelCsv(header: readonly string[], rows: ReadonlyArray<readonly CsvValue[]>): string {
  const lines = [header, ...rows].map((row) => row.map(csvCell).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
