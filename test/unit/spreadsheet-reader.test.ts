import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  openSpreadsheet,
  SpreadsheetError,
  type OpenSpreadsheet,
  type SpreadsheetRow,
} from '../../functions/adapters/import/spreadsheet-reader.js';
import { mapHeaders, rowToRecord } from '../../functions/core/spreadsheet-rows.js';

const HEADER_LINE = '证照类型,证照编号,持证主体,联系电话,所属乡镇,发证日期,有效期至';
const ROW_LINE = '食品经营许可证,JY13607320001234,兴国县某餐饮店,13900000001,潋江镇,2021-03-01,2026-02-28';
const HEADERS = HEADER_LINE.split(',');

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certalarm-spreadsheet-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  // A workbook found damaged before its sheets are reached leaves exceljs's copies behind (see the reader).
  await Promise.all((await temporaryFiles()).map((name) => rm(join(tmpdir(), name), { force: true })));
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

/** The files exceljs's `tmp` dependency creates in this process: `tmp-<pid>-<random>`. */
async function temporaryFiles(): Promise<string[]> {
  const prefix = `tmp-${process.pid}-`;
  return (await readdir(tmpdir())).filter((name) => name.startsWith(prefix)).sort();
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

    it('deletes the temporary copies exceljs makes of the sheets when closed before the rows are read', async () => {
      // Prepare
      const path = await xlsxFixture('temporary.xlsx', [CERTIFICATE_SHEET, { name: '说明', rows: [['填表说明']] }]);
      const before = await temporaryFiles();

      // Act
      const sheet = await openSpreadsheet({ path });
      const during = await temporaryFiles();
      await sheet.close();

      // Assess
      expect(during.length).toBeGreaterThan(before.length);
      // exceljs deletes them with callbacks it does not wait for.
      await vi.waitFor(async () => expect(await temporaryFiles()).toEqual(before));
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
