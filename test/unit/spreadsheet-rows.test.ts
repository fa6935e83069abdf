import { describe, expect, it } from 'vitest';
import {
  cellText,
  cleanText,
  excelSerialToIsoDate,
  isBlankRow,
  isFieldReported,
  mapHeaders,
  rowToRecord,
  type Column,
  type FieldPath,
} from '../../functions/core/spreadsheet-rows.js';
import { validateCertificates, type CertificateLookups } from '../../functions/core/certificate.js';

/** The header a bureau's export typically has, in the order these tests put values. */
const HEADERS = ['证照类型', '证照编号', '持证主体', '统一社会信用代码', '联系电话', '所属乡镇', '发证日期', '有效期至'];
const { columns: COLUMNS } = mapHeaders(HEADERS);

const GOOD_ROW: readonly unknown[] = ['食品经营许可证', 'JY13607320001234', '兴国县某餐饮店', '', '13900000001', '潋江镇', '2021-03-01', '2026-02-28'];

/** A row like GOOD_ROW with one cell replaced. */
function rowWith(field: FieldPath, value: unknown): unknown[] {
  const index = COLUMNS.findIndex((column) => column.field === field);
  const row = [...GOOD_ROW];
  row[index] = value;
  return row;
}

/** What a single cell becomes: the record's value, or the issue's reason. */
function convert(field: FieldPath, value: unknown): { value?: unknown; reason?: string } {
  const { record, issues } = rowToRecord(COLUMNS, rowWith(field, value));
  const issue = issues.find((i) => i.field === field);
  if (issue) return { reason: issue.reason };
  const [head, tail] = field.split('.') as [string, string | undefined];
  const holder = record.holder as Record<string, unknown>;
  return { value: tail === undefined ? record[head] : holder[tail] };
}

