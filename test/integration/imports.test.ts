import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../functions/core/access.js';
import type { ImportError, StoredCertificate } from '../../functions/core/ports.js';
import { DynamoDbImportStore } from '../../functions/adapters/aws/dynamodb/dynamodb-import-store.js';
import type { DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { LocalImportFiles } from '../../functions/adapters/local/local-imports.js';
import { silentLogger } from '../../functions/app/logger.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { createImport, runImport, type ImportDeps } from '../../functions/app/imports/run-import.js';
import { dynamoTestClient } from '../support/dynamo.js';
import { fixedClock, freshStore, testSettings, validUscc } from '../support/fixtures.js';

const OPERATOR: Principal = { role: 'operator', subject: 'token:admin' };
const AGRICULTURE_BUREAU: Principal = { role: 'bureau', authority: 'agriculture_rural', subject: 'token:agri' };
const HEADER = '证照类型,证照编号,持证主体,统一社会信用代码,联系电话,所属乡镇,发证日期,有效期至';

function csvRow(i: number, overrides: Partial<Record<'type' | 'phone' | 'expiresOn' | 'issuedOn' | 'number' | 'holder', string>> = {}): string {
  return [
    overrides.type ?? '农药经营许可证',
    overrides.number ?? `NY-${String(i).padStart(5, '0')}`,
    overrides.holder ?? `兴国县测试农资店${i}`,
    validUscc(i),
    overrides.phone ?? `1390000${String(i % 10000).padStart(4, '0')}`,
    '潋江镇',
    overrides.issuedOn ?? '2021/12/21',
    overrides.expiresOn ?? '2026年12月20日',
  ].join(',');
}

interface Harness {
  deps: ImportDeps;
  store: DynamoDbStore;
  imports: DynamoDbImportStore;
  dir: string;
  submit(fileName: string, content: string | Buffer, principal?: Principal, options?: { allOrNothing?: boolean; encoding?: string; sheet?: string }): Promise<string>;
  errors(id: string): Promise<ImportError[]>;
}

async function harness(prefix: string, limits = { maxBytes: 50_000_000, maxRows: 100_000 }): Promise<Harness> {
  const store = await freshStore(prefix);
  const imports = new DynamoDbImportStore(dynamoTestClient(), store.tableName);
  const dir = mkdtempSync(join(tmpdir(), 'certalarm-imports-'));
  const files = new LocalImportFiles(dir);
  const deps: ImportDeps = {
    store,
    reference: loadReferenceData(),
    settings: testSettings(),
    imports,
    openSpreadsheet: files.opener(),
    removeFile: (key) => files.remove(key),
    limits,
    logger: silentLogger,
    clock: fixedClock('2026-08-01T10:00:00+08:00'),
  };
  let n = 0;
  return {
    deps,
    store,
    imports,
    dir,
    async submit(fileName, content, principal = OPERATOR, options = {}) {
      const blobKey = join(dir, `upload-${(n += 1)}`);
      writeFileSync(blobKey, content);
      const { createHash } = await import('node:crypto');
      const { record } = await createImport(deps, principal, {
        fileName,
        contentType: fileName.endsWith('.xlsx') ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : 'text/csv',
        bytes: Buffer.byteLength(content),
        sha256: createHash('sha256').update(content).digest('hex'),
        blobKey,
        options: { allOrNothing: options.allOrNothing === true, ...(options.encoding ? { encoding: options.encoding } : {}), ...(options.sheet ? { sheet: options.sheet } : {}) },
      });
      return record.id;
    },
    async errors(id) {
      const out: ImportError[] = [];
      for await (const e of imports.importErrors(id)) out.push(e);
      return out;
    },
  };
}

async function storedNumbers(store: DynamoDbStore, numbers: string[]): Promise<string[]> {
  const found = await store.getCertificates(numbers.map((number) => ({ type: 'pesticide_business_license', number })));
  return [...found.values()].map((s: StoredCertificate) => s.certificate.number).sort();
}

describe('Use case: runImport', () => {
  it('stores the good rows of a UTF-8 CSV with Chinese headers and reports each bad row by its Excel row, column, value and reason', async () => {
    // Prepare
    const h = await harness('import-csv');
    const csv = `\uFEFF${[HEADER, csvRow(1), csvRow(2, { phone: '1.39E+10' }), csvRow(3, { issuedOn: '03/01/2021' }), csvRow(4, { type: '不存在的证' }), csvRow(5)].join('\r\n')}\r\n`;
    const id = await h.submit('名单.csv', csv);

    // Act
    const state = await runImport(h.deps, id);

    // Assess
    expect(state).toBe('done');
    const record = await h.imports.getImport(id);
    expect(record?.counts).toMatchObject({ rows: 5, accepted: 2, created: 2, rejected: 3 });
    expect(record).toMatchObject({ format: 'csv', encoding: 'utf-8', uploadedBy: { subject: 'token:admin' } });
    const errors = await h.errors(id);
    expect(errors.map((e) => [e.row, e.column, e.value])).toEqual([
      [3, '联系电话', '1.39E+10'],
      [4, '发证日期', '03/01/2021'],
      [5, '证照类型', '不存在的证'],
    ]);
    expect(await storedNumbers(h.store, ['NY-00001', 'NY-00002', 'NY-00005'])).toEqual(['NY-00001', 'NY-00005']);
  });

  it('measures its time budget and its passes on the injected clock, not the host’s', async () => {
    // Prepare: a clock that stands still, a deadline one millisecond after it, and a log that keeps what it is told.
    const h = await harness('import-clock');
    const logged: Array<{ msg: string | undefined; fields: Record<string, unknown> }> = [];
    const keep = (fields: object, msg?: string) => logged.push({ msg, fields: fields as Record<string, unknown> });
    const deps: ImportDeps = { ...h.deps, logger: { debug: keep, info: keep, warn: keep, error: keep } };
    const rows = Array.from({ length: 2500 }, (_, i) => csvRow(i + 1));
    const id = await h.submit('大文件.csv', `${[HEADER, ...rows].join('\r\n')}\r\n`);

    // Act
    const state = await runImport(deps, id, { stopAtMs: h.deps.clock.now().toMillis() + 1 });

    // Assess: the deadline is never reached on a clock that stands still, and no time passes on it.
    expect(state).toBe('done');
    expect(logged.filter((entry) => entry.msg === 'import check pass done' || entry.msg === 'import store pass ended').map((entry) => entry.fields.ms)).toEqual([0, 0]);
  });

  it('detects a GBK (GB18030) CSV, as Excel on a Chinese Windows PC writes it', async () => {
    // Prepare
    const h = await harness('import-gbk');
    const id = await h.submit('gbk.csv', iconv.encode([HEADER, csvRow(10), csvRow(11)].join('\r\n'), 'gbk'));

    // Act
    await runImport(h.deps, id);

    // Assess
    const record = await h.imports.getImport(id);
    expect(record).toMatchObject({ state: 'done', encoding: 'gb18030', counts: { created: 2, rejected: 0 } });
    const stored = await h.store.getCertificate({ type: 'pesticide_business_license', number: 'NY-00010' });
    expect(stored?.certificate.holder.name).toBe('兴国县测试农资店10');
  });

  it('reads the named sheet of an XLSX file, repairing a phone stored as a number and a date cell', async () => {
    // Prepare
    const h = await harness('import-xlsx');
    const workbook = new ExcelJS.Workbook();
    workbook.addWorksheet('说明').addRow(['本表为导出说明']);
    const sheet = workbook.addWorksheet('证照名单');
    sheet.addRow(['证照类型', '证照编号', '单位名称', '统一社会信用代码', '手机号', '乡镇', '发证日期', '到期日期']);
    sheet.addRow(['农药经营许可证', 'XL-1', '兴国县测试农资店', validUscc(20), 13900000020, '江背镇', new Date(Date.UTC(2021, 11, 21)), new Date(Date.UTC(2026, 11, 20))]);
    const id = await h.submit('名单.xlsx', Buffer.from(await workbook.xlsx.writeBuffer()), OPERATOR, { sheet: '证照名单' });

    // Act
    await runImport(h.deps, id);

    // Assess
    expect(await h.imports.getImport(id)).toMatchObject({ state: 'done', format: 'xlsx', counts: { created: 1 } });
    const stored = await h.store.getCertificate({ type: 'pesticide_business_license', number: 'XL-1' });
    expect(stored?.certificate).toMatchObject({ phone: '+8613900000020', township: '360732101', issuedOn: '2021-12-21', expiresOn: '2026-12-20' });
  });

  it('reports a duplicate inside one file instead of merging it', async () => {
    // Prepare
    const h = await harness('import-dup');
    const id = await h.submit('dup.csv', [HEADER, csvRow(30), csvRow(31), csvRow(32, { number: 'NY-00030' })].join('\n'));

    // Act
    await runImport(h.deps, id);

    // Assess
    const errors = await h.errors(id);
    expect(errors).toEqual([expect.objectContaining({ row: 4, column: '证照编号', value: 'NY-00030' })]);
    expect(errors[0]?.reason).toContain('第 2 行');
  });

  it('refuses the whole file with all-or-nothing when any row is bad, storing nothing', async () => {
    // Prepare
    const h = await harness('import-aon');
    const id = await h.submit('aon.csv', [HEADER, csvRow(40), csvRow(41, { expiresOn: '2026-02-30' })].join('\n'), OPERATOR, { allOrNothing: true });

    // Act
    const state = await runImport(h.deps, id);

    // Assess
    expect(state).toBe('failed');
    expect((await h.imports.getImport(id))?.failure?.code).toBe('rejected_rows');
    expect(await h.errors(id)).toEqual(expect.arrayContaining([expect.objectContaining({ row: 3, column: '有效期至' })]));
    expect(await storedNumbers(h.store, ['NY-00040'])).toEqual([]);
  });

  it('changes nothing when the same file is imported again, and says so', async () => {
    // Prepare
    const h = await harness('import-again');
    const csv = [HEADER, csvRow(50), csvRow(51)].join('\n');
    const first = await h.submit('a.csv', csv);
    await runImport(h.deps, first);
    const before = await h.store.getCertificate({ type: 'pesticide_business_license', number: 'NY-00050' });

    // Act
    const second = await h.submit('a.csv', csv);
    await runImport(h.deps, second);

    // Assess
    const record = await h.imports.getImport(second);
    expect(record).toMatchObject({ sameFileAs: first, counts: { accepted: 2, unchanged: 2, created: 0 } });
    expect(await h.store.getCertificate({ type: 'pesticide_business_license', number: 'NY-00050' })).toEqual(before);
  });

  it('updates only what changed in an updated file, re-planning a renewal', async () => {
    // Prepare
    const h = await harness('import-update');
    await runImport(h.deps, await h.submit('v1.csv', [HEADER, csvRow(60), csvRow(61), csvRow(62)].join('\n')));

    // Act
    const id = await h.submit('v2.csv', [HEADER, csvRow(60), csvRow(61, { phone: '13911112222' }), csvRow(62, { expiresOn: '2031-12-20' })].join('\n'));
    await runImport(h.deps, id);

    // Assess
    expect((await h.imports.getImport(id))?.counts).toMatchObject({ unchanged: 1, updated: 1, renewed: 1 });
    const renewed = await h.store.getCertificate({ type: 'pesticide_business_license', number: 'NY-00062' });
    expect(renewed?.plan.renewalDeadline).toBe('2031-09-21');
  });

  it('resumes an import interrupted mid-way, losing no row and storing none twice', async () => {
    // Prepare: 3,500 rows = four chunks; the process "dies" while writing the third chunk.
    const h = await harness('import-resume');
    const rows = Array.from({ length: 3500 }, (_, i) => csvRow(1000 + i));
    const id = await h.submit('big.csv', [HEADER, ...rows].join('\n'));
    let writes = 0;
    const crashing: ImportDeps = {
      ...h.deps,
      store: Object.assign(Object.create(h.store) as DynamoDbStore, {
        putCertificates: async (items: StoredCertificate[]) => {
          writes += 1;
          if (writes === 3) {
            await h.store.putCertificates(items.slice(0, 400));
            throw new Error('process killed');
          }
          return h.store.putCertificates(items);
        },
      }),
    };

    // Act
    await expect(runImport(crashing, id)).rejects.toThrow('process killed');
    const interrupted = await h.imports.getImport(id);
    const state = await runImport(h.deps, id);

    // Assess
    expect(interrupted).toMatchObject({ state: 'storing', checkpointRow: 2001 });
    expect(interrupted?.pending).toMatchObject({ fromRow: 2002, toRow: 3001 });
    expect(state).toBe('done');
    const record = await h.imports.getImport(id);
    expect(record?.counts).toMatchObject({ rows: 3500, accepted: 3500, created: 3500, unchanged: 0, rejected: 0 });
    expect(await h.imports.openImports()).not.toContain(id);
    const numbers = Array.from({ length: 3500 }, (_, i) => `NY-${String(1000 + i).padStart(5, '0')}`);
    expect(await storedNumbers(h.store, numbers)).toHaveLength(3500);
  });

  it('refuses a file over the row limit before storing anything', async () => {
    // Prepare
    const h = await harness('import-rows', { maxBytes: 50_000_000, maxRows: 3 });
    const id = await h.submit('many.csv', [HEADER, csvRow(70), csvRow(71), csvRow(72), csvRow(73)].join('\n'));

    // Act
    const state = await runImport(h.deps, id);

    // Assess
    expect(state).toBe('failed');
    expect((await h.imports.getImport(id))?.failure).toMatchObject({ code: 'too_many_rows' });
    expect(await storedNumbers(h.store, ['NY-00070'])).toEqual([]);
  });

  it('rejects a row expiring 9999-12-31 with its reason and ends done, storing the other rows', async () => {
    // Prepare
    const h = await harness('import-9999');
    const id = await h.submit('9999.csv', [HEADER, csvRow(90), csvRow(91, { expiresOn: '9999-12-31' }), csvRow(92)].join('\n'));

    // Act
    const state = await runImport(h.deps, id);

    // Assess
    expect(state).toBe('done');
    expect((await h.imports.getImport(id))?.counts).toMatchObject({ rows: 3, accepted: 2, rejected: 1 });
    expect(await h.errors(id)).toEqual([{ row: 3, column: '有效期至', value: '9999-12-31', reason: expect.stringContaining('2199-12-31') }]);
    expect(await storedNumbers(h.store, ['NY-00090', 'NY-00091', 'NY-00092'])).toEqual(['NY-00090', 'NY-00092']);
    expect(await h.imports.openImports()).not.toContain(id);
  });

  it('fails an import whose rows cannot be planned, naming the row, instead of leaving it storing to be retried', async () => {
    // Prepare: a calendar that fails on 2030 stands in for any planning defect.
    const h = await harness('import-unplannable');
    const reference = h.deps.reference;
    const calendar = {
      isWorkingDay(date: string) {
        if (date.startsWith('2030')) throw new RangeError(`no calendar answer for ${date}`);
        return reference.calendar.isWorkingDay(date);
      },
    };
    h.deps.reference = { ...reference, calendar: calendar as unknown as typeof reference.calendar };
    const id = await h.submit('plan.csv', [HEADER, csvRow(95), csvRow(96, { expiresOn: '2030-03-15' })].join('\n'));

    // Act
    const state = await runImport(h.deps, id);

    // Assess
    const record = await h.imports.getImport(id);
    expect(state).toBe('failed');
    expect(record?.state).toBe('failed');
    expect(record?.failure).toMatchObject({ code: 'planning_failed', message: expect.stringContaining('第 3 行') });
    expect(record?.failure?.message).toContain('row 3');
    expect(await h.imports.openImports()).not.toContain(id);
    expect(await storedNumbers(h.store, ['NY-00095', 'NY-00096'])).toEqual([]);
  });

  it('fails a file whose header lacks required columns, naming them', async () => {
    // Prepare
    const h = await harness('import-header');
    const id = await h.submit('bad.csv', '证照编号,持证主体\nX-1,某店\n');

    // Act
    const state = await runImport(h.deps, id);

    // Assess
    expect(state).toBe('failed');
    const failure = (await h.imports.getImport(id))?.failure;
    expect(failure?.code).toBe('missing_columns');
    expect(failure?.message).toContain('expiresOn');
    expect((await h.errors(id))[0]).toMatchObject({ row: 1 });
  });

  it('fails a file that is not a spreadsheet at once, instead of retrying it', async () => {
    // Prepare
    const h = await harness('import-corrupt');
    const id = await h.submit('broken.xlsx', Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(200, 7)]));

    // Act
    const state = await runImport(h.deps, id);

    // Assess
    expect(state).toBe('failed');
    expect((await h.imports.getImport(id))?.failure?.message).toMatch(/xlsx|Excel|工作簿|文件/);
    expect(await h.imports.openImports()).not.toContain(id);
  });

  it("rejects the rows of types a bureau does not issue, and stores the bureau's own", async () => {
    // Prepare
    const h = await harness('import-scope');
    const id = await h.submit('mixed.csv', [HEADER, csvRow(80), csvRow(81, { type: '烟草专卖零售许可证' })].join('\n'), AGRICULTURE_BUREAU);

    // Act
    await runImport(h.deps, id);

    // Assess
    const record = await h.imports.getImport(id);
    expect(record?.counts).toMatchObject({ created: 1, rejected: 1 });
    expect(record?.uploadedBy).toEqual({ subject: 'token:agri', role: 'bureau', authority: 'agriculture_rural' });
    expect(await h.errors(id)).toEqual([expect.objectContaining({ row: 3, column: '证照类型' })]);
  });

  it('refuses rows whose number or holder name would put a link or a second signature into the SMS, by row, column and reason', async () => {
    // Prepare
    const h = await harness('import-sms-safe');
    const phishing = '】已停用，回复1解除 http://x.cn【';
    const rows = [csvRow(90), csvRow(91, { number: phishing }), csvRow(92, { holder: '某农资店 www.x.cn' }), csvRow(93, { number: '赣兴农药经字〔2021〕000093' })];
    const id = await h.submit('phishing.csv', [HEADER, ...rows].join('\n'));

    // Act
    await runImport(h.deps, id);

    // Assess
    const errors = await h.errors(id);
    expect(errors.map((e) => [e.row, e.column, e.value])).toEqual([
      [3, '证照编号', phishing],
      [4, '持证主体', '某农资店 www.x.cn'],
    ]);
    expect(errors[0]?.reason).toMatch(/【】.* \/ .*【】/);
    expect(errors[1]?.reason).toMatch(/网址.* \/ .*web address/);
    expect(await storedNumbers(h.store, ['NY-00090', phishing, 'NY-00092', '赣兴农药经字〔2021〕000093'])).toEqual(['NY-00090', '赣兴农药经字〔2021〕000093']);
  });

  it('stores a row of a type without an expiry whose expiry cell is empty, with no plan, and refuses one that gives an expiry, on its expiry column', async () => {
    // Prepare
    const h = await harness('import-no-expiry');
    const tractor = '拖拉机和联合收割机登记证书';
    const rows = [csvRow(95), csvRow(96, { type: tractor, expiresOn: '' }), csvRow(97, { type: tractor, expiresOn: '2030-01-01' })];
    const id = await h.submit('registrations.csv', [HEADER, ...rows].join('\n'));

    // Act
    await runImport(h.deps, id);

    // Assess
    expect((await h.imports.getImport(id))?.counts).toMatchObject({ rows: 3, created: 2, rejected: 1 });
    const errors = await h.errors(id);
    expect(errors).toEqual([expect.objectContaining({ row: 4, column: '有效期至', value: '2030-01-01', reason: expect.stringContaining('没有有效期') })]);
    const stored = await h.store.getCertificate({ type: 'farm_machine_registration', number: 'NY-00096' });
    expect(stored?.certificate.expiresOn).toBeNull();
    expect(stored?.plan).toEqual({ renewalDeadline: null, windowOpens: null, calendarProvisional: false, stages: [] });
    expect(await h.store.getCertificate({ type: 'farm_machine_registration', number: 'NY-00097' })).toBeUndefined();
  });

  it('imports a register of types without an expiry that has no expiry column at all', async () => {
    // Prepare: a bureau's export of tractor registrations, which have no expiry to export.
    const h = await harness('import-no-expiry-column');
    const header = HEADER.replace(',有效期至', '');
    const rows = [csvRow(98, { type: '拖拉机和联合收割机登记证书' }), csvRow(99, { type: 'farm_machine_registration' })].map((row) => row.replace(/,[^,]*$/, ''));
    const id = await h.submit('tractors.csv', [header, ...rows].join('\n'));

    // Act
    const state = await runImport(h.deps, id);

    // Assess
    expect(state).toBe('done');
    expect((await h.imports.getImport(id))?.counts).toMatchObject({ rows: 2, created: 2, rejected: 0 });
    expect(await h.errors(id)).toEqual([]);
  });

  it('refuses a file without an expiry column when a row is of a type that has an expiry, naming the column and that row, and stores nothing', async () => {
    // Prepare
    const h = await harness('import-mixed-no-expiry-column');
    const header = HEADER.replace(',有效期至', '');
    const rows = [csvRow(100, { type: '拖拉机和联合收割机登记证书' }), csvRow(101)].map((row) => row.replace(/,[^,]*$/, ''));
    const id = await h.submit('mixed.csv', [header, ...rows].join('\n'));

    // Act
    const state = await runImport(h.deps, id);

    // Assess
    expect(state).toBe('failed');
    const record = await h.imports.getImport(id);
    expect(record?.failure?.code).toBe('missing_columns');
    expect(record?.failure?.message).toContain('expiresOn');
    expect(record?.failure?.message).toContain('第 3 行');
    expect(record?.failure?.message).toContain('row 3');
    expect(await h.store.getCertificate({ type: 'farm_machine_registration', number: 'NY-00100' })).toBeUndefined();
  });
});
