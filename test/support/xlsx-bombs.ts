/**
 * Hostile workbooks, built in memory in milliseconds: a ZIP entry that inflates to gigabytes takes
 * a few megabytes, because each deflate block of a repeated megabyte is itself repeated. The
 * segments are compressed with a full flush, which empties deflate's window, so their blocks can be
 * laid end to end and still form one valid deflate stream.
 */
import { constants, deflateRawSync } from 'node:zlib';

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const RELATIONSHIP = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** Deflated content: `head`, then `unit` repeated until `repeatedBytes`, then `tail`. */
export interface BombContent {
  head: string;
  unit: string;
  repeatedBytes: number;
  tail: string;
}

interface Deflated {
  data: Buffer;
  size: number;
}

function flushed(text: string | Buffer): Buffer {
  return deflateRawSync(Buffer.from(text), { finishFlush: constants.Z_FULL_FLUSH });
}

function deflateBomb(content: BombContent): Deflated {
  const unit = Buffer.from(content.unit);
  const block = Buffer.alloc(Math.max(unit.length, Math.floor(MiB / unit.length) * unit.length));
  for (let at = 0; at < block.length; at += unit.length) unit.copy(block, at);
  const copies = Math.ceil(content.repeatedBytes / block.length);
  const blockDeflated = flushed(block);
  const head = Buffer.from(content.head);
  const tail = Buffer.from(content.tail);
  const parts = [flushed(head), ...Array.from({ length: copies }, () => blockDeflated), deflateRawSync(tail)];
  return { data: Buffer.concat(parts), size: head.length + copies * block.length + tail.length };
}

export interface BombEntry {
  name: string;
  content: string | BombContent;
  /**
   * Where the sizes are: `header` states the true inflated size up front; `descriptor` puts them
   * after the data, so a reader learns nothing before inflating (what streaming writers do);
   * `lie` states a small size in the header.
   */
  sizes?: 'header' | 'descriptor' | 'lie';
}

function uint32s(...values: number[]): Buffer {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => out.writeUInt32LE(value >>> 0, i * 4));
  return out;
}

/**
 * A ZIP of deflated entries in the given order. The CRCs are left 0: computing one over gigabytes
 * would take the test longer than the reader needs to refuse the file, and the reader must stop
 * long before an entry's end, where a CRC would be checked.
 */
export function bombZip(entries: BombEntry[]): Buffer {
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const deflated = typeof entry.content === 'string' ? { data: deflateRawSync(Buffer.from(entry.content)), size: Buffer.byteLength(entry.content) } : deflateBomb(entry.content);
    const declaredSize = entry.sizes === 'lie' ? 1024 : Math.min(deflated.size, 0xffffffff);
    const described = entry.sizes === 'descriptor';
    const name = Buffer.from(entry.name);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(0x800 | (described ? 0x8 : 0), 6);
    header.writeUInt16LE(8, 8);
    if (!described) uint32s(0, deflated.data.length, declaredSize).copy(header, 14);
    header.writeUInt16LE(name.length, 26);
    const descriptor = described ? uint32s(0x08074b50, 0, deflated.data.length, declaredSize) : Buffer.alloc(0);
    local.push(header, name, deflated.data, descriptor);
    const record = Buffer.alloc(46);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(20, 4);
    record.writeUInt16LE(20, 6);
    header.copy(record, 8, 6, 30);
    uint32s(0, deflated.data.length, declaredSize).copy(record, 16);
    record.writeUInt16LE(name.length, 28);
    record.writeUInt32LE(offset, 42);
    central.push(record, name);
    offset += header.length + name.length + deflated.data.length + descriptor.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, directory, end]);
}

/** The workbook part and its relationships: one sheet, with shared strings. */
export const WORKBOOK_ENTRIES: BombEntry[] = [
  { name: 'xl/workbook.xml', content: `<workbook xmlns="${MAIN}" xmlns:r="${RELATIONSHIP}"><sheets><sheet name="证照" sheetId="1" r:id="rId1"/></sheets></workbook>` },
  {
    name: 'xl/_rels/workbook.xml.rels',
    content: `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${RELATIONSHIP}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="${RELATIONSHIP}/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
  },
];

const HEADER_ROW = ['证照类型', '证照编号', '持证主体', '联系电话', '所属乡镇', '发证日期', '有效期至']
  .map((title, i) => `<c r="${String.fromCharCode(65 + i)}1" t="inlineStr"><is><t>${title}</t></is></c>`)
  .join('');
export const SMALL_SHEET = `<worksheet xmlns="${MAIN}"><sheetData><row r="1">${HEADER_ROW}</row></sheetData></worksheet>`;

/** `xl/sharedStrings.xml` inflating to `bytes` of `<si><t>ab</t></si>`. */
export function sharedStringsBomb(bytes: number, sizes: BombEntry['sizes'] = 'descriptor'): Buffer {
  return bombZip([
    ...WORKBOOK_ENTRIES,
    { name: 'xl/sharedStrings.xml', sizes, content: { head: `<sst xmlns="${MAIN}">`, unit: '<si><t>ab</t></si>', repeatedBytes: bytes, tail: '</sst>' } },
    { name: 'xl/worksheets/sheet1.xml', content: SMALL_SHEET },
  ]);
}

/** A sheet whose second row has one inline cell of `bytes` characters. */
export function oneCellBomb(bytes: number, sizes: BombEntry['sizes'] = 'descriptor'): Buffer {
  return bombZip([
    ...WORKBOOK_ENTRIES,
    { name: 'xl/sharedStrings.xml', content: `<sst xmlns="${MAIN}"/>` },
    {
      name: 'xl/worksheets/sheet1.xml',
      sizes,
      content: {
        head: `<worksheet xmlns="${MAIN}"><sheetData><row r="1">${HEADER_ROW}</row><row r="2"><c r="A2" t="inlineStr"><is><t>`,
        unit: 'a',
        repeatedBytes: bytes,
        tail: '</t></is></c></row></sheetData></worksheet>',
      },
    },
  ]);
}

/**
 * A sheet of `bytes` zeros stored before the workbook part, as Excel orders parts: the reader does
 * not know yet which sheet it wants, so it copies every sheet to its temporary directory.
 */
export function zerosBomb(bytes: number, sizes: BombEntry['sizes'] = 'descriptor'): Buffer {
  return bombZip([
    { name: 'xl/worksheets/sheet1.xml', sizes, content: { head: '', unit: '\0', repeatedBytes: bytes, tail: '' } },
    ...WORKBOOK_ENTRIES,
  ]);
}

/** The classic billion laughs: ten levels of ten entity references, a billion `lol`s if expanded. */
export function billionLaughs(): Buffer {
  const entities = ['<!ENTITY lol "lol">'];
  for (let level = 1; level <= 9; level++) entities.push(`<!ENTITY lol${level} "${`&lol${level === 1 ? '' : level - 1};`.repeat(10)}">`);
  const doctype = `<?xml version="1.0"?><!DOCTYPE worksheet [${entities.join('')}]>`;
  return bombZip([
    ...WORKBOOK_ENTRIES,
    { name: 'xl/sharedStrings.xml', content: `<sst xmlns="${MAIN}"/>` },
    {
      name: 'xl/worksheets/sheet1.xml',
      content: `${doctype}<worksheet xmlns="${MAIN}"><sheetData><row r="1">${HEADER_ROW}</row><row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>`,
    },
  ]);
}