describe('Function: mapHeaders', () => {
  it('maps a header that names one column by two titles, as bureau templates do', () => {
    // Prepare
    const headers = ['证照类型/证照名称', '证照编号', '持证主体/单位名称', '统一社会信用代码/身份证号', '联系电话/手机号', '所属乡镇', '发证日期', '有效期至/到期日期'];

    // Act
    const mapping = mapHeaders(headers);

    // Assess
    expect(mapping.columns.map((c) => c.field)).toEqual(['type', 'number', 'holder.name', 'holder.id', 'phone', 'township', 'issuedOn', 'expiresOn']);
    expect(mapping.missing).toEqual([]);
  });

  it('leaves a combined header alone when its titles name different fields', () => {
    // Act
    const mapping = mapHeaders(['证照编号/联系电话']);

    // Assess
    expect(mapping.columns[0]?.field).toBeUndefined();
    expect(mapping.ignored).toEqual(['证照编号/联系电话']);
  });

  it('maps the Chinese headers bureaus use to field paths', () => {
    // Prepare
    const headers = ['证照名称', '证书编号', '企业名称', '信用代码', '手机号码', '乡镇', '颁发日期', '有效期截止日期'];

    // Act
    const mapping = mapHeaders(headers);

    // Assess
    expect(mapping.columns.map((c) => c.field)).toEqual(['type', 'number', 'holder.name', 'holder.id', 'phone', 'township', 'issuedOn', 'expiresOn']);
    expect(mapping).toMatchObject({ missing: [], duplicates: [], ignored: [] });
  });

  it.each([
    ['证件类型', 'type'],
    ['许可证类型', 'type'],
    ['许可证编号', 'number'],
    ['证号', 'number'],
    ['编号', 'number'],
    ['持证人', 'holder.name'],
    ['单位名称', 'holder.name'],
    ['持证单位', 'holder.name'],
    ['姓名', 'holder.name'],
    ['身份证号', 'holder.id'],
    ['身份证号码', 'holder.id'],
    ['证件号码', 'holder.id'],
    ['联系电话', 'phone'],
    ['手机号', 'phone'],
    ['联系方式', 'phone'],
    ['电话', 'phone'],
    ['所属乡镇', 'township'],
    ['乡镇（街道）', 'township'],
    ['签发日期', 'issuedOn'],
    ['到期日期', 'expiresOn'],
    ['截止日期', 'expiresOn'],
    ['有效期止', 'expiresOn'],
  ])('maps %s to %s', (header, field) => {
    // Act
    const { columns } = mapHeaders([header]);

    // Assess
    expect(columns[0]?.field).toBe(field);
  });

  it.each([
    ['type', 'type'],
    ['number', 'number'],
    ['holder.name', 'holder.name'],
    ['holderName', 'holder.name'],
    ['holder.id', 'holder.id'],
    ['holderId', 'holder.id'],
    ['phone', 'phone'],
    ['township', 'township'],
    ['issuedOn', 'issuedOn'],
    ['expiresOn', 'expiresOn'],
    ['EXPIRESON', 'expiresOn'],
    ['Holder Name', 'holder.name'],
    ['holder_id', 'holder.id'],
  ])('maps the API field name %s to %s, ignoring case, spaces and separators', (header, field) => {
    // Act
    const { columns } = mapHeaders([header]);

    // Assess
    expect(columns[0]?.field).toBe(field);
  });

  it.each([
    ['a required-column asterisk', '证照编号*'],
    ['a leading full-width asterisk', '＊证照编号'],
    ['surrounding spaces', '  证照编号  '],
    ['full-width spaces inside', '证照　编号'],
    ['a byte-order mark', '\uFEFF证照编号'],
    ['surrounding quotes', '"证照编号"'],
    ['Chinese quotes', '“证照编号”'],
    ['a note in full-width brackets', '证照编号（必填）'],
    ['a note in square brackets', '证照编号[文本]'],
    ['a note in 【】', '证照编号【必填】'],
  ])('recognises a header with %s', (_variant, header) => {
    // Act
    const { columns } = mapHeaders([header]);

    // Assess
    expect(columns[0]).toEqual({ index: 0, header, field: 'number' });
  });

  it('reads 联系电话（手机） as the phone column', () => {
    // Act
    const { columns } = mapHeaders(['联系电话（手机）']);

    // Assess
    expect(columns[0]?.field).toBe('phone');
  });

  it('lists every field every file needs that has no column, but not the optional holder.id nor the expiry', () => {
    // Prepare
    const headers = ['证照编号', '持证人', '联系电话'];

    // Act
    const { missing, missingExpiry } = mapHeaders(headers);

    // Assess: whether a file may lack the expiry depends on its rows' types, which the importer reads.
    expect(missing).toEqual(['type', 'township', 'issuedOn']);
    expect(missingExpiry).toBe(true);
  });

  it('says the expiry column is there when a header names it', () => {
    // Act
    const { missing, missingExpiry } = mapHeaders(['证照类型', '证照编号', '持证人', '联系电话', '所属乡镇', '发证日期', '有效期至']);

    // Assess
    expect(missing).toEqual([]);
    expect(missingExpiry).toBe(false);
  });

  it('reports two columns claiming one field, and gives the field to the first only', () => {
    // Prepare
    const headers = ['联系电话', '证照编号', '手机号'];

    // Act
    const mapping = mapHeaders(headers);

    // Assess
    expect(mapping.duplicates).toEqual([{ field: 'phone', headers: ['联系电话', '手机号'] }]);
    expect(mapping.columns).toEqual([
      { index: 0, header: '联系电话', field: 'phone' },
      { index: 1, header: '证照编号', field: 'number' },
      { index: 2, header: '手机号' },
    ]);
  });

  it('lists unknown headers as ignored, but not blank ones', () => {
    // Act
    const mapping = mapHeaders(['序号', '证照编号', '', '备注']);

    // Assess
    expect(mapping.ignored).toEqual(['序号', '备注']);
    expect(mapping.columns.filter((c) => c.field !== undefined)).toHaveLength(1);
  });
});

