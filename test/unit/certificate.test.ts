import { describe, expect, it } from 'vitest';
import {
  makeCertificateSchema,
  validateCertificates,
  type CertificateLookups,
} from '../../functions/core/certificate.js';
import type { CertificateType, Township } from '../../functions/core/model.js';
import { withResidentIdCheck, withUsccCheck, withWrongCheck } from '../support/holder-ids.js';

function certificateType(code: string, nameZh: string, reminders = true): CertificateType {
  return {
    code,
    nameZh,
    nameEn: code,
    category: 'agriculture',
    holderKind: 'enterprise',
    authority: 'agriculture',
    validity: { years: 5 },
    renewalWindow: { days: 30, semantics: 'atLeastBefore' },
    smsName: nameZh,
    renewalNote: 'apply for continuation',
    renewalAction: '延续',
    renewalPlace: { at: 'serviceCentre' },
    reminders,
    legalBasis: [],
    seasonal: false,
    confidence: 'high',
  };
}

const TYPES = [
  certificateType('pesticide_business_license', '农药经营许可证'),
  certificateType('food_business_license', '食品经营许可证'),
  certificateType('farm_machine_registration', '拖拉机和联合收割机登记证书', false),
];
const TOWNSHIPS: Township[] = [
  { code: '360732100', nameZh: '潋江镇', nameEn: 'Lianjiang Town', pinyin: 'Liànjiāng Zhèn', slug: 'lianjiang', aliases: [] },
  { code: '360732102', nameZh: '古龙冈镇', nameEn: 'Gulonggang Town', pinyin: 'Gǔlónggāng Zhèn', slug: 'gulonggang', aliases: ['古龙岗镇'] },
];

/** A stand-in for the catalogue: codes and Chinese names for types; codes, names and aliases for townships. */
const lookups: CertificateLookups = {
  resolveType: (input) => TYPES.find((t) => t.code === input || t.nameZh === input),
  resolveTownship: (input) => TOWNSHIPS.find((t) => t.code === input || t.nameZh === input || t.aliases.includes(input)),
};

const COMPANY_ID = withUsccCheck('91360732MA35A1B2C');

function record(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'pesticide_business_license',
    number: 'HX-PEST-0001',
    holder: { name: '兴国县某农资有限公司', id: COMPANY_ID },
    phone: '13900000001',
    township: '360732100',
    issuedOn: '2021-01-01',
    expiresOn: '2026-12-20',
    ...overrides,
  };
}

/** The rejections of a single record, as `field → reason`. */
function problemsOf(raw: unknown): Record<string, string> {
  const { rejected } = validateCertificates([raw], lookups);
  return Object.fromEntries(rejected.map((r) => [r.field, r.reason]));
}

