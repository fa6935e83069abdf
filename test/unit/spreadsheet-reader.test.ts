import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { crc32, deflateRawSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openSpreadsheet,
  SpreadsheetError,
  type OpenSpreadsheet,
  type SpreadsheetRow,
} from '../../functions/adapters/import/spreadsheet-reader.js';
import { XLSX_TEMPORARY_PREFIX } from '../../functions/adapters/import/xlsx-workbook.js';
import { mapHeaders, rowToRecord } from '../../functions/core/spreadsheet-rows.js';
import { billionLaughs, bombZip, GiB, MiB, oneCellBomb, sharedStringsBomb, SMALL_SHEET, WORKBOOK_ENTRIES, zerosBomb } from '../support/xlsx-bombs.js';

const HEADER_LINE = '证照类型,证照编号,持证主体,联系电话,所属乡镇,发证日期,有效期至';
const ROW_LINE = '食品经营许可证,JY13607320001234,兴国县某餐饮店,13900000001,潋江镇,2021-03-01,2026-02-28';
const HEADERS = HEADER_LINE.split(',');

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certalarm-spreadsheet-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fixture(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function readAll(sheet: OpenSpreadsheet): Promise<SpreadsheetRow[]> {
  const rows: SpreadsheetRow[] = [];
  for await (const row of sheet.rows) rows.push(row);
  return rows;
}

/** The rejection of an `openSpreadsheet` (or of reading its rows), to assert on its code and message. */
async function failureOf(open: () => Promise<OpenSpreadsheet>): Promise<SpreadsheetError> {
  try {
    await readAll(await open());
  } catch (error) {
    if (error instanceof SpreadsheetError) return error;
    throw error;
  }
  throw new Error('expected the spreadsheet to be refused');
}

/** The temporary directories the xlsx reader makes in this process for the sheets it copies. */
async function temporaryFiles(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith(XLSX_TEMPORARY_PREFIX)).sort();
}

/** Live memory is what must stay flat; garbage awaiting collection says nothing, so tests collect first. */
function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

type SheetSpec = { name: string; rows: unknown[][]; state?: 'visible' | 'hidden' };

async function xlsxFixture(name: string, sheets: SheetSpec[]): Promise<string> {
  const workbook = new ExcelJS.Workbook();
  for (const spec of sheets) {
    const worksheet = workbook.addWorksheet(spec.name, spec.state ? { state: spec.state } : undefined);
    spec.rows.forEach((values, i) => {
      if (values.length > 0) worksheet.getRow(i + 1).values = values as ExcelJS.CellValue[];
    });
  }
  const path = join(dir, name);
  await workbook.xlsx.writeFile(path);
  return path;
}

/** A workbook as exceljs's streaming writer saves it: every ZIP entry's sizes in a data descriptor after its data. */
async function streamedXlsxFixture(name: string, rows: unknown[][]): Promise<string> {
  const path = join(dir, name);
  const writer = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: true, useStyles: true });
  const worksheet = writer.addWorksheet('证照');
  for (const values of rows) {
    const row = worksheet.addRow(values);
    row.eachCell((cell) => {
      if (cell.value instanceof Date) cell.numFmt = 'yyyy-mm-dd';
    });
    row.commit();
  }
  worksheet.commit();
  await writer.commit();
  return path;
}

/** `bytes` in pieces of `size` bytes, as a slow network would deliver them. */
function inPieces(bytes: Buffer, size: number): () => Readable {
  return () => Readable.from(Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size)));
}

interface ZipPart {
  name: string;
  content: string | Buffer;
  stored?: boolean;
  /** The compression method the headers state; the content is then written as it is. */
  method?: number;
  /** Sizes after the data instead of in the header, with or without the descriptor's optional signature. */
  descriptor?: 'signed' | 'unsigned';
}

function uint32s(...values: number[]): Buffer {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => out.writeUInt32LE(value >>> 0, i * 4));
  return out;
}

/** A ZIP archive with its entries in the given order, stored or deflated, sized in headers or descriptors. */
function zipArchive(parts: ZipPart[]): Buffer {
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const part of parts) {
    const data = Buffer.from(part.content);
    const raw = part.stored || part.method !== undefined;
    const body = raw ? data : deflateRawSync(data);
    const name = Buffer.from(part.name);
    const crc = crc32(data);
    const described = part.descriptor !== undefined;
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(0x800 | (described ? 0x8 : 0), 6); // UTF-8 names; bit 3: data descriptor
    header.writeUInt16LE(part.method ?? (part.stored ? 0 : 8), 8);
    if (!described) uint32s(crc, body.length, data.length).copy(header, 14);
    header.writeUInt16LE(name.length, 26);
    const descriptor = !described ? Buffer.alloc(0) : part.descriptor === 'signed' ? uint32s(0x08074b50, crc, body.length, data.length) : uint32s(crc, body.length, data.length);
    local.push(header, name, body, descriptor);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    header.copy(entry, 8, 6, 30); // flags, method, time, date; then crc, sizes and name length below
    uint32s(crc, body.length, data.length).copy(entry, 16);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt32LE(offset, 42);
    central.push(entry, name);
    offset += header.length + name.length + body.length + descriptor.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, directory, end]);
}

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const RELATIONSHIP = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

/**
 * A workbook written by hand, parts in the order a streaming reader likes best (workbook, shared strings
 * and styles before the sheets), in the 1904 date system, with a cell of every kind. Its sheet part uses a
 * namespace prefix, its shared strings are stored uncompressed under a Windows-style name in other
 * letter case, and the later entries have data descriptors, with and without their signature.
 */
