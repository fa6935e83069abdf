/**
 * Reads the rows of one sheet of an xlsx workbook (Office Open XML) in one pass over its ZIP, as the
 * bytes arrive: the workbook part (sheet names, tab order, visibility, date system), its relationships
 * (which part is which sheet), the shared strings and the styles (which cell formats are dates), then
 * the sheet itself, row by row.
 *
 * fflate's streaming `Unzip` finds the entries and inflates them (synchronously, in this thread: rows
 * are needed in order, and a worker would add start-up cost for nothing), and saxes parses each XML
 * part as its text is inflated. The bytes are pushed a piece at a time and the rows a piece completes
 * are handed on before the next is pushed, so memory holds a piece's worth of rows, never a part.
 *
 * Entries written in one pass (exceljs's WorkbookWriter, POI's streaming writer) have their sizes in a
 * data descriptor after their data. fflate finds where such an entry ends by looking for the next ZIP
 * signature (descriptor, entry header or central directory), not by where its deflate stream ends
 * (fflate issues #208 and #243). Deflated bytes that happen to spell a signature (odds of about 1 in
 * 1.4 billion per byte, so ~0.7% for a 10 MB sheet written that way) cut the entry short: inflating it
 * then fails, and the workbook is refused as damaged when the entry is one this reader needs. It is
 * never read short or wrong. Stored (uncompressed) XML cannot spell one: every signature holds control
 * characters XML forbids. fflate 0.8.3 also cuts short the last entry when its descriptor lacks the
 * optional signature; the writers in use write it.
 *
 * The wanted sheet is read straight from the ZIP when the parts it needs come before it. Otherwise (Excel
 * writes sheets before the shared strings and styles, exceljs writes the workbook part last) it is
 * copied, decompressed, to a temporary file and read from there once the ZIP has been read to its end;
 * while the workbook part is unknown every sheet is copied. A ZIP can only be read front to back from a
 * stream (its directory is at the end), and holding a sheet in memory instead would make memory grow
 * with the sheet. The copies are deleted however reading ends.
 *
 * Nothing a file holds is trusted to be small (`SpreadsheetLimits`): the bytes inflated from each
 * entry and from all of them are counted as they come, and so is the ratio of inflated to compressed
 * bytes, so a ZIP bomb is stopped within one piece of passing a bound, before it is inflated further
 * or copied to disk. saxes gathers a text, a name or a comment whole before it hands it on, so its
 * buffers are checked between slices of text; a DTD is refused outright, so no entity is ever
 * declared, let alone expanded.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Unzip, UnzipInflate, type UnzipFile } from 'fflate';
import { SaxesParser } from 'saxes';
import type { SpreadsheetLimits } from '../../core/import-limits.js';
import { cellTooLong, dtdRefused, partTooLarge, ratioTooHigh, tooManyColumns, tooManySharedStrings, unpackedTooLarge } from './spreadsheet-errors.js';
import type { SpreadsheetRow } from './spreadsheet-reader.js';

/** Part names are compared in lower case: some writers spell them differently (`SharedStrings.xml`). */
const WORKBOOK_PART = 'xl/workbook.xml';
const WORKBOOK_RELATIONS_PART = 'xl/_rels/workbook.xml.rels';
/** Where the parts usually are, for a workbook whose relationships are not known yet. */
const DEFAULT_SHARED_STRINGS_PART = 'xl/sharedstrings.xml';
const DEFAULT_STYLES_PART = 'xl/styles.xml';
const WORKSHEET_PART = /^xl\/worksheets\/[^/]+\.xml$/;
/** The most compressed bytes pushed at once: bounds the text, and so the rows, one push can inflate to. */
const PIECE = 16 * 1024;
/** A piece that inflates more than this many times its size makes the next ones `SMALL_PIECE`: deflate reaches ~1,000 to 1. */
const HIGH_RATIO = 64;
const SMALL_PIECE = 1024;
/** The longest the reader keeps the thread before it lets other work (health checks, requests) run. */
const TURN_MS = 20;
/** Text is given to saxes this many characters at a time, so its buffers are checked before they grow far. */
const XML_SLICE = 64 * 1024;
/** Deeper nesting or more attributes than any OOXML part has (a sheet nests 7 deep; a tag has a dozen attributes). */
const MAX_XML_DEPTH = 256;
const MAX_XML_ATTRIBUTES = 1024;
/** The workbook part, its relationships and the styles are held whole while read; real ones are kilobytes. */
const MAX_SMALL_PART_BYTES = 32 * 1024 * 1024;
const STORED = 0;
const DEFLATED = 8;
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
export async function* workbookRows(
  zip: AsyncIterable<Buffer>,
  wanted: string | undefined,
  onSheet: (name: string) => void,
  limits: SpreadsheetLimits,
): AsyncGenerator<SpreadsheetRow> {
  const archive = new WorkbookArchive(wanted, onSheet, limits);
  let piece = PIECE;
  let turnTaken = performance.now();
  try {
    for await (const chunk of zip) {
      for (let at = 0; at < chunk.length; ) {
        const inflatedBefore = archive.inflated;
        const bytes = chunk.subarray(at, at + piece);
        at += bytes.length;
        archive.push(bytes, false);
        // Pieces that inflate more than 64-fold (a bomb, or a very repetitive part) are pushed 1 KiB at a time,
        // so no one push inflates and parses more than about a megabyte.
        piece = archive.inflated - inflatedBefore > bytes.length * HIGH_RATIO ? SMALL_PIECE : PIECE;
        await archive.parked.flush();
        // Reading runs in the service's only thread: let it answer requests between pieces.
        if (performance.now() - turnTaken > TURN_MS) {
          await nextTurn();
          turnTaken = performance.now();
        }
        const sheet = archive.sheet;
        if (sheet === undefined) continue;
        yield* sheet.rows.splice(0);
        if (sheet.read) return; // the rest of the ZIP is not needed
      }
    }
    archive.push(new Uint8Array(0), true);
    await archive.parked.flush();
    if (archive.sheet !== undefined) {
      yield* archive.sheet.rows.splice(0);
      return;
    }
    const chosen = archive.book.choose(wanted);
    const file = chosen && archive.parked.file(chosen.part);
    if (chosen === undefined || file === undefined) throw new Error('the workbook part, its relationships or the sheet part is missing');
    onSheet(chosen.name);
    const reader = new SheetReader(archive.book, limits);
    const xml = new XmlPart(reader, chosen.part, limits);
    for await (const bytes of createReadStream(file)) {
      xml.write(bytes as Buffer);
      yield* reader.rows.splice(0);
    }
    xml.end();
    yield* reader.rows.splice(0);
  } finally {
    // Runs at the end of the sheet, on an error, and when the caller stops early (break, close()).
    await archive.parked.remove();
  }
}

