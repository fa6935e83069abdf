import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvCell, toExcelCsv } from '../../functions/core/csv.js';

describe('Function: csvCell', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\r\nlines', '"two\r\nlines"'],
    ['=HYPERLINK("x")', '"\'=HYPERLINK(""x"")"'],
    ['+86', "'+86"],
    ['@sum', "'@sum"],
  ])('writes %j as %j', (value, cell) => {
    // Act & Assess
    expect(csvCell(value)).toBe(cell);
  });

  it('writes numbers as they are', () => {
    // Act & Assess
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell(20)).toBe('20');
  });
});

describe('Function: toExcelCsv', () => {
  it('starts with a BOM, ends every line with CRLF, and reads back to the same cells', () => {
    // Act
    const csv = toExcelCsv(['乡镇', '地点'], [['城岗乡', '村委会,东侧'], ['高兴镇', '农机站“大院”']]);

    // Assess
    expect(csv.startsWith('\uFEFF乡镇,地点\r\n')).toBe(true);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.replace(/\r\n/g, '').includes('\n')).toBe(false);
    expect(parse(csv, { bom: true })).toEqual([
      ['乡镇', '地点'],
      ['城岗乡', '村委会,东侧'],
      ['高兴镇', '农机站“大院”'],
    ]);
  });
});