describe('Function: validateCertificates', () => {
  it('passes a good record through as a normalised certificate', () => {
    // Act
    const result = validateCertificates([record()], lookups);

    // Assess
    expect(result.rejected).toEqual([]);
    expect(result.valid).toEqual([
      {
        index: 0,
        certificate: {
          type: 'pesticide_business_license',
          number: 'HX-PEST-0001',
          holder: { name: '兴国县某农资有限公司', id: COMPANY_ID },
          phone: '+8613900000001',
          township: '360732100',
          issuedOn: '2021-01-01',
          expiresOn: '2026-12-20',
        },
      },
    ]);
  });

  it('resolves a Chinese type name to its code and a township alias to its code', () => {
    // Act
    const result = validateCertificates([record({ type: '食品经营许可证', township: '古龙岗镇' })], lookups);

    // Assess
    expect(result.valid[0]?.certificate).toMatchObject({ type: 'food_business_license', township: '360732102' });
  });

  it('normalises the phone to E.164, the holder id to upper case and trims text', () => {
    // Prepare
    const personId = withResidentIdCheck('36073219850615123');

    // Act
    const result = validateCertificates(
      [record({ number: '  HX-PEST-0002 ', phone: '+86 139-0000-0002', holder: { name: ' 张三 ', id: personId.toLowerCase() } })],
      lookups,
    );

    // Assess
    expect(result.valid[0]?.certificate).toMatchObject({
      number: 'HX-PEST-0002',
      phone: '+8613900000002',
      holder: { name: '张三', id: personId },
    });
  });

  it.each([
    ['absent', {}],
    ['blank', { id: '  ' }],
    ['null', { id: null }],
  ])('leaves out a holder id that is %s', (_label, id) => {
    // Act
    const result = validateCertificates([record({ holder: { name: '张三', ...id } })], lookups);

    // Assess
    expect(result.rejected).toEqual([]);
    expect(result.valid[0]?.certificate.holder).toStrictEqual({ name: '张三' });
  });

  it('refuses a phone given as a JSON number, saying to send it as text', () => {
    // Act: 1.39e10 is the number 13900000000; a JSON number cannot carry a leading + or 0 either.
    const problems = problemsOf(record({ phone: 1.39e10 }));

    // Assess
    expect(problems.phone).toBe('手机号应为文本（加引号），实际为 number / phone must be text (in quotes), got number');
  });

  it('rejects an unknown type, saying that codes and Chinese names are both accepted', () => {
    // Act
    const problems = problemsOf(record({ type: 'x' }));

    // Assess
    expect(problems).toEqual({
      type:
        '未知的证照类型 "x"；请填写证照目录中的 code 或中文名称（certalarm catalogue 或 GET /v1/catalogue） / ' +
        'unknown certificate type "x"; use the code or the Chinese name from the catalogue (certalarm catalogue, or GET /v1/catalogue)',
    });
  });

  it('names the closest catalogue type when the lookups find one', () => {
    // Prepare
    const suggesting: CertificateLookups = { ...lookups, closestType: () => TYPES[0] };

    // Act
    const result = validateCertificates([record({ type: '农药经营许可' })], suggesting);

    // Assess
    const [rejection] = result.rejected;
    expect(rejection?.field).toBe('type');
    expect(rejection?.reason).toContain(`最接近的是 ${TYPES[0]!.nameZh}（${TYPES[0]!.code}）`);
    expect(rejection?.reason).toContain(`closest match: ${TYPES[0]!.code} (${TYPES[0]!.nameZh})`);
  });

  it('rejects a date that does not exist', () => {
    // Act
    const problems = problemsOf(record({ expiresOn: '2026-02-30' }));

    // Assess
    expect(problems).toEqual({
      expiresOn: '到期日期 "2026-02-30" 不是存在的日期，请核对 / expiry date "2026-02-30" is not a date that exists; check it',
    });
  });

  it('rejects a date not written as YYYY-MM-DD and shows how to write it', () => {
    // Act
    const problems = problemsOf(record({ issuedOn: '2021/1/5' }));

    // Assess
    expect(problems).toEqual({
      issuedOn:
        '发证日期 "2021/1/5" 不是 YYYY-MM-DD 格式，请写成如 2021-01-05 / issue date "2021/1/5" is not in YYYY-MM-DD form; write it like 2021-01-05',
    });
  });

  it('rejects an expiry before the issue date on the expiresOn field', () => {
    // Act
    const problems = problemsOf(record({ issuedOn: '2027-01-01' }));

    // Assess
    expect(problems).toEqual({
      expiresOn:
        '到期日期 2026-12-20 早于发证日期 2027-01-01，请核对这两个日期 / expiry date 2026-12-20 is before issue date 2027-01-01; check both dates',
    });
  });

  it('accepts a certificate that expires on the day it is issued', () => {
    // Act
    const result = validateCertificates([record({ issuedOn: '2026-12-20' })], lookups);

    // Assess
    expect(result.rejected).toEqual([]);
  });

  it('rejects a phone that is not a mainland mobile', () => {
    // Act
    const problems = problemsOf(record({ phone: '0797-5321234' }));

    // Assess
    expect(problems.phone).toContain('固定电话');
  });

  it('rejects a holder id whose checksum fails, on the holder.id field', () => {
    // Act
    const problems = problemsOf(record({ holder: { name: '兴国县某农资有限公司', id: withWrongCheck(COMPANY_ID) } }));

    // Assess
    expect(problems).toEqual({
      'holder.id': '统一社会信用代码校验位错误（应为 W） / unified social credit code check character is wrong (expected W)',
    });
  });

  it('rejects an unknown township', () => {
    // Act
    const problems = problemsOf(record({ township: '火星乡' }));

    // Assess
    expect(problems.township).toContain('未知的乡镇 "火星乡"');
  });

  it('reports missing, blank and wrongly typed fields each on its own path', () => {
    // Act
    const problems = problemsOf({ type: '  ', number: 12, holder: { id: '' } });

    // Assess
    expect(problems).toEqual({
      type: '证照类型不能为空白，请填写 / certificate type is blank; fill it in',
      number: '证照编号应为文本，实际为 number / certificate number must be text, got number',
      'holder.name': '缺少持证人名称，请填写 / holder name is missing; fill it in',
      phone: '缺少手机号，请填写 / phone is missing; fill it in',
      township: '缺少乡镇，请填写 / township is missing; fill it in',
      issuedOn: '缺少发证日期，请按 YYYY-MM-DD 填写 / issue date is missing; give it as YYYY-MM-DD',
      expiresOn: '缺少到期日期，请按 YYYY-MM-DD 填写 / expiry date is missing; give it as YYYY-MM-DD',
    });
  });

  it('rejects a record that is not an object', () => {
    // Act
    const problems = problemsOf('pesticide_business_license,HX-PEST-0001');

    // Assess
    expect(problems).toEqual({ record: '记录应为对象，实际为 string / record must be an object, got string' });
  });

  it('rejects a certificate number over 64 characters and a holder name over 200', () => {
    // Act
    const problems = problemsOf(record({ number: 'N'.repeat(65), holder: { name: '兴'.repeat(201) } }));

    // Assess
    expect(problems).toEqual({
      number: '证照编号过长（65 个字符，最多 64 个），请删减 / certificate number is too long (65 characters, at most 64); shorten it',
      'holder.name': '持证人名称过长（201 个字符，最多 200 个），请删减 / holder name is too long (201 characters, at most 200); shorten it',
    });
  });

  it('accepts a certificate number of exactly 64 characters, counting Chinese characters once each', () => {
    // Act
    const result = validateCertificates([record({ number: `赣${'0'.repeat(63)}` })], lookups);

    // Assess
    expect(result.rejected).toEqual([]);
  });

  it('rejects a certificate number containing a control character and says where it is', () => {
    // Act
    const problems = problemsOf(record({ number: 'HX-PEST\u00000001' }));

    // Assess
    expect(problems).toEqual({
      number:
        '证照编号第 8 个字符是不可打印的控制字符（U+0000），请删除 / certificate number has an unprintable character at position 8 (U+0000); remove it',
    });
  });

  it('reports every problem of every bad record with its index, and passes the good ones', () => {
    // Prepare
    const records = [
      record({ number: 'A-1' }),
      record({ number: 'A-2', type: 'x', phone: '123', township: 'y', expiresOn: '2020-01-01' }),
      record({ number: 'A-3' }),
      null,
    ];

    // Act
    const result = validateCertificates(records, lookups);

    // Assess
    expect(result.valid.map((v) => v.index)).toEqual([0, 2]);
    expect(result.rejected.map((r) => [r.index, r.field])).toEqual([
      [1, 'type'],
      [1, 'phone'],
      [1, 'township'],
      [1, 'expiresOn'],
      [3, 'record'],
    ]);
  });

  it('rejects the later of two records with the same type and number, naming the first', () => {
    // Prepare: the type is given once by code and once by name; both mean the same certificate.
    const records = [record(), record({ number: 'OTHER' }), record({ type: '农药经营许可证', phone: '13900000002' })];

    // Act
    const result = validateCertificates(records, lookups);

    // Assess
    expect(result.valid.map((v) => v.index)).toEqual([0, 1]);
    expect(result.rejected).toEqual([
      {
        index: 2,
        field: 'number',
        reason:
          '与第 0 条记录（从 0 起计）的证照类型和编号相同，同一批次中每张证照只能出现一次 / same certificate type and number as record 0 (0-based); each certificate may appear only once per batch',
      },
    ]);
  });

  it('also reports a duplicate on a record that has other problems', () => {
    // Act
    const result = validateCertificates([record(), record({ phone: 'abc' })], lookups);

    // Assess
    expect(result.rejected.map((r) => [r.index, r.field])).toEqual([
      [1, 'phone'],
      [1, 'number'],
    ]);
  });

  it('treats the same number under two different types as two certificates', () => {
    // Act
    const result = validateCertificates([record(), record({ type: 'food_business_license' })], lookups);

    // Assess
    expect(result.rejected).toEqual([]);
    expect(result.valid).toHaveLength(2);
  });
});