/** Takes an entry's content as it is inflated; `final` with its last piece. */
type Consumer = (data: Uint8Array, final: boolean) => void;

/**
 * The ZIP as fflate reads it: each entry is given to the reader of its part, copied to a temporary
 * file, or inflated and dropped. fflate calls back during `push`, so a failure is kept and thrown
 * when `push` returns.
 */
class WorkbookArchive {
  readonly book: WorkbookParts;
  readonly parked = new ParkedSheets();
  /** The wanted sheet, once it is being read straight from the ZIP: its rows not yet handed on. */
  sheet: { rows: SpreadsheetRow[]; read: boolean } | undefined;
  readonly #unzip: Unzip;
  #chosen: ChosenSheet | undefined;
  #failure: { error: unknown } | undefined;
  /** Compressed bytes pushed, and bytes inflated from every entry, for the bounds. */
  #compressed = 0;
  #inflated = 0;

  get inflated(): number {
    return this.#inflated;
  }

  constructor(
    private readonly wanted: string | undefined,
    private readonly onSheet: (name: string) => void,
    private readonly limits: SpreadsheetLimits,
  ) {
    this.book = new WorkbookParts(limits);
    this.#unzip = new Unzip((file) => this.#entry(file));
    this.#unzip.register(UnzipInflate);
  }