describe('Function: rowToRecord', () => {
  it('builds the API record shape from a clean row', () => {
    // Act
    const result = rowToRecord(COLUMNS, GOOD_ROW);

    // Assess
    expect(result).toEqual({
      record: {
        type: '食品经营许可证',
        number: 'JY13607320001234',
        holder: { name: '兴国县某餐饮店' },
        phone: '13900000001',
        township: '潋江镇',
        issuedOn: '2021-03-01',
        expiresOn: '2026-02-28',
      },
      issues: [],
      blank: false,
    });
  });

  it('puts holder.id into the holder when it is given', () => {
    // Act
    const { value } = convert('holder.id', '91360732MA35A1B2C3');

    // Assess
    expect(value).toBe('91360732MA35A1B2C3');
  });

  it('leaves an empty cell out of the record, so the validator reports it as missing in its own words', () => {
    // Act
    const { record, issues } = rowToRecord(COLUMNS, rowWith('number', '   '));

    // Assess
    expect(issues).toEqual([]);
    expect(record).not.toHaveProperty('number');
  });

  it('ignores the values of columns it does not read', () => {
    // Prepare
    const { columns } = mapHeaders([...HEADERS, '备注']);

    // Act
    const { record } = rowToRecord(columns, [...GOOD_ROW, '老客户']);

    // Assess
    expect(Object.keys(record).sort()).toEqual(['expiresOn', 'holder', 'issuedOn', 'number', 'phone', 'township', 'type']);
  });

  it('marks an all-empty row as blank instead of converting it', () => {
    // Act
    const result = rowToRecord(COLUMNS, ['', null, undefined, ' ', '\u3000', '\u00A0', '\u200B']);

    // Assess
    expect(result).toEqual({ record: { holder: {} }, issues: [], blank: true });
  });

  it('does not treat a row with content only in an unread column as blank', () => {
    // Act
    const { blank } = rowToRecord(COLUMNS, ['', '', '', '', '', '', '', '', '备注']);

    // Assess
    expect(blank).toBe(false);
  });

  it('reports an unrepairable cell with its column header and the value as the file shows it', () => {
    // Act
    const { issues, record } = rowToRecord(COLUMNS, rowWith('phone', '1.39E+10'));

    // Assess
    expect(issues).toEqual([{ field: 'phone', column: '联系电话', value: '1.39E+10', reason: expect.stringContaining('科学计数法') }]);
    expect(record).not.toHaveProperty('phone');
  });

  describe('text cells', () => {
    it.each([
      ['leading and trailing spaces', '  兴国县某餐饮店  ', '兴国县某餐饮店'],
      ['full-width spaces', '\u3000兴国县某餐饮店\u3000', '兴国县某餐饮店'],
      ['a non-breaking space', '兴国县某餐饮店\u00A0', '兴国县某餐饮店'],
      ['zero-width characters', '兴国县\u200B某餐饮店\uFEFF', '兴国县某餐饮店'],
      ['a run of mixed spaces inside', 'Xingguo\u3000 \u00A0Foods', 'Xingguo Foods'],
      ['full-width letters and digits', '兴国县第１中学ＡＢ', '兴国县第1中学AB'],
    ])('cleans %s from a name', (_case, raw, expected) => {
      // Act
      const { value } = convert('holder.name', raw);

      // Assess
      expect(value).toBe(expected);
    });

    it('keeps the full-width brackets of a legal name as written', () => {
      // Act
      const { value } = convert('holder.name', '兴国县某农资有限公司（潋江分店）');

      // Assess
      expect(value).toBe('兴国县某农资有限公司（潋江分店）');
    });

    it('passes a type through cleaned, for the validator to resolve by code or by Chinese name', () => {
      // Act
      const byName = convert('type', ' 药品经营许可证（零售） ');
      const byCode = convert('type', 'ｐｅｓｔｉｃｉｄｅ_business_license');

      // Assess
      expect(byName.value).toBe('药品经营许可证（零售）');
      expect(byCode.value).toBe('pesticide_business_license');
    });

    it('turns a township code stored as a number into its digits', () => {
      // Act
      const { value } = convert('township', 360732100);

      // Assess
      expect(value).toBe('360732100');
    });

    it('folds full-width digits, letters and punctuation in a certificate number', () => {
      // Act
      const { value } = convert('number', 'ＪＹ１３６０７３２－０００１（２０２１）');

      // Assess
      expect(value).toBe('JY1360732-0001(2021)');
    });

    it('turns a certificate number stored as a number into its digits', () => {
      // Act
      const { value } = convert('number', 20210001);

      // Assess
      expect(value).toBe('20210001');
    });

    it('refuses a number of more than 15 digits that Excel stored as a number, whose last digits became 0', () => {
      // Act
      const { reason } = convert('holder.id', 360732199001011000);

      // Assess
      expect(reason).toBe(
        '持证人证件号码被 Excel 存成了数字，只保留了前 15 位，后面的数字已变成 0（360732199001011000）；请把该列设为文本后重新填写 / ' +
          'Excel stored the holder identifier as a number and kept only its first 15 digits; the rest became 0 (360732199001011000); format the column as text and enter it again',
      );
    });

    it('refuses an identifier Excel wrote in scientific notation with digits lost', () => {
      // Act
      const { reason } = convert('holder.id', '3.60732E+17');

      // Assess
      expect(reason).toContain('持证人证件号码被 Excel 转成了科学计数法（3.60732E+17），位数已丢失');
    });

    it('recovers a certificate number in scientific notation when the mantissa holds every digit', () => {
      // Act
      const { value } = convert('number', '1.23456789012E+11');

      // Assess
      expect(value).toBe('123456789012');
    });

    it('drops the .0 a numeric export adds to an identifier', () => {
      // Act
      const { value } = convert('holder.id', '360732199001011.0');

      // Assess
      expect(value).toBe('360732199001011');
    });

    it('refuses a text cell that Excel turned into a date, which cannot be turned back', () => {
      // Act
      const { reason } = convert('number', new Date(Date.UTC(2026, 2, 12)));

      // Assess
      expect(reason).toBe(
        '证照编号被 Excel 当成了日期（2026-03-12），原来的内容已无法还原；请把该列设为文本后重新填写 / ' +
          'Excel turned the certificate number into a date (2026-03-12) and the original text cannot be recovered; format the column as text and enter it again',
      );
    });
  });

  describe('phone cells', () => {
    it.each([
      ['a string', '13900000001', '13900000001'],
      ['a number from xlsx', 13900000001, '13900000001'],
      ['a number exported as text with .0', '13900000001.0', '13900000001'],
      ['spaces between digit groups', '139 0000 0001', '13900000001'],
      ['dashes between digit groups', '139-0000-0001', '13900000001'],
      ['full-width digits and dash', '１３９－００００－０００１', '13900000001'],
      ['a country code', '+86 139 0000 0001', '+8613900000001'],
      ['a full-width space at the end', '13900000001\u3000', '13900000001'],
      ['recoverable scientific notation', '1.3900000001E+10', '13900000001'],
      ['recoverable scientific notation in lower case', '1.3900000001e+10', '13900000001'],
    ])('accepts %s', (_case, raw, expected) => {
      // Act
      const { value, reason } = convert('phone', raw);

      // Assess
      expect(reason).toBeUndefined();
      expect(value).toBe(expected);
    });

    it('refuses scientific notation that lost digits, saying how to fix the file', () => {
      // Act
      const { reason } = convert('phone', '1.39E+10');

      // Assess
      expect(reason).toBe(
        '手机号被 Excel 转成了科学计数法（1.39E+10），位数已丢失；请把该列设为文本后重新导出 / ' +
          'the phone was turned into scientific notation by Excel (1.39E+10) and digits were lost; format the column as text and export again',
      );
    });

    it('leaves a landline for the validator to refuse', () => {
      // Act
      const { value } = convert('phone', '0797-1234567');

      // Assess
      expect(value).toBe('07971234567');
    });
  });

  describe('date cells', () => {
    it.each([
      ['YYYY-MM-DD', '2026-03-01'],
      ['YYYY/M/D', '2026/3/1'],
      ['YYYY-M-D', '2026-3-1'],
      ['YYYY年M月D日', '2026年3月1日'],
      ['YYYY年MM月DD日 without 日', '2026年03月01'],
      ['YYYY.MM.DD', '2026.03.01'],
      ['YYYY.M.D', '2026.3.1'],
      ['YYYYMMDD', '20260301'],
      ['YYYYMMDD as a number', 20260301],
      ['a trailing time', '2026-03-01 00:00:00'],
      ['a trailing time without seconds', '2026/3/1 9:30'],
      ['an ISO time', '2026-03-01T00:00:00'],
      ['full-width digits', '２０２６－０３－０１'],
      ['full-width slashes', '２０２６／３／１'],
      ['full-width full stops', '２０２６．３．１'],
      ['surrounding spaces', '\u3000 2026-03-01 '],
      ['an Excel serial', 46082],
      ['an Excel serial with a time of day', 46082.625],
      ['an Excel serial as text', '46082'],
      ['a Date from exceljs (UTC midnight)', new Date(Date.UTC(2026, 2, 1))],
    ])('reads %s', (_form, raw) => {
      // Act
      const { value, reason } = convert('expiresOn', raw);

      // Assess
      expect(reason).toBeUndefined();
      expect(value).toBe('2026-03-01');
    });

    it('reads a Date by its UTC calendar day, whatever the time zone of the process', () => {
      // Act
      const { value } = convert('issuedOn', new Date(Date.UTC(2021, 11, 31, 23, 0)));

      // Assess
      expect(value).toBe('2021-12-31');
    });

    it('passes an impossible date on as YYYY-MM-DD, so the validator says it does not exist', () => {
      // Prepare
      const lookups: CertificateLookups = { resolveType: () => undefined, resolveTownship: () => undefined };

      // Act
      const { value } = convert('expiresOn', '2026/2/30');
      const { rejected } = validateCertificates([{ expiresOn: value }], lookups);

      // Assess
      expect(value).toBe('2026-02-30');
      expect(rejected.find((r) => r.field === 'expiresOn')?.reason).toContain('不是存在的日期');
    });

    it('passes text in no known form on unchanged, for the validator\'s format message', () => {
      // Act
      const { value } = convert('expiresOn', '长期');

      // Assess
      expect(value).toBe('长期');
    });

    it.each([
      ['03/01/2026', '2026年3月1日 或 2026年1月3日'],
      ['1/3/2026', '2026年1月3日 或 2026年3月1日'],
      ['01-03-2026', '2026年1月3日 或 2026年3月1日'],
      ['01.03.2026', '2026年1月3日 或 2026年3月1日'],
    ])('refuses %s, which has two readings, naming both', (raw, readings) => {
      // Act
      const { reason } = convert('expiresOn', raw);

      // Assess
      expect(reason).toContain(`到期日期 ${raw} 有两种读法（${readings}）；请写成 YYYY-MM-DD 格式`);
      expect(reason).toContain('can be read two ways');
    });

    it('gives the full reason for an ambiguous date in Chinese and English', () => {
      // Act
      const { reason } = convert('issuedOn', '03/01/2026');

      // Assess
      expect(reason).toBe(
        '发证日期 03/01/2026 有两种读法（2026年3月1日 或 2026年1月3日）；请写成 YYYY-MM-DD 格式，如 2026-03-01 表示 2026年3月1日 / ' +
          'the issue date 03/01/2026 can be read two ways (2026-03-01 month-first or 2026-01-03 day-first); write it as YYYY-MM-DD, e.g. 2026-03-01',
      );
    });

    it('refuses a day-first date even when only one reading exists, because the file\'s convention is unknown', () => {
      // Act
      const { reason } = convert('expiresOn', '25/12/2026');

      // Assess
      expect(reason).toContain('本行只能读作 2026年12月25日，但文件没有说明它用“月/日”还是“日/月”顺序');
      expect(reason).toContain('write the whole column as YYYY-MM-DD, e.g. 2026-12-25');
    });

    it('refuses a year-last date whose month and day are equal, for the same reason', () => {
      // Act
      const { reason } = convert('expiresOn', '03/03/2026');

      // Assess
      expect(reason).toContain('把年份写在最后，文件的日月顺序无法确定；请把整列写成 YYYY-MM-DD 格式，如 2026-03-03');
    });

    it('refuses eight digits that run a year-last date together', () => {
      // Act
      const { reason } = convert('expiresOn', '03012026');

      // Assess
      expect(reason).toContain('有两种读法（2026年3月1日 或 2026年1月3日）');
    });

    it.each(['3/1/26', '26-03-01', '26年3月1日', '01.03.26'])('refuses %s, whose year has two digits', (raw) => {
      // Act
      const { reason } = convert('expiresOn', raw);

      // Assess
      expect(reason).toContain(`到期日期 ${raw} 的年份只有两位`);
      expect(reason).toContain('write it as YYYY-MM-DD with a four-digit year');
    });

    it('refuses a number too small to be a certificate date as an Excel serial, and says it looks like a year', () => {
      // Act
      const { reason } = convert('expiresOn', 2026);

      // Assess
      expect(reason).toBe(
        '到期日期 2026 不是日期：作为 Excel 日期序号，它不在 1950-01-01 至 2200-12-31（18264–109939）之间；它像是只写了年份，请写完整日期；请写成 YYYY-MM-DD 格式 / ' +
          'the expiry date 2026 is not a date: as an Excel date serial it falls outside 1950-01-01 to 2200-12-31 (18264–109939); it looks like a year alone, so give the full date; write it as YYYY-MM-DD',
      );
    });

    it.each([18263, 109940, -1, 1234567])('refuses the serial %s, outside 1950–2200', (serial) => {
      // Act
      const { reason } = convert('expiresOn', serial);

      // Assess
      expect(reason).toContain('不在 1950-01-01 至 2200-12-31');
    });

    it.each([
      [18264, '1950-01-01'],
      [109939, '2200-12-31'],
    ])('accepts the serial %s at the edge of the range as %s', (serial, expected) => {
      // Act
      const { value } = convert('expiresOn', serial);

      // Assess
      expect(value).toBe(expected);
    });
  });
});