describe('Function: validateCertificates (date range)', () => {
  it.each([
    ['issuedOn', '1949-10-01'],
    ['expiresOn', '2199-12-31'],
  ])('accepts %s on the edge of the range, %s', (field, date) => {
    // Act
    const result = validateCertificates([record({ issuedOn: '1949-10-01', [field]: date })], lookups);

    // Assess
    expect(result.rejected).toEqual([]);
  });

  it.each([
    ['issuedOn', '0000-01-01', '1949-10-01'],
    ['issuedOn', '1949-09-30', '1949-10-01'],
    ['expiresOn', '2200-01-01', '2199-12-31'],
    ['expiresOn', '9999-12-31', '2199-12-31'],
  ])('rejects %s %s outside the range, naming the bound %s', (field, date, bound) => {
    // Act
    const problems = problemsOf(record({ [field]: date }));

    // Assess
    expect(Object.keys(problems)).toEqual([field]);
    expect(problems[field]).toContain(bound);
    expect(problems[field]).toContain(date);
  });

  it('rejects an issue date and an expiry before 1949-10-01, each with its own reason', () => {
    // Act
    const problems = problemsOf(record({ issuedOn: '1900-01-01', expiresOn: '1900-01-02' }));

    // Assess
    expect(problems.expiresOn).toBe('到期日期 "1900-01-02" 早于 1949-10-01，请核对 / expiry date "1900-01-02" is before 1949-10-01; check it');
    expect(problems.issuedOn).toBe('发证日期 "1900-01-01" 早于 1949-10-01，请核对 / issue date "1900-01-01" is before 1949-10-01; check it');
  });
});

