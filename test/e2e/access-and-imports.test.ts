import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usccCheckCharacter } from '../../functions/core/holder-id.js';
import { Api, E2E_TOKEN, startTestService, type TestService } from '../support/e2e-service.js';

interface Issued {
  id: string;
  token: string;
  role: string;
  authority?: string;
}

interface ImportStatus {
  id: string;
  state: string;
  counts: Record<string, number>;
  sameFileAs: string | null;
  uploadedBy: { subject: string; role: string; authority?: string };
  sha256: string;
  failure: { code: string } | null;
}

function uscc(serial: number): string {
  const first17 = `91360732MA${String(serial).padStart(7, '0')}`;
  return `${first17}${usccCheckCharacter(first17)}`;
}

function record(type: string, number: string, serial: number) {
  return {
    type,
    number,
    holder: { name: `测试单位${serial}`, id: uscc(serial) },
    phone: `1390000${String(serial).padStart(4, '0')}`,
    township: '潋江镇',
    issuedOn: '2022-01-01',
    expiresOn: '2027-01-01',
  };
}

let local: TestService;
let operator: Api;

async function issue(body: object): Promise<Api> {
  const issued = await operator.post<Issued>('/v1/tokens', body);
  expect(issued.status).toBe(201);
  return new Api(local.url, issued.body.token);
}