const HANDWRITTEN_PARTS: ZipPart[] = [
  { name: '[Content_Types].xml', content: '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>' },
  {
    name: 'xl/workbook.xml',
    content: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="${MAIN}" xmlns:r="${RELATIONSHIP}"><workbookPr date1904="1"/><sheets><sheet name="说明" sheetId="1" r:id="rId2"/><sheet name="R&amp;D 台账" sheetId="2" r:id="rId1"/></sheets></workbook>`,
  },
  {
    name: 'xl/_rels/workbook.xml.rels',
    content: `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${RELATIONSHIP}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="${RELATIONSHIP}/worksheet" Target="/xl/worksheets/sheet2.xml"/><Relationship Id="rId3" Type="${RELATIONSHIP}/sharedStrings" Target="SharedStrings.xml"/><Relationship Id="rId4" Type="${RELATIONSHIP}/styles" Target="styles.xml"/></Relationships>`,
  },
  {
    name: 'xl\\SharedStrings.xml',
    stored: true,
    content: `<sst xmlns="${MAIN}" count="3" uniqueCount="3"><si><t>证照类型</t></si><si><r><rPr><b/></rPr><t>药品经营</t></r><r><t xml:space="preserve">许可证（零售）</t></r><rPh sb="0" eb="2"><t>ヤクヒン</t></rPh><phoneticPr fontId="1"/></si><si><t>line_x000D_break &lt;1&gt; _x005F_x0041_</t></si></sst>`,
  },
  {
    name: 'xl/styles.xml',
    descriptor: 'signed',
    content: `<styleSheet xmlns="${MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/></numFmts><cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="4"/></cellXfs></styleSheet>`,
  },
  { name: 'xl/worksheets/sheet2.xml', descriptor: 'unsigned', content: `<worksheet xmlns="${MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>填表说明</t></is></c></row></sheetData></worksheet>` },
  {
    name: 'xl/worksheets/sheet1.xml',
    descriptor: 'signed',
    content: [
      `<?xml version="1.0" encoding="UTF-8"?><!-- written by hand --><x:worksheet xmlns:x="${MAIN}"><x:dimension ref="A1:G4"/><x:sheetData>`,
      '<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="B1" t="inlineStr"><x:is><x:t>编号</x:t></x:is></x:c><x:c r="C1" t="str"><x:v>日期</x:v></x:c></x:row>',
      '<x:row r="3"><x:c r="A3" t="s"><x:v>1</x:v></x:c><x:c r="B3" s="3"><x:f>1+1</x:f><x:v>2</x:v></x:c><x:c r="C3" s="1"><x:v>44985</x:v></x:c>',
      '<x:c r="D3" s="1"/><x:c r="E3" t="b"><x:v>1</x:v></x:c><x:c t="e"><x:f>NA()</x:f><x:v>#N/A</x:v></x:c><x:c r="G3" s="2"><x:v>0.5</x:v></x:c></x:row>',
      '<x:row><x:c r="A4" t="s"><x:v>2</x:v></x:c><x:c r="B4" t="d"><x:v>2026-02-28</x:v></x:c><x:c r="C4"><x:f>A1</x:f></x:c><x:c r=\'D4\' t="str"><x:v><![CDATA[a&b<c>]]></x:v></x:c></x:row>',
      '<x:row r="5" spans="1:7"/></x:sheetData></x:worksheet>',
    ].join('\n'),
  },
];
const HANDWRITTEN_XLSX = zipArchive(HANDWRITTEN_PARTS);

/** The handwritten workbook with its data sheet (sheet1.xml) replaced. */
function withDataSheet(sheet: Omit<ZipPart, 'name'>): Buffer {
  return zipArchive(HANDWRITTEN_PARTS.map((part) => (part.name === 'xl/worksheets/sheet1.xml' ? { name: part.name, ...sheet } : part)));
}

const CERTIFICATE_SHEET: SheetSpec = {
  name: '证照台账',
  rows: [
    ['证照类型', '证照编号', '持证主体', '联系电话', '所属乡镇', '发证日期', '有效期至'],
    ['食品经营许可证', 'JY13607320001234', '兴国县某餐饮店', 13900000001, '潋江镇', new Date(Date.UTC(2021, 2, 1)), new Date(Date.UTC(2026, 1, 28))],
    [],
    [
      { richText: [{ text: '药品经营' }, { font: { bold: true }, text: '许可证（零售）' }] },
      { formula: '"YP"&"0002"', result: 'YP0002' },
      '兴国县某药房',
      '13900000002',
      '潋江镇',
      46082,
      '2031/3/1',
    ],
  ],
};