describe('Function: makeCertificateSchema', () => {
  it('parses one record into a Certificate', () => {
    // Prepare
    const schema = makeCertificateSchema(lookups);

    // Act
    const parsed = schema.safeParse(record({ township: '潋江镇' }));

    // Assess
    expect(parsed.success).toBe(true);
    expect(parsed.data?.township).toBe('360732100');
  });

  it('reports the issue path of a nested field', () => {
    // Prepare
    const schema = makeCertificateSchema(lookups);

    // Act
    const parsed = schema.safeParse(record({ holder: { name: '' } }));

    // Assess
    expect(parsed.error?.issues.map((i) => i.path)).toEqual([['holder', 'name']]);
  });
});

describe('Function: validateCertificates (text that reaches an SMS)', () => {
  it('refuses a certificate number that would put a link under the signature, naming the field', () => {
    // Act
    const problems = problemsOf(record({ number: '】已停用，回复1解除 http://x.cn【' }));

    // Assess
    expect(Object.keys(problems)).toEqual(['number']);
    expect(problems.number).toMatch(/^证照编号.*【】.* \/ certificate number .*【】/);
  });

  it.each([
    ['a URL', '某公司 http://x.cn'],
    ['signature brackets', '【兴国县行政审批局】'],
    ['a control character', '某公司\u0008'],
  ])('refuses a holder name with %s', (_what, name) => {
    // Act
    const problems = problemsOf(record({ holder: { name, id: COMPANY_ID } }));

    // Assess
    expect(Object.keys(problems)).toEqual(['holder.name']);
  });

  it.each([['农药经许（赣）36073220001'], ['赣虔兴危化经字〔2021〕000012'], ['JY13607320001234']])('accepts the real-looking number %s', (number) => {
    // Act & Assess
    expect(problemsOf(record({ number }))).toEqual({});
  });
});

describe('Function: validateCertificates (types without an expiry)', () => {
  const REGISTRATION = { type: 'farm_machine_registration', number: 'NJ-DJ-0001', holder: { name: '张某' } };

  it('refuses an expiry date for a type that has none, on expiresOn, saying to leave it empty', () => {
    // Act
    const problems = problemsOf(record({ ...REGISTRATION, expiresOn: '2026-12-20' }));

    // Assess
    expect(problems).toEqual({
      expiresOn:
        '拖拉机和联合收割机登记证书没有有效期，不能填写到期日期，请留空；本服务不为此类证照发送提醒 / ' +
        'farm_machine_registration (拖拉机和联合收割机登记证书) has no expiry, so it takes no expiry date: leave it empty; certalarm sends no reminders for this type',
    });
  });

  it.each([
    ['absent', undefined],
    ['null', null],
    ['blank', '  '],
  ])('accepts a record of such a type whose expiry is %s, as a certificate without an expiry', (_label, expiresOn) => {
    // Act
    const result = validateCertificates([record({ ...REGISTRATION, type: '拖拉机和联合收割机登记证书', expiresOn })], lookups);

    // Assess
    expect(result.rejected).toEqual([]);
    expect(result.valid).toEqual([
      {
        index: 0,
        certificate: {
          type: 'farm_machine_registration',
          number: 'NJ-DJ-0001',
          holder: { name: '张某' },
          phone: '+8613900000001',
          township: '360732100',
          issuedOn: '2021-01-01',
          expiresOn: null,
        },
      },
    ]);
  });

  it('still judges the other fields of such a record, reporting each of them', () => {
    // Act
    const problems = problemsOf(record({ ...REGISTRATION, expiresOn: '2026-12-20', phone: '07976666666', issuedOn: '2021-02-30' }));

    // Assess
    expect(Object.keys(problems).sort()).toEqual(['expiresOn', 'issuedOn', 'phone']);
  });

  it('still asks every other type for its expiry, with the same reason as before', () => {
    // Act
    const problems = problemsOf(record({ expiresOn: undefined }));

    // Assess
    expect(problems).toEqual({ expiresOn: '缺少到期日期，请按 YYYY-MM-DD 填写 / expiry date is missing; give it as YYYY-MM-DD' });
  });
});