async function rawUpload(token: string | undefined, path: string, body: Buffer | string, contentType: string) {
  const response = await fetch(new URL(path, local.url), {
    method: 'POST',
    headers: { 'content-type': contentType, ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  return { status: response.status, body: (await response.json()) as { id: string; resumed: boolean; sameFileAs?: string } };
}

async function waitForImport(api: Api, id: string): Promise<ImportStatus> {
  for (let i = 0; i < 200; i += 1) {
    const status = await api.get<ImportStatus>(`/v1/imports/${id}`);
    if (status.body.state === 'done' || status.body.state === 'failed') return status.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`import ${id} did not finish`);
}

beforeAll(async () => {
  local = await startTestService({ inMemory: true });
  operator = new Api(local.url);
});

afterAll(async () => {
  await local.stop();
});

describe('Local service: access', () => {
  it('answers 401 without a token or with an unknown one, and serves /healthz to anyone', async () => {
    // Act
    const missing = await new Api(local.url, null).get<{ error: { code: string } }>('/v1/catalogue');
    const unknown = await new Api(local.url, 'not-a-token').get<{ error: { code: string } }>('/v1/catalogue');
    const health = await new Api(local.url, null).get<{ status: string }>('/healthz');

    // Assess
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('unauthorized');
    expect(unknown.status).toBe(401);
    expect(health.status).toBe(200);
  });

  it('names the issuing authority of every type and lists the authorities', async () => {
    // Act
    const catalogue = await operator.get<Array<{ code: string; authority: string }>>('/v1/catalogue');
    const authorities = await operator.get<Array<{ code: string; types: string[] }>>('/v1/authorities');

    // Assess
    const codes = new Set(authorities.body.map((a) => a.code));
    expect(catalogue.body.every((t) => codes.has(t.authority))).toBe(true);
    expect(authorities.body.find((a) => a.code === 'agriculture_rural')?.types).toContain('pesticide_business_license');
  });

  it('lets a bureau neither read nor overwrite a certificate of a type another bureau issues', async () => {
    // Prepare
    const agriculture = await issue({ role: 'bureau', authority: 'agriculture_rural' });
    const tobacco = await issue({ role: 'bureau', authority: 'tobacco' });
    const tobaccoRecord = record('tobacco_retail_license', 'YC-ACCESS-1', 9001);
    expect((await tobacco.upload(tobaccoRecord)).body.accepted).toBe(1);

    // Act
    const read = await agriculture.get<{ error: { code: string; message: string } }>('/v1/certificates/tobacco_retail_license/YC-ACCESS-1');
    const plan = await agriculture.get<{ error: { code: string } }>('/v1/certificates/tobacco_retail_license/YC-ACCESS-1/plan');
    const overwrite = await agriculture.post<{ error: { code: string } }>('/v1/certificates', { ...tobaccoRecord, phone: '13911110000' });
    const list = await agriculture.get<{ error: { code: string } }>('/v1/certificates?type=tobacco_retail_license');
    const own = await agriculture.upload(record('pesticide_business_license', 'NY-ACCESS-1', 9002));

    // Assess
    expect(read.status).toBe(403);
    expect(read.body.error.message).toContain('tobacco');
    expect(plan.status).toBe(403);
    expect(overwrite.status).toBe(403);
    expect(list.status).toBe(403);
    expect(own.body.accepted).toBe(1);
    const stored = await tobacco.get<{ phone: string }>('/v1/certificates/tobacco_retail_license/YC-ACCESS-1');
    expect(stored.body.phone).toBe('+8613900009001');
  });

  it("lists only a bureau's own types when it asks for everything", async () => {
    // Prepare
    const agriculture = await issue({ role: 'bureau', authority: 'agriculture_rural' });

    // Act
    const page = await agriculture.get<{ items: Array<{ type: string }> }>('/v1/certificates?limit=1000');

    // Assess
    expect(page.status).toBe(200);
    const types = new Set(page.body.items.map((i) => i.type));
    expect(types.has('tobacco_retail_license')).toBe(false);
  });

  it('keeps a viewer read-only and keeps tokens, scans and the outbox to operators', async () => {
    // Prepare
    const viewer = await issue({ role: 'viewer', label: '审计' });

    // Act
    const upload = await viewer.upload(record('pesticide_business_license', 'NY-VIEW-1', 9003));
    const read = await viewer.get('/v1/catalogue');
    const tokens = await viewer.post('/v1/tokens', { role: 'viewer' });
    const scan = await viewer.post('/v1/scans', {});

    // Assess
    expect(upload.status).toBe(403);
    expect(read.status).toBe(200);
    expect(tokens.status).toBe(403);
    expect(scan.status).toBe(403);
  });

  it('lists tokens without their secrets and refuses a revoked token', async () => {
    // Prepare
    const issued = await operator.post<Issued>('/v1/tokens', { role: 'viewer', label: 'temporary' });
    const holder = new Api(local.url, issued.body.token);
    expect((await holder.get('/v1/townships')).status).toBe(200);

    // Act
    const listed = await operator.get<Array<Record<string, unknown>>>('/v1/tokens');
    const revoked = await operator.send<{ revoked: boolean }>('DELETE', `/v1/tokens/${issued.body.id}`, undefined, {});
    const after = await holder.get('/v1/townships');

    // Assess
    const entry = listed.body.find((t) => t.id === issued.body.id);
    expect(entry).toMatchObject({ role: 'viewer', label: 'temporary', revoked: false });
    expect(JSON.stringify(listed.body)).not.toContain(issued.body.token);
    expect(entry).not.toHaveProperty('hash');
    expect(revoked.body.revoked).toBe(true);
    expect(after.status).toBe(401);
  });

  it('refuses a bureau token without an authority, or with an unknown one', async () => {
    // Act
    const missing = await operator.post('/v1/tokens', { role: 'bureau' });
    const unknown = await operator.post('/v1/tokens', { role: 'bureau', authority: 'no_such_bureau' });

    // Assess
    expect(missing.status).toBe(400);
    expect(unknown.status).toBe(400);
  });
});

describe('Local service: POST /v1/imports', () => {
  const HEADER = '证照类型,证照编号,单位名称,统一社会信用代码,手机号,所属乡镇,发证日期,有效期至';

  it('imports a GBK CSV, follows it to done, and serves errors.csv that Excel opens (BOM, Excel row numbers)', async () => {
    // Prepare
    const csv = [
      HEADER,
      `农药经营许可证,NY-IMP-1,兴国县甲农资店,${uscc(9101)},13900009101,潋江镇,2022/1/1,2027年1月1日`,
      `农药经营许可证,NY-IMP-2,兴国县乙农资店,${uscc(9102)},1.39E+10,潋江镇,2022/1/1,2027-01-01`,
    ].join('\r\n');

    // Act
    const submitted = await rawUpload(E2E_TOKEN, '/v1/imports?fileName=gbk.csv', iconv.encode(csv, 'gbk'), 'text/csv');
    const status = await waitForImport(operator, submitted.body.id);
    const errors = await fetch(new URL(`/v1/imports/${submitted.body.id}/errors.csv`, local.url), { headers: { authorization: `Bearer ${E2E_TOKEN}` } });
    const bytes = Buffer.from(await errors.arrayBuffer());

    // Assess
    expect(submitted.status).toBe(202);
    expect(status).toMatchObject({ state: 'done', counts: { rows: 2, created: 1, rejected: 1 } });
    expect(status.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(errors.headers.get('content-type')).toContain('text/csv');
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).trim().split('\r\n');
    expect(lines[0]).toBe('row,column,value,reason');
    expect(lines[1]).toMatch(/^3,手机号,1\.39E\+10,/);
  });

  it('imports the named sheet of an XLSX file and says so when the same file comes again', async () => {
    // Prepare
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('名单');
    sheet.addRow(['type', 'number', 'holder.name', 'holder.id', 'phone', 'township', 'issuedOn', 'expiresOn']);
    sheet.addRow(['pesticide_business_license', 'NY-XLSX-1', '兴国县丙农资店', uscc(9201), 13900009201, '360732100', '2022-01-01', '2027-01-01']);
    const file = Buffer.from(await workbook.xlsx.writeBuffer());
    const type = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

    // Act
    const first = await rawUpload(E2E_TOKEN, '/v1/imports?fileName=a.xlsx&sheet=名单', file, type);
    const firstStatus = await waitForImport(operator, first.body.id);
    const second = await rawUpload(E2E_TOKEN, '/v1/imports?fileName=a.xlsx&sheet=名单', file, type);
    const secondStatus = await waitForImport(operator, second.body.id);

    // Assess
    expect(firstStatus).toMatchObject({ state: 'done', counts: { created: 1 } });
    expect(secondStatus).toMatchObject({ state: 'done', sameFileAs: first.body.id, counts: { unchanged: 1, created: 0 } });
  });

  it('records who imported, and keeps a bureau away from another bureau’s import', async () => {
    // Prepare
    const agricultureToken = (await operator.post<Issued>('/v1/tokens', { role: 'bureau', authority: 'agriculture_rural' })).body.token;
    const tobacco = await issue({ role: 'bureau', authority: 'tobacco' });
    const csv = `${HEADER}\n农药经营许可证,NY-IMP-9,某店,${uscc(9301)},13900009301,潋江镇,2022-01-01,2027-01-01\n`;

    // Act
    const submitted = await rawUpload(agricultureToken, '/v1/imports?fileName=a.csv', csv, 'text/csv');
    const status = await waitForImport(operator, submitted.body.id);
    const peek = await tobacco.get<{ error: { code: string } }>(`/v1/imports/${submitted.body.id}`);

    // Assess
    expect(status.uploadedBy).toMatchObject({ role: 'bureau', authority: 'agriculture_rural' });
    expect(peek.status).toBe(403);
  });

  it('refuses an import without a token before storing the file', async () => {
    // Act
    const answer = await rawUpload(undefined, '/v1/imports?fileName=x.csv', `${HEADER}\n`, 'text/csv');

    // Assess
    expect(answer.status).toBe(401);
  });
});