describe('Function: openSpreadsheet', () => {
  describe('CSV', () => {
    it('reads a UTF-8 file with a byte-order mark, which does not reach the first header', async () => {
      // Prepare
      const path = await fixture('bom.csv', `\uFEFF${HEADER_LINE}\n${ROW_LINE}\n`);

      // Act
      const sheet = await openSpreadsheet({ path });
      const rows = await readAll(sheet);

      // Assess
      expect(sheet).toMatchObject({ format: 'csv', encoding: 'utf-8', headers: HEADERS, headerRow: 1 });
      expect(rows).toEqual([{ row: 2, values: ROW_LINE.split(',') }]);
    });

    it('reads a UTF-8 file without a byte-order mark', async () => {
      // Prepare
      const path = await fixture('plain.csv', `${HEADER_LINE}\r\n${ROW_LINE}\r\n`);

      // Act
      const sheet = await openSpreadsheet({ path });
      const rows = await readAll(sheet);

      // Assess
      expect(sheet).toMatchObject({ format: 'csv', encoding: 'utf-8', headers: HEADERS });
      expect(rows).toEqual([{ row: 2, values: ROW_LINE.split(',') }]);
    });

    it('detects a GB18030 (GBK) file and decodes its Chinese headers and names', async () => {
      // Prepare
      const path = await fixture('gbk.csv', iconv.encode(`${HEADER_LINE}\r\n${ROW_LINE}\r\n`, 'gb18030'));

      // Act
      const sheet = await openSpreadsheet({ path });
      const rows = await readAll(sheet);

      // Assess
      expect(sheet).toMatchObject({ format: 'csv', encoding: 'gb18030', headers: HEADERS });
      expect(rows[0]?.values[2]).toBe('兴国县某餐饮店');
    });

    it('decodes GB18030 arriving in pieces that split its two- and four-byte characters', async () => {
      // Prepare: 𠀀 (U+20000) takes four bytes in GB18030, the Chinese characters two each.
      const bytes = iconv.encode(`${HEADER_LINE}\r\n${ROW_LINE.replace('兴国县某餐饮店', '兴国县𠀀餐饮店')}\r\n`, 'gb18030');

      // Act
      const sheet = await openSpreadsheet({ stream: inPieces(bytes, 3) });
      const rows = await readAll(sheet);

      // Assess
      expect(sheet).toMatchObject({ format: 'csv', encoding: 'gb18030', headers: HEADERS });
      expect(rows).toEqual([{ row: 2, values: ROW_LINE.replace('兴国县某餐饮店', '兴国县𠀀餐饮店').split(',') }]);
    });

    it('decodes a file as GB18030 when told it is GBK', async () => {
      // Prepare
      const path = await fixture('gbk-told.csv', iconv.encode(`${HEADER_LINE}\n${ROW_LINE}\n`, 'gbk'));

      // Act
      const sheet = await openSpreadsheet({ path }, { encoding: 'gbk' });
      const rows = await readAll(sheet);

      // Assess
      expect(sheet.encoding).toBe('gb18030');
      expect(rows[0]?.values[2]).toBe('兴国县某餐饮店');
    });

    it('refuses GBK bytes when told the file is UTF-8, instead of storing mangled names', async () => {
      // Prepare
      const path = await fixture('gbk-as-utf8.csv', iconv.encode(`${HEADER_LINE}\n${ROW_LINE}\n`, 'gb18030'));

      // Act
      const error = await failureOf(() => openSpreadsheet({ path }, { encoding: 'utf-8' }));

      // Assess
      expect(error.code).toBe('invalid_encoding');
      expect(error.message).toMatch(/^文件按 UTF-8 读取，但第 \d+ 字节处不是 UTF-8 字符；如果文件是 GBK\/GB18030 编码，请指定编码 gb18030/);
    });

    it('stops with invalid_encoding when GBK appears only after an all-ASCII start that looked like UTF-8', async () => {
      // Prepare
      const filler = `${'type,number,holderName,phone,township,issuedOn,expiresOn'}\n${'x,A1,Company,13900000001,360732100,2021-01-01,2026-01-01\n'.repeat(2000)}`;
      const path = await fixture('late-gbk.csv', Buffer.concat([Buffer.from(filler), iconv.encode('x,A2,兴国县某餐饮店,13900000001,360732100,2021-01-01,2026-01-01\n', 'gb18030')]));

      // Act
      const error = await failureOf(() => openSpreadsheet({ path }));

      // Assess
      expect(error.code).toBe('invalid_encoding');
      expect(error.message).toContain(`第 ${Buffer.byteLength(filler) + 'x,A2,'.length} 字节处不是 UTF-8 字符`);
    });

    it('numbers rows as Excel does: a blank line is a row, and is passed on for the caller to skip', async () => {
      // Prepare
      const path = await fixture('blank-line.csv', `${HEADER_LINE}\n${ROW_LINE}\n\n${ROW_LINE}\n`);

      // Act
      const rows = await readAll(await openSpreadsheet({ path }));

      // Assess
      expect(rows.map((r) => r.row)).toEqual([2, 3, 4]);
      expect(rows[1]?.values).toEqual(['']);
    });

    it('numbers rows as Excel does: a quoted cell over several lines is one row', async () => {
      // Prepare
      const multiline = '食品经营许可证,JY1,"兴国县某餐饮店\n（潋江分店）",13900000001,潋江镇,2021-03-01,2026-02-28';
      const path = await fixture('multiline.csv', `${HEADER_LINE}\n${multiline}\n${ROW_LINE}\n`);

      // Act
      const rows = await readAll(await openSpreadsheet({ path }));

      // Assess
      expect(rows.map((r) => r.row)).toEqual([2, 3]);
      expect(rows[0]?.values[2]).toBe('兴国县某餐饮店\n（潋江分店）');
    });

    it('takes the first row with content as the header, keeping Excel\'s numbering', async () => {
      // Prepare
      const path = await fixture('late-header.csv', `\n,,\n${HEADER_LINE}\n${ROW_LINE}\n`);

      // Act
      const sheet = await openSpreadsheet({ path });
      const rows = await readAll(sheet);

      // Assess
      expect(sheet.headerRow).toBe(3);
      expect(rows.map((r) => r.row)).toEqual([4]);
    });

    it('keeps short and long rows as they are', async () => {
      // Prepare
      const path = await fixture('ragged.csv', `${HEADER_LINE}\n食品经营许可证,JY1\n${ROW_LINE},多余\n`);

      // Act
      const rows = await readAll(await openSpreadsheet({ path }));

      // Assess
      expect(rows.map((r) => r.values.length)).toEqual([2, 8]);
    });

    it('reads from a stream factory', async () => {
      // Prepare
      const bytes = Buffer.from(`${HEADER_LINE}\n${ROW_LINE}\n`);

      // Act
      const sheet = await openSpreadsheet({ stream: () => Readable.from([bytes.subarray(0, 10), bytes.subarray(10)]) });
      const rows = await readAll(sheet);

      // Assess
      expect(sheet.headers).toEqual(HEADERS);
      expect(rows).toHaveLength(1);
    });

    it('reads a CSV with an .xlsx name by its content', async () => {
      // Prepare
      const path = await fixture('misnamed.xlsx', `${HEADER_LINE}\n${ROW_LINE}\n`);

      // Act
      const sheet = await openSpreadsheet({ path });

      // Assess
      expect(sheet.format).toBe('csv');
    });

    it('refuses a quote that never closes, naming the row where it opens', async () => {
      // Prepare
      const path = await fixture('open-quote.csv', `${HEADER_LINE}\n${ROW_LINE}\n食品经营许可证,"JY2,兴国\n`);

      // Act
      const error = await failureOf(() => openSpreadsheet({ path }));

      // Assess
      expect(error.code).toBe('malformed_csv');
      expect(error.message).toMatch(/^CSV 第 3 行有一个引号（"）没有闭合.* \/ a quote \(".*in the CSV in row 3 is never closed/);
    });
  });

  describe('xlsx', () => {
    it('reads the first sheet by default: Chinese headers, a date cell, a phone stored as a number', async () => {
      // Prepare
      const path = await xlsxFixture('ledger.xlsx', [CERTIFICATE_SHEET, { name: '说明', rows: [['填表说明']] }]);

      // Act
      const sheet = await openSpreadsheet({ path });
      const rows = await readAll(sheet);

      // Assess
      expect(sheet).toMatchObject({ format: 'xlsx', sheet: '证照台账', headers: HEADERS, headerRow: 1 });
      expect(rows[0]).toEqual({
        row: 2,
        values: ['食品经营许可证', 'JY13607320001234', '兴国县某餐饮店', 13900000001, '潋江镇', new Date(Date.UTC(2021, 2, 1)), new Date(Date.UTC(2026, 1, 28))],
      });
    });

    it('numbers rows by the sheet, skipping a blank row, and flattens rich text and formulas', async () => {
      // Prepare
      const path = await xlsxFixture('rich.xlsx', [CERTIFICATE_SHEET]);

      // Act
      const rows = await readAll(await openSpreadsheet({ path }));

      // Assess
      expect(rows.map((r) => r.row)).toEqual([2, 4]);
      expect(rows[1]?.values.slice(0, 2)).toEqual(['药品经营许可证（零售）', 'YP0002']);
    });

    it('gives rows that rowToRecord turns into records', async () => {
      // Prepare
      const path = await xlsxFixture('records.xlsx', [CERTIFICATE_SHEET]);
      const sheet = await openSpreadsheet({ path });
      const { columns } = mapHeaders(sheet.headers);

      // Act
      const records = [];
      for await (const row of sheet.rows) records.push(rowToRecord(columns, row.values).record);

      // Assess
      expect(records[0]).toMatchObject({ phone: '13900000001', issuedOn: '2021-03-01', expiresOn: '2026-02-28' });
      expect(records[1]).toMatchObject({ type: '药品经营许可证（零售）', number: 'YP0002', issuedOn: '2026-03-01', expiresOn: '2031-03-01' });
    });

    it('reads a sheet chosen by name', async () => {
      // Prepare
      const other: SheetSpec = { name: '2025年', rows: [['证照编号'], ['OLD-1']] };
      const path = await xlsxFixture('two-sheets.xlsx', [other, CERTIFICATE_SHEET]);

      // Act
      const sheet = await openSpreadsheet({ path }, { sheet: '证照台账' });
      const rows = await readAll(sheet);

      // Assess
      expect(sheet.sheet).toBe('证照台账');
      expect(sheet.headers).toEqual(HEADERS);
      expect(rows).toHaveLength(2);
    });

    it('passes over a hidden first sheet by default, as bureau templates keep drop-down values there', async () => {
      // Prepare
      const hidden: SheetSpec = { name: '下拉选项', rows: [['潋江镇'], ['古龙冈镇']], state: 'hidden' };
      const path = await xlsxFixture('hidden-first.xlsx', [hidden, CERTIFICATE_SHEET]);

      // Act
      const sheet = await openSpreadsheet({ path });
      await sheet.close();

      // Assess
      expect(sheet.sheet).toBe('证照台账');
    });

    it('copies a sheet stored before its workbook part to a temporary file, and deletes it when closed before the rows are read', async () => {
      // Prepare: exceljs writes the workbook part last, so its sheets wait in temporary files.
      const path = await xlsxFixture('temporary.xlsx', [CERTIFICATE_SHEET, { name: '说明', rows: [['填表说明']] }]);
      const before = await temporaryFiles();

      // Act
      const sheet = await openSpreadsheet({ path });
      const during = await temporaryFiles();
      await sheet.close();

      // Assess
      expect(during.length).toBeGreaterThan(before.length);
      expect(await temporaryFiles()).toEqual(before);
    });

    it('deletes its temporary copies when the workbook turns out incomplete after its sheets', async () => {
      // Prepare: cut at the header of the workbook part, the last entry exceljs writes.
      const whole = await readFile(await xlsxFixture('cut-after-sheets.xlsx', [CERTIFICATE_SHEET]));
      const path = await fixture('cut-after-sheets-truncated.xlsx', whole.subarray(0, whole.indexOf('xl/workbook.xml') - 30));
      const before = await temporaryFiles();

      // Act
      const error = await failureOf(() => openSpreadsheet({ path }));

      // Assess
      expect(error.code).toBe('corrupt_xlsx');
      expect(await temporaryFiles()).toEqual(before);
    });

    it('reads a sheet straight from the ZIP, with no temporary copy, when the workbook, shared strings and styles come first', async () => {
      // Prepare
      const before = await temporaryFiles();

      // Act
      const sheet = await openSpreadsheet({ stream: inPieces(HANDWRITTEN_XLSX, 4096) }, { sheet: 'r&d 台账' });
      const during = await temporaryFiles();
      const rows = await readAll(sheet);

      // Assess
      expect(sheet).toMatchObject({ format: 'xlsx', sheet: 'R&D 台账', headers: ['证照类型', '编号', '日期'], headerRow: 1 });
      expect(rows.map((r) => r.row)).toEqual([3, 4, 5]);
      expect(during).toEqual(before);
    });

    it('gives each kind of cell its value: shared, inline and formula text, numbers, booleans, error codes, and dates by their format', async () => {
      // Act
      const sheet = await openSpreadsheet({ stream: inPieces(HANDWRITTEN_XLSX, 4096) }, { sheet: 'R&D 台账' });
      const rows = await readAll(sheet);

      // Assess: the workbook counts days in the 1904 system, from 1904-01-01.
      expect(rows).toEqual([
        {
          row: 3,
          values: ['药品经营许可证（零售）', 2, new Date(Date.UTC(1904, 0, 1 + 44985)), undefined, true, '#N/A', new Date(Date.UTC(1904, 0, 1, 12))],
        },
        { row: 4, values: ['line\rbreak <1> _x0041_', new Date(Date.UTC(2026, 1, 28)), undefined, 'a&b<c>'] },
        { row: 5, values: [] },
      ]);
    });

    it('reads parts stored uncompressed with their sizes in data descriptors', async () => {
      // Prepare
      const stored = zipArchive(HANDWRITTEN_PARTS.map((part) => ({ ...part, stored: true, descriptor: 'signed' })));
      const expected = await readAll(await openSpreadsheet({ stream: inPieces(HANDWRITTEN_XLSX, 4096) }, { sheet: 'R&D 台账' }));

      // Act
      const rows = await readAll(await openSpreadsheet({ stream: inPieces(stored, 5) }, { sheet: 'R&D 台账' }));

      // Assess
      expect(rows).toEqual(expected);
    });

    it('passes over a part it does not need, even in a compression method it cannot read', async () => {
      // Prepare: bzip2 (method 12) is legal in a ZIP, and unreadable here.
      const parts: ZipPart[] = [...HANDWRITTEN_PARTS, { name: 'docProps/thumbnail.bin', content: Buffer.from('BZh91AY&SY'), method: 12 }];

      // Act
      const sheet = await openSpreadsheet({ stream: inPieces(zipArchive(parts), 4096) }, { sheet: 'R&D 台账' });
      const rows = await readAll(sheet);

      // Assess
      expect(sheet.headers).toEqual(['证照类型', '编号', '日期']);
      expect(rows).toHaveLength(3);
    });

    it.each([
      ['is not well-formed XML', { content: `<worksheet xmlns="${MAIN}"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></row></sheetData></worksheet>` }],
      ['cannot be inflated', { content: Buffer.alloc(64, 0xff), method: 8, descriptor: 'signed' as const }],
      ['is in a compression method this reader cannot read', { content: Buffer.from('BZh91AY&SY'), method: 12 }],
    ])('refuses a workbook whose sheet %s as corrupt', async (_case, sheet) => {
      // Prepare
      const bytes = withDataSheet(sheet);

      // Act
      const error = await failureOf(() => openSpreadsheet({ stream: inPieces(bytes, 4096) }, { sheet: 'R&D 台账' }));

      // Assess
      expect(error.code).toBe('corrupt_xlsx');
    });

    it('reads by default the first visible sheet in tab order, not the first stored', async () => {
      // Act
      const sheet = await openSpreadsheet({ stream: inPieces(HANDWRITTEN_XLSX, 4096) });
      await sheet.close();

      // Assess
      expect(sheet).toMatchObject({ sheet: '说明', headers: ['填表说明'] });
    });

    it.each([
      ['sizes in each entry header (exceljs writeFile)', () => xlsxFixture('pieces.xlsx', [CERTIFICATE_SHEET])],
      ['sizes in data descriptors (exceljs WorkbookWriter)', () => streamedXlsxFixture('pieces-streamed.xlsx', CERTIFICATE_SHEET.rows.filter((r) => r.length > 0))],
    ])('reads an xlsx that arrives a few bytes at a time, with %s', async (_case, write) => {
      // Prepare
      const path = await write();
      const expected = await readAll(await openSpreadsheet({ path }));

      // Act
      const sheet = await openSpreadsheet({ stream: inPieces(await readFile(path), 7) });
      const rows = await readAll(sheet);

      // Assess
      expect(sheet.headers).toEqual(HEADERS);
      expect(rows).toEqual(expected);
      expect(rows[0]?.values).toEqual(['食品经营许可证', 'JY13607320001234', '兴国县某餐饮店', 13900000001, '潋江镇', new Date(Date.UTC(2021, 2, 1)), new Date(Date.UTC(2026, 1, 28))]);
    });

    it('refuses an unknown sheet name, listing the sheets there are', async () => {
      // Prepare
      const path = await xlsxFixture('named.xlsx', [CERTIFICATE_SHEET, { name: '说明', rows: [['填表说明']] }]);

      // Act
      const error = await failureOf(() => openSpreadsheet({ path }, { sheet: '2026年' }));

      // Assess
      expect(error.code).toBe('unknown_sheet');
      expect(error.message).toBe('工作簿中没有名为「2026年」的工作表；现有工作表：证照台账、说明 / the workbook has no sheet named "2026年"; its sheets are: 证照台账, 说明');
    });

    it('refuses a truncated xlsx as corrupt', async () => {
      // Prepare
      const whole = await readFile(await xlsxFixture('whole.xlsx', [CERTIFICATE_SHEET]));
      const path = await fixture('truncated.xlsx', whole.subarray(0, Math.floor(whole.length / 2)));

      // Act
      const error = await failureOf(() => openSpreadsheet({ path }));

      // Assess
      expect(error.code).toBe('corrupt_xlsx');
      expect(error.message).toContain('xlsx 文件已损坏或不完整');
    });

    it('refuses a ZIP signature followed by garbage as corrupt', async () => {
      // Prepare
      const path = await fixture('garbage.xlsx', Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(2048, 7)]));

      // Act
      const error = await failureOf(() => openSpreadsheet({ path }));

      // Assess
      expect(error.code).toBe('corrupt_xlsx');
    });

    it('refuses a text file read as xlsx because the caller said so', async () => {
      // Prepare
      const path = await fixture('text.xlsx', `${HEADER_LINE}\n`);

      // Act
      const error = await failureOf(() => openSpreadsheet({ path }, { format: 'xlsx' }));

      // Assess
      expect(error.code).toBe('corrupt_xlsx');
    });

    it('refuses a sheet with no header row', async () => {
      // Prepare
      const path = await xlsxFixture('empty-sheet.xlsx', [{ name: '空表', rows: [] }]);

      // Act
      const error = await failureOf(() => openSpreadsheet({ path }));

      // Assess
      expect(error.code).toBe('no_header');
      expect(error.message).toContain('工作表「空表」中没有表头行');
    });
  });

  describe('files that are not spreadsheets', () => {
    it.each([
      ['an empty file', Buffer.alloc(0), 'empty_file', '文件是空的'],
      ['blank lines only', Buffer.from('\n\n ,\n'), 'no_header', '文件中没有表头行'],
      ['a legacy .xls', Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(512)]), 'legacy_xls', '另存为” .xlsx'],
      ['UTF-16 text', Buffer.from(`\uFEFF${HEADER_LINE}`, 'utf16le'), 'unsupported_encoding', 'UTF-16'],
      ['binary data', Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0x01, 0x02]), 'not_a_spreadsheet', '不是 CSV 或 xlsx'],
    ])('refuses %s with a message saying what to do', async (_case, content, code, message) => {
      // Prepare
      const path = await fixture(`refused-${code}`, content);

      // Act
      const error = await failureOf(() => openSpreadsheet({ path }));

      // Assess
      expect(error.code).toBe(code);
      expect(error.message).toContain(message);
      expect(error.message).toContain(' / ');
      expect(error.retryable).toBe(false);
    });

    it('refuses options it does not know', async () => {
      // Prepare
      const path = await fixture('options.csv', `${HEADER_LINE}\n`);

      // Act
      const error = await failureOf(() => openSpreadsheet({ path }, { encoding: 'big5' as 'gbk' }));

      // Assess
      expect(error.code).toBe('invalid_options');
    });
  });

  describe('size limit', () => {
    it('refuses a file larger than maxBytes before reading it', async () => {
      // Prepare
      const path = await fixture('big.csv', `${HEADER_LINE}\n${ROW_LINE}\n`.repeat(10));

      // Act
      const error = await failureOf(() => openSpreadsheet({ path }, { maxBytes: 100 }));

      // Assess
      expect(error.code).toBe('too_large');
      expect(error.message).toContain('文件超过了大小上限（100 bytes）');
    });

    it('counts the bytes of a stream as they arrive and stops at the limit', async () => {
      // Prepare
      const chunk = Buffer.from(`${ROW_LINE}\n`.repeat(1000));
      async function* endless(): AsyncGenerator<Buffer> {
        yield Buffer.from(`${HEADER_LINE}\n`);
        for (;;) yield chunk;
      }

      // Act
      const error = await failureOf(() => openSpreadsheet({ stream: () => Readable.from(endless()) }, { maxBytes: 1024 * 1024 }));

      // Assess
      expect(error.code).toBe('too_large');
    });

    it('stops an xlsx stream at the limit too', async () => {
      // Prepare
      const bytes = await readFile(await xlsxFixture('limited.xlsx', [CERTIFICATE_SHEET]));
      const chunks = Array.from({ length: Math.ceil(bytes.length / 512) }, (_, i) => bytes.subarray(i * 512, (i + 1) * 512));

      // Act
      const error = await failureOf(() => openSpreadsheet({ stream: () => Readable.from(chunks) }, { maxBytes: bytes.length - 1 }));

      // Assess
      expect(error.code).toBe('too_large');
    });
  });

  describe('the byte source', () => {
    it('passes a failure of the source on as it is, for the caller\'s retry policy', async () => {
      // Prepare
      const dropped = new Error('socket hang up');
      async function* flaky(): AsyncGenerator<Buffer> {
        yield Buffer.from(`${HEADER_LINE}\n${ROW_LINE}\n`.repeat(2000));
        throw dropped;
      }

      // Act
      const failure = await openSpreadsheet({ stream: () => Readable.from(flaky()) })
        .then(readAll)
        .catch((error: unknown) => error);

      // Assess
      expect(failure).toBe(dropped);
    });

    it('closes the source when the reader stops early', async () => {
      // Prepare
      const source = Readable.from([Buffer.from(`${HEADER_LINE}\n${ROW_LINE}\n`.repeat(5000))]);
      const sheet = await openSpreadsheet({ stream: () => source });

      // Act
      for await (const row of sheet.rows) {
        if (row.row > 2) break;
      }

      // Assess
      expect(source.destroyed).toBe(true);
    });

    it('closes the source when told to before any row is read', async () => {
      // Prepare
      const source = Readable.from([Buffer.from(`${HEADER_LINE}\n${ROW_LINE}\n`.repeat(5000))]);
      const sheet = await openSpreadsheet({ stream: () => source });

      // Act
      await sheet.close();

      // Assess
      expect(source.destroyed).toBe(true);
    });

    it('lets the rows be iterated only once', async () => {
      // Prepare
      const path = await fixture('once.csv', `${HEADER_LINE}\n${ROW_LINE}\n`);
      const sheet = await openSpreadsheet({ path });
      await readAll(sheet);

      // Act
      const again = () => sheet.rows[Symbol.asyncIterator]();

      // Assess
      expect(again).toThrow('iterated only once');
    });
  });

  describe('hostile files', () => {
    /** The bomb as a stream, counting the bytes the reader pulled before it stopped. */
    function counted(bytes: Buffer): { source: () => Readable; pulled: () => number } {
      let pulled = 0;
      return {
        source: () =>
          Readable.from(
            (function* pieces() {
              for (let at = 0; at < bytes.length; at += 64 * 1024) {
                const piece = bytes.subarray(at, at + 64 * 1024);
                pulled += piece.length;
                yield piece;
              }
            })(),
          ),
        pulled: () => pulled,
      };
    }

    it('refuses shared strings inflating to 2 GiB, with the default limits, within the first part of the file', async () => {
      // Prepare: about 4 MB that inflate to 2 GiB of <si><t>ab</t></si>, sizes after the data as streaming writers put them.
      const bomb = sharedStringsBomb(2 * GiB);
      const stream = counted(bomb);

      // Act
      const error = await failureOf(() => openSpreadsheet({ stream: stream.source }));

      // Assess: the ratio bound trips at 64 MiB inflated, so only the first few percent of the file are read.
      expect(bomb.length).toBeLessThan(8 * MiB);
      expect(error.code).toBe('too_large_unpacked');
      expect(error.message).toMatch(/^文件解压后过大.* \/ file too large when unpacked/);
      expect(stream.pulled()).toBeLessThan(bomb.length / 10);
    });

    it('refuses an entry that states an inflated size over the part limit before inflating it', async () => {
      // Prepare
      const bomb = sharedStringsBomb(2 * GiB, 'header');
      const stream = counted(bomb);

      // Act
      const error = await failureOf(() => openSpreadsheet({ stream: stream.source }));

      // Assess
      expect(error.code).toBe('too_large_unpacked');
      expect(error.message).toContain('xl/sharedStrings.xml');
      expect(stream.pulled()).toBeLessThan(256 * 1024);
    });

    it('counts what an entry inflates to, not what its header claims', async () => {
      // Prepare: a header that claims 1 KB for 64 MiB of shared strings.
      const bomb = sharedStringsBomb(64 * MiB, 'lie');

      // Act
      const error = await failureOf(() => openSpreadsheet({ stream: counted(bomb).source }, { limits: { maxPartBytes: 8 * MiB } }));

      // Assess
      expect(error.code).toBe('too_large_unpacked');
      expect(error.message).toContain('over the limit of 8.0 MB');
    });

    it('bounds the bytes inflated from all entries together', async () => {
      // Prepare: eight unwanted entries of 4 MiB each, every one under the part limit.
      const filler = Array.from({ length: 8 }, (_, i) => ({ name: `docProps/filler${i}.xml`, sizes: 'descriptor' as const, content: { head: '', unit: 'x', repeatedBytes: 4 * MiB, tail: '' } }));
      const bomb = bombZip([...filler, ...WORKBOOK_ENTRIES, { name: 'xl/worksheets/sheet1.xml', content: SMALL_SHEET }]);

      // Act
      const error = await failureOf(() => openSpreadsheet({ stream: counted(bomb).source }, { limits: { maxInflatedBytes: 16 * MiB, maxInflationRatio: 10_000 } }));

      // Assess
      expect(error.code).toBe('too_large_unpacked');
      expect(error.message).toContain('文件解压后过大（超过 16.0 MB 的上限）');
    });

    it('refuses a count of shared strings over the limit', async () => {
      // Prepare: 1 MiB of <si><t>ab</t></si> is 58,254 strings.
      const bomb = sharedStringsBomb(1 * MiB);

      // Act
      const error = await failureOf(() => openSpreadsheet({ stream: counted(bomb).source }, { limits: { maxSharedStrings: 50_000, maxInflationRatio: 10_000 } }));

      // Assess
      expect(error.code).toBe('too_many_shared_strings');
      expect(error.message).toMatch(/共享文本表过大（超过 50000 条）.* \/ the workbook's shared-strings table is too large \(over 50000 entries\)/);
    });

    it('refuses one cell inflating to 400 MB, with the default limits, as soon as it passes the cell length', async () => {
      // Prepare
      const bomb = oneCellBomb(400 * MiB);
      const stream = counted(bomb);

      // Act
      const error = await failureOf(() => openSpreadsheet({ stream: stream.source }));

      // Assess
      expect(error.code).toBe('cell_too_long');
      expect(error.message).toMatch(/超过 32767 个字符的上限.* \/ .*longer than the limit of 32767 characters/);
      expect(stream.pulled()).toBeLessThan(256 * 1024);
    });

    it('refuses a cell over the limit with its row number when the sheet hands the text on in pieces', async () => {
      // Prepare: comments split the text, so no one run of it is long.
      const text = `${'a'.repeat(60)}<!---->`.repeat(100);
      const sheet = SMALL_SHEET.replace('</row>', `</row><row r="2"><c r="A2" t="inlineStr"><is><t>${text}</t></is></c></row>`);
      const bomb = bombZip([...WORKBOOK_ENTRIES, { name: 'xl/worksheets/sheet1.xml', content: sheet }]);

      // Act
      const error = await failureOf(() => openSpreadsheet({ stream: counted(bomb).source }, { limits: { maxCellChars: 1000 } }));

      // Assess
      expect(error.code).toBe('cell_too_long');
      expect(error.message).toContain('第 2 行有一个单元格或文本超过 1000 个字符的上限');
    });

    it('stops a sheet of zeros being copied to the temporary directory at its inflated size', async () => {
      // Prepare: 1 GiB of zeros stored before the workbook part, so the reader would copy it.
      const bomb = zerosBomb(1 * GiB);
      const stream = counted(bomb);

      // Act
      const error = await failureOf(() => openSpreadsheet({ stream: stream.source }, { limits: { maxPartBytes: 16 * MiB } }));

      // Assess
      expect(error.code).toBe('too_large_unpacked');
      expect(stream.pulled()).toBeLessThan(256 * 1024);
      expect(await temporaryFiles()).toEqual([]);
    });

    it('refuses a DTD, so a billion laughs is never expanded', async () => {
      // Prepare
      const bomb = billionLaughs();

      // Act
      const error = await failureOf(() => openSpreadsheet({ stream: counted(bomb).source }));

      // Assess
      expect(error.code).toBe('dtd_refused');
      expect(error.message).toMatch(/含有 DTD.* \/ the xlsx part xl\/worksheets\/sheet1.xml holds a DTD/);
    });

    it('refuses a cell reference past the column limit instead of allocating a row that wide', async () => {
      // Prepare: column ZZZZZZZZ would be a row of 217 billion slots.
      const sheet = SMALL_SHEET.replace('</row>', '</row><row r="2"><c r="ZZZZZZZZ2"><v>1</v></c></row>');
      const bomb = bombZip([...WORKBOOK_ENTRIES, { name: 'xl/worksheets/sheet1.xml', content: sheet }]);

      // Act
      const error = await failureOf(() => openSpreadsheet({ stream: counted(bomb).source }));

      // Assess
      expect(error.code).toBe('too_many_columns');
      expect(error.message).toContain('第 2 行超过 16384 列的上限');
    });

    it('refuses a CSV header of 200,000 columns naming the column limit', async () => {
      // Prepare
      const header = Array.from({ length: 200_000 }, (_, i) => `列${i}`).join(',');
      const path = await fixture('wide.csv', `${header}\n${ROW_LINE}\n`);

      // Act
      const error = await failureOf(() => openSpreadsheet({ path }));

      // Assess
      expect(error.code).toBe('too_many_columns');
      expect(error.message).toMatch(/^第 1 行超过 16384 列的上限.* \/ row 1 has more than 16384 columns, the limit/);
    });

    it('refuses a CSV row of more columns than the limit even when the row is short', async () => {
      // Prepare
      const path = await fixture('wide-short.csv', `${HEADER_LINE}\n${','.repeat(20_000)}\n`);

      // Act
      const error = await failureOf(() => openSpreadsheet({ path }));

      // Assess
      expect(error.code).toBe('too_many_columns');
      expect(error.message).toContain('row 2 has more than 16384 columns');
    });

    it('refuses a CSV cell longer than the cell limit', async () => {
      // Prepare
      const path = await fixture('long-cell.csv', `${HEADER_LINE}\n${ROW_LINE.replace('兴国县某餐饮店', 'x'.repeat(40_000))}\n`);

      // Act
      const error = await failureOf(() => openSpreadsheet({ path }));

      // Assess
      expect(error.code).toBe('cell_too_long');
      expect(error.message).toContain('第 2 行有一个单元格或文本超过 32767 个字符的上限');
    });
  });

  describe('streaming', () => {
    it('reads 200,000 rows with the heap staying bounded', async () => {
      // Prepare
      const path = join(dir, 'large.csv');
      const out = createWriteStream(path);
      out.write(`${HEADER_LINE}\n`);
      for (let i = 0; i < 200_000; i++) {
        const line = `食品经营许可证,JY${String(i).padStart(10, '0')},兴国县第${i}号餐饮店,139${String(i).padStart(8, '0')},潋江镇,2021/3/1,2026-02-28\n`;
        if (!out.write(line)) await once(out, 'drain');
      }
      out.end();
      await once(out, 'finish');
      const gc = collectGarbage();
      gc();
      const before = process.memoryUsage().heapUsed;
      let peak = before;

      // Act
      const sheet = await openSpreadsheet({ path });
      const { columns } = mapHeaders(sheet.headers);
      let count = 0;
      let last = 0;
      for await (const row of sheet.rows) {
        rowToRecord(columns, row.values);
        count++;
        last = row.row;
        if (count % 50_000 === 0) {
          gc();
          peak = Math.max(peak, process.memoryUsage().heapUsed);
        }
      }

      // Assess
      expect(count).toBe(200_000);
      expect(last).toBe(200_001);
      expect(peak - before).toBeLessThan(50 * 1024 * 1024);
    });

    it('does not hold on to the xlsx rows it has handed on', async () => {
      // Prepare: 60,000 rows written as Excel does, with a shared-strings table.
      const path = join(dir, 'large.xlsx');
      const writer = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: true, useStyles: true });
      const worksheet = writer.addWorksheet('证照');
      worksheet.addRow(HEADERS).commit();
      for (let i = 0; i < 60_000; i++) {
        const row = worksheet.addRow(['食品经营许可证', 'JY1', '兴国县某餐饮店', 13900000001, '潋江镇', new Date(Date.UTC(2021, 2, 1)), new Date(Date.UTC(2026, 1, 28))]);
        row.getCell(6).numFmt = 'yyyy-mm-dd';
        row.getCell(7).numFmt = 'yyyy-mm-dd';
        row.commit();
      }
      worksheet.commit();
      await writer.commit();
      const gc = collectGarbage();
      const live: number[] = [];

      // Act
      const sheet = await openSpreadsheet({ path });
      let count = 0;
      for await (const _row of sheet.rows) {
        if (++count % 20_000 === 0) {
          gc();
          live.push(process.memoryUsage().heapUsed);
        }
      }

      // Assess: retaining rows would cost about 2 KB each, 80 MB between the first and last checkpoint.
      expect(count).toBe(60_000);
      expect(live.at(-1)! - live[0]!).toBeLessThan(10 * 1024 * 1024);
    });
  });
});