describe('Function: excelSerialToIsoDate', () => {
  it('reads serial 46082 as 2026-03-01', () => {
    // Act
    const date = excelSerialToIsoDate(46082);

    // Assess
    expect(date).toBe('2026-03-01');
  });

  it.each([
    [1, '1900-01-01'],
    [59, '1900-02-28'],
    [60, '1900-02-29'],
    [61, '1900-03-01'],
    [25569, '1970-01-01'],
    [36526, '2000-01-01'],
  ])('follows Excel across the fake 1900 leap day: serial %s is %s', (serial, expected) => {
    // Act
    const date = excelSerialToIsoDate(serial);

    // Assess
    expect(date).toBe(expected);
  });

  it('agrees with the platform calendar for every serial from 1900-03-01 to 2200-12-31', () => {
    // Prepare
    const mismatches: number[] = [];

    // Act
    for (let serial = 61; serial <= 109939; serial++) {
      const expected = new Date((serial - 25569) * 86_400_000).toISOString().slice(0, 10);
      if (excelSerialToIsoDate(serial) !== expected) mismatches.push(serial);
    }

    // Assess
    expect(mismatches).toEqual([]);
  });
});

describe('Function: cellText', () => {
  it.each([
    ['text as it is', ' 兴国 ', ' 兴国 '],
    ['a phone number without an exponent', 13900000001, '13900000001'],
    ['a huge number without an exponent', 1e21, '1000000000000000000000'],
    ['a tiny number without an exponent', 1e-7, '0.0000001'],
    ['a decimal', 2021.5, '2021.5'],
    ['a date as YYYY-MM-DD', new Date(Date.UTC(2026, 2, 1)), '2026-03-01'],
    ['a boolean as Excel writes it', true, 'TRUE'],
    ['an empty cell as nothing', undefined, ''],
    ['null as nothing', null, ''],
  ])('shows %s', (_case, value, expected) => {
    // Act
    const text = cellText(value);

    // Assess
    expect(text).toBe(expected);
  });
});