  push(bytes: Uint8Array, final: boolean): void {
    this.#compressed += bytes.length;
    this.#unzip.push(bytes, final);
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  #entry(file: UnzipFile): void {
    if (this.#failure !== undefined) return;
    try {
      const part = file.name.replaceAll('\\', '/').replace(/^\//, '').toLowerCase();
      const consume = this.#consumer(part);
      const supported = file.compression === STORED || file.compression === DEFLATED;
      if (consume !== undefined && !supported) throw new Error(`${file.name}: compression method ${file.compression}`);
      // fflate keeps the compressed bytes of an entry never started, in case it is started later, so an
      // unwanted entry is inflated and dropped instead. Only one in a method fflate cannot inflate (rare,
      // and never an xlsx part) is left unstarted.
      if (!supported) return;
      const partLimit = this.#partLimit(part);
      // A size the entry declares is only a claim (a bomb can put anything there), but a claim over the bound is refused before inflating.
      if (file.originalSize !== undefined && file.originalSize > partLimit) throw partTooLarge(file.name, partLimit);
      let inflated = 0;
      file.ondata = (error, data, final) => {
        if (this.#failure !== undefined) return;
        try {
          if (error) throw error;
          inflated += data.length;
          this.#inflated += data.length;
          this.#checkBounds(file.name, inflated, partLimit);
          consume?.(data, final);
        } catch (failure) {
          this.#failure = { error: failure };
          // Stop inflating this entry: nothing more of it will be read.
          file.terminate();
        }
      };
      file.start();
    } catch (error) {
      this.#failure = { error };
    }
  }

  #partLimit(part: string): number {
    const small = part === WORKBOOK_PART || part === WORKBOOK_RELATIONS_PART || part === this.book.stylesPart();
    return small ? Math.min(MAX_SMALL_PART_BYTES, this.limits.maxPartBytes) : this.limits.maxPartBytes;
  }

  #checkBounds(name: string, partBytes: number, partLimit: number): void {
    const { maxInflatedBytes, maxInflationRatio, ratioFloorBytes } = this.limits;
    if (partBytes > partLimit) throw partTooLarge(name, partLimit);
    if (this.#inflated > maxInflatedBytes) throw unpackedTooLarge(maxInflatedBytes);
    if (this.#inflated > ratioFloorBytes && this.#inflated > this.#compressed * maxInflationRatio) throw ratioTooHigh(maxInflationRatio);
  }

  /** What to do with the content of `part` (lower case); undefined to drop it. */
  #consumer(part: string): Consumer | undefined {
    const book = this.book;
    const limits = this.limits;
    if (part === WORKBOOK_PART) return xmlConsumer(book.workbookReader(), part, limits);
    if (part === WORKBOOK_RELATIONS_PART) return xmlConsumer(book.relationsReader(), part, limits);
    if (part === book.sharedStringsPart()) return xmlConsumer(book.sharedStringsReader(), part, limits);
    if (part === book.stylesPart()) return xmlConsumer(book.stylesReader(), part, limits);
    if (!book.isWorksheet(part)) return undefined;
    this.#chosen ??= book.choose(this.wanted);
    const chosen = this.#chosen;
    if (chosen !== undefined && chosen.part !== part) return undefined; // another sheet: skipped
    if (chosen === undefined || !book.complete()) return this.parked.writer(part);
    this.onSheet(chosen.name);
    const reader = new SheetReader(book, limits);
    const sheet = { rows: reader.rows, read: false };
    this.sheet = sheet;
    const consume = xmlConsumer(reader, part, limits);
    return (data, final) => {
      consume(data, final);
      if (final) sheet.read = true;
    };
  }
}

function xmlConsumer(handler: XmlHandler, part: string, limits: SpreadsheetLimits): Consumer {
  const xml = new XmlPart(handler, part, limits);
  return (data, final) => {
    xml.write(data);
    if (final) xml.end();
  };
}

type XmlAttributes = Readonly<Record<string, string>>;

/** What a part's reader is told as saxes parses it. Element names come without their prefix (`x:row` is `row`). */
interface XmlHandler {
  open(name: string, attributes: XmlAttributes): void;
  /** Also called right after `open` for an empty-element tag (`<c r="A1"/>`). */
  close?(name: string): void;
  /** Text and CDATA, references resolved; one run of text may come in several calls. */
  text?(text: string): void;
  /** The part has been read to its end. */
  end?(): void;
}

/**
 * What saxes holds while it reads: private fields of saxes 6, read to bound them. A text, name,
 * comment or DTD is gathered whole before any handler sees it, and open tags and attributes pile up
 * until their tag ends. If a saxes release renames them, the one-cell bomb test in
 * spreadsheet-reader.test.ts fails (it checks that reading stops within the first 256 KiB).
 */
interface SaxesBuffers {
  text?: string;
  name?: string;
  entity?: string;
  piTarget?: string;
  tags?: unknown[];
  attribList?: unknown[];
}

/** One XML part, parsed by saxes as its UTF-8 bytes arrive. Malformed XML throws, and so does a DTD. */
class XmlPart {
  // No line and column tracking: a damaged part is refused whatever its position, and reading is ~10% faster.
  readonly #parser = new SaxesParser({ xmlns: false, position: false });
  readonly #decoder = new TextDecoder('utf-8');
  /** Room for a cell's text written with character references, and for markup around it. */
  readonly #maxBuffer: number;

  constructor(
    private readonly handler: XmlHandler,
    private readonly part: string,
    private readonly limits: SpreadsheetLimits,
  ) {
    this.#maxBuffer = limits.maxCellChars * 2 + 4096;
    // Office parts never have one: refusing it keeps entity declarations (billion laughs) out for good.
    this.#parser.on('doctype', () => {
      throw dtdRefused(part);
    });
    this.#parser.on('opentag', (tag) => handler.open(localName(tag.name), tag.attributes));
    this.#parser.on('closetag', (tag) => handler.close?.(localName(tag.name)));
    if (handler.text !== undefined) {
      const text = (content: string) => handler.text?.(content);
      this.#parser.on('text', text);
      this.#parser.on('cdata', text);
    }
  }

