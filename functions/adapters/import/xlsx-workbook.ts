/**
 * Reads the rows of one sheet of an xlsx workbook (Office Open XML) in one pass over its ZIP, as the
 * bytes arrive: the workbook part (sheet names, tab order, visibility, date system), its relationships
 * (which part is which sheet), the shared strings and the styles (which cell formats are dates), then
 * the sheet itself, row by row.
 *
 * The wanted sheet is read straight from the ZIP when those parts come before it. Otherwise (Excel writes
 * sheets before the shared strings and styles, exceljs writes the workbook part last) it is copied,
 * decompressed, to a temporary file and read from there once the ZIP has been read to its end; while the
 * workbook part is unknown every sheet is copied. The copies are deleted however reading ends.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { SpreadsheetRow } from './spreadsheet-reader.js';
import { decodeXml, XmlScanner, type XmlAttributes, type XmlHandler } from './xml-scanner.js';
import { zipEntries } from './zip-entries.js';

/** Part names are compared in lower case: some writers spell them differently (`SharedStrings.xml`). */
const WORKBOOK_PART = 'xl/workbook.xml';
const WORKBOOK_RELATIONS_PART = 'xl/_rels/workbook.xml.rels';
/** Where the parts usually are, for a workbook whose relationships are not known yet. */
const DEFAULT_SHARED_STRINGS_PART = 'xl/sharedstrings.xml';
const DEFAULT_STYLES_PART = 'xl/styles.xml';
const WORKSHEET_PART = /^xl\/worksheets\/[^/]+\.xml$/;
/** The temporary copies live in a directory named for the process, so a test finds those it caused. */
export const XLSX_TEMPORARY_PREFIX = `certalarm-xlsx-${process.pid}-`;

/** The workbook has no sheet of the wanted name; `sheets` are the names it has, in tab order. */
export class UnknownSheetError extends Error {
  constructor(readonly sheets: string[]) {
    super('no sheet of that name');
  }
}

/**
 * The rows of the sheet named `wanted` (case and surrounding spaces aside), by default the first
 * visible one; `onSheet` learns its name before its first row. Throws `UnknownSheetError`, errors of
 * `zip` as they are, and for a damaged or incomplete workbook any other error.
 */