describe('Function: cleanText', () => {
  it('returns clean text as the same string, without copying', () => {
    // Prepare
    const text = '兴国县某餐饮店';

    // Act
    const cleaned = cleanText(text, 'alnum');

    // Assess
    expect(cleaned).toBe(text);
  });

  it('folds full-width punctuation and dash look-alikes only for codes', () => {
    // Act
    const code = cleanText('Ａ／Ｂ－１．２—３', 'ascii');
    const name = cleanText('Ａ／Ｂ－１．２', 'alnum');

    // Assess
    expect(code).toBe('A/B-1.2-3');
    expect(name).toBe('A／B－1．2');
  });
});

describe('Function: isBlankRow', () => {
  it('treats an empty array as blank', () => {
    // Act & Assess
    expect(isBlankRow([])).toBe(true);
  });

  it('does not treat a zero as blank', () => {
    // Act & Assess
    expect(isBlankRow(['', 0])).toBe(false);
  });
});

describe('Function: isFieldReported', () => {
  it('tells the pipeline which validator rejections a cell issue already explains', () => {
    // Prepare
    const lookups: CertificateLookups = { resolveType: () => undefined, resolveTownship: () => undefined };
    const { record, issues } = rowToRecord(COLUMNS, rowWith('expiresOn', '03/01/2026'));

    // Act
    const { rejected } = validateCertificates([record], lookups);
    const unexplained = rejected.filter((r) => !isFieldReported(issues, r.field));

    // Assess
    expect(rejected.some((r) => r.field === 'expiresOn')).toBe(true);
    expect(unexplained.map((r) => r.field)).not.toContain('expiresOn');
  });
});