  write(bytes: Uint8Array): void {
    const text = this.#decoder.decode(bytes, { stream: true });
    for (let at = 0; at < text.length; at += XML_SLICE) {
      this.#parser.write(text.length <= XML_SLICE ? text : text.slice(at, at + XML_SLICE));
      this.#checkBuffers();
    }
  }

  end(): void {
    this.#parser.write(this.#decoder.decode());
    this.#checkBuffers();
    this.#parser.close();
    this.handler.end?.();
  }

  #checkBuffers(): void {
    const buffers = this.#parser as unknown as SaxesBuffers;
    const longest = Math.max(buffers.text?.length ?? 0, buffers.name?.length ?? 0, buffers.entity?.length ?? 0, buffers.piTarget?.length ?? 0);
    if (longest > this.#maxBuffer) throw cellTooLong(this.limits.maxCellChars);
    if ((buffers.tags?.length ?? 0) > MAX_XML_DEPTH || (buffers.attribList?.length ?? 0) > MAX_XML_ATTRIBUTES) {
      throw new Error(`${this.part}: XML nested deeper than ${MAX_XML_DEPTH} or with more than ${MAX_XML_ATTRIBUTES} attributes on a tag`);
    }
  }
}

function localName(qualified: string): string {
  return qualified.slice(qualified.indexOf(':') + 1);
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

/**
 * What the workbook's own parts say: its sheets, where its parts are, its shared strings and which
 * styles are dates. Each part's findings count once the part has been read to its end: a sheet is
 * not read with half a shared-strings table.
 */
class WorkbookParts {
  #sheets: SheetEntry[] | undefined;
  #date1904 = false;
  #relations: Map<string, { type: string; part: string }> | undefined;
  #sharedStrings: string[] | undefined;
  #dateStyles: boolean[] | undefined;

  constructor(private readonly limits: SpreadsheetLimits) {}

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
    let date1904 = false;
    return {
      open: (name, attributes) => {
        if (name === 'workbookPr') date1904 = attributes.date1904 === '1' || attributes.date1904 === 'true';
        if (name === 'sheet') {
          const id = attributes['r:id'] ?? Object.entries(attributes).find(([key]) => key.endsWith(':id'))?.[1];
          sheets.push({ name: attributes.name ?? '', state: attributes.state, relationId: id });
        }
      },
      end: () => {
        this.#sheets = sheets;
        this.#date1904 = date1904;
      },
    };
  }

  relationsReader(): XmlHandler {
    const relations = new Map<string, { type: string; part: string }>();
    return {
      open: (name, attributes) => {
        if (name !== 'Relationship' || attributes.Id === undefined || attributes.Target === undefined || attributes.TargetMode === 'External') return;
        relations.set(attributes.Id, { type: attributes.Type ?? '', part: partName('xl/', attributes.Target) });
      },
      end: () => {
        this.#relations = relations;
      },
    };
  }

  /** Each `<si>` is one string: its text, or its rich-text runs joined; phonetic guides (`<rPh>`) left out. */
  sharedStringsReader(): XmlHandler {
    // The table is held in memory until the sheet is read: its size is what a file could make it hold.
    const { maxCellChars, maxSharedStrings, maxSharedStringChars } = this.limits;
    const strings: string[] = [];
    let chars = 0;
    let runs: string[] | undefined;
    let runChars = 0;
    let text: string | undefined;
    let phonetic = false;
    return {
      open: (name) => {
        if (name === 'si') {
          runs = [];
          runChars = 0;
        } else if (name === 'rPh') phonetic = true;
        else if (name === 't' && runs !== undefined && !phonetic) text = '';
      },
      text: (content) => {
        if (text === undefined) return;
        if (runChars + text.length + content.length > maxCellChars) throw cellTooLong(maxCellChars);
        text += content;
      },
      close: (name) => {
        if (name === 't' && text !== undefined) {
          const run = unescapeOoxml(text);
          runChars += run.length;
          runs?.push(run);
          text = undefined;
        } else if (name === 'rPh') {
          phonetic = false;
        } else if (name === 'si' && runs !== undefined) {
          if (strings.length >= maxSharedStrings) throw tooManySharedStrings({ count: maxSharedStrings });
          chars += runChars;
          if (chars > maxSharedStringChars) throw tooManySharedStrings({ chars: maxSharedStringChars });
          strings.push(runs.join(''));
          runs = undefined;
        }
      },
      end: () => {
        this.#sharedStrings = strings;
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
      },
      end: () => {
        this.#dateStyles = cellFormats.map((id) => isDateFormat(id, formats.get(id)));
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

  constructor(
    private readonly book: WorkbookParts,
    private readonly limits: SpreadsheetLimits,
  ) {}

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
        // The row is an array indexed by column: `r="ZZZZZZ1"` would otherwise allocate hundreds of millions of slots.
        if (this.#column > this.limits.maxColumns) throw tooManyColumns(this.limits.maxColumns, this.#rowNumber);
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

  text(content: string): void {
    if (this.#text === undefined) return;
    const held = this.#text.length + (this.#cell?.inline?.length ?? 0);
    if (held + content.length > this.limits.maxCellChars) throw cellTooLong(this.limits.maxCellChars, this.#rowNumber);
    this.#text += content;
  }

  close(name: string): void {
    switch (name) {
      case 'v':
        if (this.#cell !== undefined && this.#text !== undefined) this.#cell.value = this.#text;
        this.#text = undefined;
        break;
      case 't':
        if (this.#cell !== undefined && this.#text !== undefined) this.#cell.inline += unescapeOoxml(this.#text);
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

/**
 * Decompressed sheets waiting in a temporary directory until the parts they depend on have been read.
 * fflate hands over content while `push` runs, which cannot wait for a disk: what it hands over is
 * queued, and `flush` writes it before the next piece is pushed.
 */
class ParkedSheets {
  #directory: string | undefined;
  /** Sheets written to their end, by part. */
  readonly #files = new Map<string, string>();
  readonly #queue: { part: string; data: Uint8Array; final: boolean }[] = [];
  #writing: { part: string; path: string; handle: FileHandle } | undefined;
  #count = 0;

  writer(part: string): Consumer {
    return (data, final) => this.#queue.push({ part, data, final });
  }

  async flush(): Promise<void> {
    for (const { part, data, final } of this.#queue.splice(0)) {
      let writing = this.#writing;
      if (writing?.part !== part) {
        await this.#close();
        this.#directory ??= await mkdtemp(join(tmpdir(), XLSX_TEMPORARY_PREFIX));
        const path = join(this.#directory, `sheet-${++this.#count}.xml`);
        writing = { part, path, handle: await open(path, 'w') };
        this.#writing = writing;
      }
      for (let at = 0; at < data.length; ) {
        const { bytesWritten } = await writing.handle.write(data, at);
        if (bytesWritten === 0) throw new Error('no room for a temporary copy of the sheet');
        at += bytesWritten;
      }
      if (final) {
        await this.#close();
        this.#files.set(part, writing.path);
      }
    }
  }

  /** A sheet's copy, once written to its end. */
  file(part: string): string | undefined {
    return this.#files.get(part);
  }

  async remove(): Promise<void> {
    this.#queue.length = 0;
    await this.#close();
    if (this.#directory !== undefined) await rm(this.#directory, { recursive: true, force: true });
  }

  async #close(): Promise<void> {
    const writing = this.#writing;
    this.#writing = undefined;
    await writing?.handle.close();
  }
}