export async function* workbookRows(zip: AsyncIterable<Buffer>, wanted: string | undefined, onSheet: (name: string) => void): AsyncGenerator<SpreadsheetRow> {
  const book = new WorkbookParts();
  const parked = new ParkedSheets();
  try {
    let chosen: ChosenSheet | undefined;
    for await (const entry of zipEntries(zip)) {
      const part = entry.name.replace(/^\//, '').toLowerCase();
      if (part === WORKBOOK_PART) {
        await readXml(entry.content(), book.workbookReader());
      } else if (part === WORKBOOK_RELATIONS_PART) {
        await readXml(entry.content(), book.relationsReader());
      } else if (part === book.sharedStringsPart()) {
        await readXml(entry.content(), book.sharedStringsReader());
      } else if (part === book.stylesPart()) {
        await readXml(entry.content(), book.stylesReader());
      } else if (book.isWorksheet(part)) {
        chosen ??= book.choose(wanted);
        if (chosen !== undefined && chosen.part !== part) continue; // another sheet: skipped
        if (chosen !== undefined && book.complete()) {
          onSheet(chosen.name);
          yield* sheetRows(entry.content(), book);
          return;
        }
        await parked.park(part, entry.content());
      }
    }
    chosen ??= book.choose(wanted);
    const content = chosen && parked.open(chosen.part);
    if (chosen === undefined || content === undefined) throw new Error('the workbook part, its relationships or the sheet part is missing');
    onSheet(chosen.name);
    yield* sheetRows(content, book);
  } finally {
    // Runs at the end of the sheet, on an error, and when the caller stops early (break, close()).
    await parked.remove();
  }
}

interface SheetEntry {
  name: string;
  state: string | undefined;
  relationId: string | undefined;
}

interface ChosenSheet {
  name: string;
  /** Its part in the ZIP, lower case. */
  part: string;
}

/** A cell as the sheet states it, before shared strings and styles give it its value. */
interface RawCell {
  column: number;
  type: string;
  style: number;
  value?: string;
  inline?: string;
  formula?: boolean;
}

/** What the workbook's own parts say: its sheets, where its parts are, its shared strings and which styles are dates. */
class WorkbookParts {
  #sheets: SheetEntry[] | undefined;
  #date1904 = false;
  #relations: Map<string, { type: string; part: string }> | undefined;
  #sharedStrings: string[] | undefined;
  #dateStyles: boolean[] | undefined;

  sharedStringsPart(): string {
    return this.#relatedPart('/sharedStrings') ?? DEFAULT_SHARED_STRINGS_PART;
  }

  stylesPart(): string {
    return this.#relatedPart('/styles') ?? DEFAULT_STYLES_PART;
  }

  isWorksheet(part: string): boolean {
    if (this.#relations === undefined) return WORKSHEET_PART.test(part);
    for (const relation of this.#relations.values()) if (relation.part === part && relation.type.endsWith('/worksheet')) return true;
    return false;
  }

  /** Whether every part a sheet's values depend on has been read (or the workbook has none). */
  complete(): boolean {
    return (
      this.#relations !== undefined &&
      (this.#sharedStrings !== undefined || this.#relatedPart('/sharedStrings') === undefined) &&
      (this.#dateStyles !== undefined || this.#relatedPart('/styles') === undefined)
    );
  }

  /**
   * The named sheet, or by default the first visible tab (bureau templates often hide a sheet of
   * drop-down values first); undefined until the workbook and its relationships have been read.
   */
  choose(wanted: string | undefined): ChosenSheet | undefined {
    if (this.#sheets === undefined || this.#relations === undefined) return undefined;
    const worksheets = this.#sheets.flatMap((sheet) => {
      const relation = sheet.relationId === undefined ? undefined : this.#relations?.get(sheet.relationId);
      return relation?.type.endsWith('/worksheet') ? [{ ...sheet, part: relation.part }] : [];
    });
    if (wanted !== undefined) {
      const named = worksheets.find((sheet) => sheet.name.trim().toLowerCase() === wanted.toLowerCase());
      if (named === undefined) throw new UnknownSheetError(this.#sheets.map((sheet) => sheet.name));
      return named;
    }
    const first = worksheets.find((sheet) => sheet.state === undefined || sheet.state === 'visible') ?? worksheets[0];
    if (first === undefined) throw new Error('no worksheet');
    return first;
  }

  /**
   * A cell's value: shared strings looked up, numbers in a date format made `Date`s (in the workbook's
   * date system), a formula's cached result typed like a plain value, an error cell its code.
   */
  cellValue(cell: RawCell): unknown {
    // Empty text is no value, as in exceljs: such a cell reads like one Excel never wrote.
    if (cell.type === 'inlineStr') return (cell.inline ?? cell.value) || undefined;
    const text = cell.value;
    if (text === undefined) return undefined;
    switch (cell.type) {
      case 's':
        return this.#sharedStrings?.[Number(text)] || undefined;
      case 'str':
        return text || undefined;
      case 'e':
        return text;
      case 'b':
        return text.trim() === '1' || text.trim() === 'true';
      case 'd':
        return isoDate(text);
      default: {
        const number = Number.parseFloat(text);
        return this.#dateStyles?.[cell.style] === true && Number.isFinite(number) ? excelDate(number, this.#date1904) : number;
      }
    }
  }

  workbookReader(): XmlHandler {
    const sheets: SheetEntry[] = [];
    this.#sheets = sheets;
    return {
      open: (name, attributes) => {
        if (name === 'workbookPr') this.#date1904 = attributes.date1904 === '1' || attributes.date1904 === 'true';
        if (name === 'sheet') {
          const id = attributes['r:id'] ?? Object.entries(attributes).find(([key]) => key.endsWith(':id'))?.[1];
          sheets.push({ name: attributes.name ?? '', state: attributes.state, relationId: id });
        }
      },
    };
  }

  relationsReader(): XmlHandler {
    const relations = new Map<string, { type: string; part: string }>();
    this.#relations = relations;
    return {
      open: (name, attributes) => {
        if (name !== 'Relationship' || attributes.Id === undefined || attributes.Target === undefined || attributes.TargetMode === 'External') return;
        relations.set(attributes.Id, { type: attributes.Type ?? '', part: partName('xl/', attributes.Target) });
      },
    };
  }

  /** Each `<si>` is one string: its text, or its rich-text runs joined; phonetic guides (`<rPh>`) left out. */
  sharedStringsReader(): XmlHandler {
    const strings: string[] = [];
    this.#sharedStrings = strings;
    let runs: string[] | undefined;
    let text: string | undefined;
    let phonetic = false;
    return {
      open: (name) => {
        if (name === 'si') runs = [];
        else if (name === 'rPh') phonetic = true;
        else if (name === 't' && runs !== undefined && !phonetic) text = '';
      },
      text: (raw) => {
        if (text !== undefined) text += raw;
      },
      close: (name) => {
        if (name === 't' && text !== undefined) {
          runs?.push(unescapeOoxml(decodeXml(text)));
          text = undefined;
        } else if (name === 'rPh') {
          phonetic = false;
        } else if (name === 'si' && runs !== undefined) {
          strings.push(runs.join(''));
          runs = undefined;
        }
      },
    };
  }

  /** Which cell formats (`<cellXfs>`, by index) show a number as a date or time. */
  stylesReader(): XmlHandler {
    const formats = new Map<number, string>();
    const cellFormats: number[] = [];
    let inCellFormats = false;
    return {
      open: (name, attributes) => {
        if (name === 'numFmt') formats.set(Number(attributes.numFmtId), attributes.formatCode ?? '');
        else if (name === 'cellXfs') inCellFormats = true;
        else if (name === 'xf' && inCellFormats) cellFormats.push(Number(attributes.numFmtId ?? 0));
      },
      close: (name) => {
        if (name === 'cellXfs') inCellFormats = false;
        else if (name === 'styleSheet') this.#dateStyles = cellFormats.map((id) => isDateFormat(id, formats.get(id)));
      },
    };
  }

  #relatedPart(typeSuffix: string): string | undefined {
    if (this.#relations === undefined) return undefined;
    for (const relation of this.#relations.values()) if (relation.type.endsWith(typeSuffix)) return relation.part;
    return undefined;
  }
}

/** Built-in number formats that are dates or times: 14–22, the East Asian 27–36 and 50–58, 45–47, the Thai 71–81. */
function isBuiltInDateFormat(id: number): boolean {
  return (id >= 14 && id <= 22) || (id >= 27 && id <= 36) || (id >= 45 && id <= 47) || (id >= 50 && id <= 58) || (id >= 71 && id <= 81);
}

/** A format code is a date or time when, outside quoted text and `[…]` (colours, locales), it has a date or time letter. */
function isDateFormat(id: number, code: string | undefined): boolean {
  if (code === undefined) return isBuiltInDateFormat(id);
  return /[ymdhMsb]/.test(code.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, ''));
}

/** An Excel serial day as a `Date`; the 1900 system counts from 1899-12-30, the 1904 system 1462 days later. */
function excelDate(serial: number, date1904: boolean): Date {
  return new Date(Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 86_400_000));
}

/** A `t="d"` cell (ISO 8601, written by some tools); one without a zone is read as UTC, like every date here. */
function isoDate(text: string): Date | string {
  const trimmed = text.trim();
  const zoned = /(?:[zZ]|[+-]\d\d:?\d\d)$/.test(trimmed) || !trimmed.includes('T') ? trimmed : `${trimmed}Z`;
  const date = new Date(zoned);
  return Number.isNaN(date.getTime()) ? text : date;
}

/** OOXML's escapes for characters XML cannot hold (`_x000D_`); `_x005F_` is a literal underscore. */
function unescapeOoxml(text: string): string {
  return text.includes('_x') ? text.replace(/_x([0-9A-Fa-f]{4})_/g, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))) : text;
}

/** A relationship target, relative to `base` unless it starts with `/`, as a lower-case part name. */
function partName(base: string, target: string): string {
  const segments = target.startsWith('/') ? [] : base.split('/').filter(Boolean);
  for (const segment of target.split('/')) {
    if (segment === '..') segments.pop();
    else if (segment !== '.' && segment !== '') segments.push(segment);
  }
  return segments.join('/').toLowerCase();
}

/** `A1` → 1, `AB7` → 28; 0 when the reference has no column letters. */
function columnOf(reference: string): number {
  let column = 0;
  for (let i = 0; i < reference.length; i++) {
    const c = reference.charCodeAt(i) | 0x20; // lower case
    if (c < 0x61 || c > 0x7a) break;
    column = column * 26 + (c - 0x60);
  }
  return column;
}

/** Parses an XML part as its pieces arrive; after each piece, hands on what `taken` says it completed. */
async function* parseXml<T>(content: AsyncIterable<Buffer>, handler: XmlHandler, taken: () => T[] = () => []): AsyncGenerator<T> {
  const scanner = new XmlScanner(handler);
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of content) {
    scanner.write(decoder.decode(chunk, { stream: true }));
    yield* taken();
  }
  scanner.write(decoder.decode());
  scanner.end();
  yield* taken();
}

async function readXml(content: AsyncIterable<Buffer>, handler: XmlHandler): Promise<void> {
  for await (const _ of parseXml(content, handler));
}

/** The rows of a sheet part, handed on as each decompressed piece is parsed. */
function sheetRows(content: AsyncIterable<Buffer>, book: WorkbookParts): AsyncGenerator<SpreadsheetRow> {
  const reader = new SheetReader(book);
  return parseXml(content, reader, () => reader.rows.splice(0));
}

/**
 * Collects the rows of `<sheetData>`. A row is numbered by its `r` (rows Excel never wrote do not
 * appear); a row or cell without `r` follows the one before. `values[i]` is column i + 1.
 */
class SheetReader implements XmlHandler {
  readonly rows: SpreadsheetRow[] = [];
  #inSheetData = false;
  #row: unknown[] | undefined;
  #rowNumber = 0;
  #column = 0;
  #cell: RawCell | undefined;
  #text: string | undefined;
  #inInline = false;
  #phonetic = false;

  constructor(private readonly book: WorkbookParts) {}

  open(name: string, attributes: XmlAttributes): void {
    switch (name) {
      case 'sheetData':
        this.#inSheetData = true;
        break;
      case 'row': {
        if (!this.#inSheetData) break;
        const number = Number(attributes.r);
        this.#rowNumber = Number.isInteger(number) && number > 0 ? number : this.#rowNumber + 1;
        this.#row = [];
        this.#column = 0;
        break;
      }
      case 'c': {
        if (this.#row === undefined) break;
        const column = attributes.r === undefined ? 0 : columnOf(attributes.r);
        this.#column = column > 0 ? column : this.#column + 1;
        this.#cell = { column: this.#column, type: attributes.t ?? 'n', style: attributes.s === undefined ? 0 : Number(attributes.s) };
        break;
      }
      case 'v':
        if (this.#cell !== undefined) this.#text = '';
        break;
      case 'f':
        if (this.#cell !== undefined) this.#cell.formula = true;
        break;
      case 'is':
        if (this.#cell !== undefined) {
          this.#inInline = true;
          this.#cell.inline = '';
        }
        break;
      case 'rPh':
        this.#phonetic = true;
        break;
      case 't':
        if (this.#inInline && !this.#phonetic) this.#text = '';
        break;
    }
  }

  text(raw: string): void {
    if (this.#text !== undefined) this.#text += raw;
  }

  close(name: string): void {
    switch (name) {
      case 'v':
        if (this.#cell !== undefined && this.#text !== undefined) this.#cell.value = decodeXml(this.#text);
        this.#text = undefined;
        break;
      case 't':
        if (this.#cell !== undefined && this.#text !== undefined) this.#cell.inline += unescapeOoxml(decodeXml(this.#text));
        this.#text = undefined;
        break;
      case 'rPh':
        this.#phonetic = false;
        break;
      case 'is':
        this.#inInline = false;
        break;
      case 'c':
        if (this.#cell !== undefined && this.#row !== undefined) {
          // A formula without a cached result still takes its place in the row, as exceljs gave it.
          const value = this.book.cellValue(this.#cell);
          if (value !== undefined || this.#cell.formula) this.#row[this.#cell.column - 1] = value;
        }
        this.#cell = undefined;
        break;
      case 'row':
        // Array.from fills the gaps of empty cells with undefined.
        if (this.#row !== undefined) this.rows.push({ row: this.#rowNumber, values: Array.from(this.#row) });
        this.#row = undefined;
        break;
      case 'sheetData':
        this.#inSheetData = false;
        break;
    }
  }
}

/** Decompressed sheets waiting in a temporary directory until the parts they depend on have been read. */
class ParkedSheets {
  #directory: string | undefined;
  readonly #files = new Map<string, string>();

  async park(part: string, content: AsyncIterable<Buffer>): Promise<void> {
    this.#directory ??= await mkdtemp(join(tmpdir(), XLSX_TEMPORARY_PREFIX));
    const file = join(this.#directory, `sheet-${this.#files.size + 1}.xml`);
    this.#files.set(part, file);
    await pipeline(content, createWriteStream(file));
  }

  open(part: string): AsyncIterable<Buffer> | undefined {
    const file = this.#files.get(part);
    return file === undefined ? undefined : createReadStream(file);
  }

  async remove(): Promise<void> {
    if (this.#directory !== undefined) await rm(this.#directory, { recursive: true, force: true });
  }
}