describe('Scenario: a phone cell Excel stored as a number', () => {
  it('is repaired to text before validation, which refuses numbers in JSON', () => {
    // Prepare
    const lookups: CertificateLookups = { resolveType: () => undefined, resolveTownship: () => undefined };
    const { record, issues } = rowToRecord(COLUMNS, rowWith('phone', 13900000001));

    // Act
    const { rejected } = validateCertificates([record], lookups);

    // Assess
    expect(issues).toEqual([]);
    expect(record.phone).toBe('13900000001');
    expect(rejected.map((r) => r.field)).not.toContain('phone');
  });
});

/** Column order must not matter: every field is found through its header. */
describe('Scenario: a file with columns in another order', () => {
  it('reads each field from its own column', () => {
    // Prepare
    const headers = ['有效期至', '手机号', '姓名', '证号', '乡镇', '发证日期', '证照名称'];
    const { columns } = mapHeaders(headers);
    const values = ['2026/12/20', 13900000001, '张三', 'A-1', '潋江镇', 44197, '食品经营许可证'];

    // Act
    const { record, issues } = rowToRecord(columns as Column[], values);

    // Assess
    expect(issues).toEqual([]);
    expect(record).toEqual({
      type: '食品经营许可证',
      number: 'A-1',
      holder: { name: '张三' },
      phone: '13900000001',
      township: '潋江镇',
      issuedOn: '2021-01-01',
      expiresOn: '2026-12-20',
    });
  });
});
