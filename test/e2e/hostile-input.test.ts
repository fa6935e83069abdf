/**
 * The local service attacked over HTTP: hostile dates, over-long path segments and query values,
 * forged cursors and large bodies from callers who may not send them. None may get a 500, leave a
 * partial write, or cost the service more than the refusal.
 */
import { readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, certificateRecord, E2E_TOKEN, startTestService, type ApiError, type TestService, type UploadAnswer } from '../support/e2e-service.js';

let local: TestService;
let operator: Api;

beforeAll(async () => {
  local = await startTestService({ inMemory: true });
  operator = new Api(local.url);
});

afterAll(async () => {
  await local?.stop();
});

describe('Local service: hostile records', () => {
  it('rejects a 9999-12-31 expiry as a bad record and stores the rest of the batch', async () => {
    // Prepare
    const good = certificateRecord();
    const hostile = certificateRecord({ expiresOn: '9999-12-31' });

    // Act
    const answer = await operator.upload([good, hostile]);

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ accepted: 1, rejected: [{ index: 1, field: 'expiresOn', reason: expect.stringContaining('2199-12-31') }] });
    expect((await operator.certificate(good.type, good.number)).status).toBe(200);
    expect((await operator.certificate(hostile.type, hostile.number)).status).toBe(404);
  });

  it('refuses a phone sent as a JSON number, saying it must be text', async () => {
    // Act
    const answer = await operator.upload({ ...certificateRecord(), phone: 1.39e10 });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject<Partial<UploadAnswer>>({
      accepted: 0,
      rejected: [{ index: 0, field: 'phone', reason: '手机号应为文本（加引号），实际为 number / phone must be text (in quotes), got number' }],
    });
  });
});

describe('Local service: over-long path segments and query values', () => {
  const longNumber = 'N'.repeat(2100);
  const longId = 'x'.repeat(3000);

  it.each([
    ['a certificate number of 2,100 characters', `/v1/certificates/pesticide_business_license/${longNumber}`],
    ['a certificate number of 2,100 characters in /plan', `/v1/certificates/pesticide_business_license/${longNumber}/plan`],
    ['a certificate number one character over the upload limit', `/v1/certificates/pesticide_business_license/${'N'.repeat(65)}`],
    ['a type of 3,000 characters', `/v1/certificates/${longId}/N-1`],
    ['an import id of 3,000 characters', `/v1/imports/${longId}`],
    ['an import id of 3,000 characters in errors.csv', `/v1/imports/${longId}/errors.csv`],
  ])('answers 404, not 500, to %s', async (_what, path) => {
    // Act
    const answer = await operator.get<ApiError>(path);

    // Assess
    expect(answer.status).toBe(404);
    expect(answer.body.error.message).toEqual(expect.any(String));
  });

  it('answers 404, not 500, to revoking a token id of 3,000 characters', async () => {
    // Act
    const answer = await operator.send<ApiError>('DELETE', `/v1/tokens/${longId}`, undefined, {});

    // Assess
    expect(answer.status).toBe(404);
  });

  it.each([
    ['township', `township=${'镇'.repeat(1000)}`],
    ['type', `type=${'t'.repeat(3000)}`],
    ['cursor', `cursor=${'c'.repeat(3000)}`],
  ])('answers 400, not 500, to a listing with a %s of thousands of characters', async (_what, query) => {
    // Act
    const answer = await operator.get<ApiError>(`/v1/certificates?${query}`);

    // Assess
    expect(answer.status).toBe(400);
  });
});

const HUNDRED_MB = 100 * 1024 * 1024;

/**
 * POSTs a 100 MB body, made as it is sent, and resolves at the answer's status with how many bytes
 * the client had managed to send by then; the upload is abandoned once the answer is in.
 */
function postHundredMegabytes(path: string, token: string | undefined): Promise<{ status: number; connection: string | undefined; sentBytes: number }> {
  let sentBytes = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const body = new Readable({
    read() {
      if (sentBytes >= HUNDRED_MB) return void this.push(null);
      sentBytes += chunk.length;
      this.push(chunk);
    },
  });
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, local.url), {
      method: 'POST',
      headers: { 'content-type': 'text/csv', 'content-length': String(HUNDRED_MB), ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, sentBytes });
      res.resume();
      body.destroy();
      req.destroy();
    });
    // Once answered, the server closing the connection under the rest of the upload is the point.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    body.pipe(req);
  });
}

describe('Local service: bodies from callers who may not send them', () => {
  let viewer: string;
  let bureau: string;
  let revoked: string;

  beforeAll(async () => {
    const issue = async (request: object) => (await operator.post<{ id: string; token: string }>('/v1/tokens', request)).body;
    viewer = (await issue({ role: 'viewer' })).token;
    bureau = (await issue({ role: 'bureau', authority: 'agriculture_rural' })).token;
    const gone = await issue({ role: 'operator' });
    await operator.send('DELETE', `/v1/tokens/${gone.id}`, undefined, {});
    revoked = gone.token;
  });

  const importsDir = () => join(local.dataDir, 'imports');
  const spooledFiles = () => {
    try {
      return readdirSync(importsDir());
    } catch {
      return [];
    }
  };

  it.each([
    ['no token', '/v1/imports', () => undefined, 401],
    ['a garbage token', '/v1/imports', () => 'garbage', 401],
    ['a revoked token', '/v1/imports', () => revoked, 401],
    ['a viewer token', '/v1/imports', () => viewer, 403],
    ['a garbage token', '/v1/certificates', () => 'garbage', 401],
    ['a viewer token', '/v1/certificates', () => viewer, 403],
    ['a bureau token', '/v1/tokens', () => bureau, 403],
    ['a viewer token', '/v1/scans', () => viewer, 403],
  ])('refuses a 100 MB body with %s on POST %s at once, writing nothing to disk', async (_who, path, token, status) => {
    // Prepare
    const before = spooledFiles();

    // Act
    const answer = await postHundredMegabytes(path, token());

    // Assess: answered long before the body could have been read, and nothing spooled.
    expect(answer.status).toBe(status);
    expect(answer.connection).toBe('close');
    expect(answer.sentBytes).toBeLessThan(HUNDRED_MB / 4);
    expect(spooledFiles()).toEqual(before);
    expect((await operator.get<{ status: string }>('/healthz')).status).toBe(200);
  });
});

describe('Local service: connections of accepted requests', () => {
  it('keeps the connection open after a request whose body it read', async () => {
    // Act
    const connection = await new Promise<string | undefined>((resolve, reject) => {
      const req = request(new URL('/v1/certificates', local.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${E2E_TOKEN}`, 'content-type': 'application/json' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.headers.connection);
      });
      req.on('error', reject);
      req.end(JSON.stringify(certificateRecord()));
    });

    // Assess
    expect(connection).not.toBe('close');
  });
});

describe('Local service: listing cursors', () => {
  let bureau: Api;
  let operatorCursor: string;

  beforeAll(async () => {
    const issued = await operator.post<{ token: string }>('/v1/tokens', { role: 'bureau', authority: 'agriculture_rural' });
    bureau = new Api(local.url, issued.body.token);
    await operator.uploadAll(Array.from({ length: 6 }, () => certificateRecord()));
    const first = await operator.get<{ nextCursor?: string }>('/v1/certificates?limit=2');
    operatorCursor = first.body.nextCursor ?? '';
  });

  it('pages an operator through the table with the cursor it was given', async () => {
    // Act
    const next = await operator.get<{ items: unknown[] }>(`/v1/certificates?limit=2&cursor=${encodeURIComponent(operatorCursor)}`);

    // Assess
    expect(next.status).toBe(200);
    expect(next.body.items).toHaveLength(2);
  });

  it('answers 400 to an operator’s cursor replayed by a bureau', async () => {
    // Act
    const replay = await bureau.get<ApiError>(`/v1/certificates?limit=2&cursor=${encodeURIComponent(operatorCursor)}`);

    // Assess
    expect(replay.status).toBe(400);
    expect(replay.body.error.code).toBe('invalid_cursor');
  });

  it('answers 400 to a cursor with one character changed', async () => {
    // Prepare
    const tampered = `${operatorCursor.slice(0, 8)}${operatorCursor[8] === 'A' ? 'B' : 'A'}${operatorCursor.slice(9)}`;

    // Act
    const answer = await operator.get<ApiError>(`/v1/certificates?limit=2&cursor=${encodeURIComponent(tampered)}`);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_cursor');
  });

  it.each([
    ['the tokens’ start key', { pk: 'TOKENS', sk: 'TOKEN#admin' }],
    ['a start key that DynamoDB refuses', { pk: 'CERT#x', sk: 'CERT', gsi1pk: 1 }],
  ])('answers 400 to %s crafted as a cursor', async (_what, startKey) => {
    // Prepare
    const crafted = Buffer.from(JSON.stringify(startKey)).toString('base64url');

    // Act
    const answer = await operator.get<ApiError>(`/v1/certificates?limit=2&cursor=${crafted}`);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_cursor');
  });

  it('keeps the cursor service key in the data dir, readable by its owner only', () => {
    // Act
    const mode = statSync(join(local.dataDir, 'cursor-key')).mode & 0o777;

    // Assess
    expect(mode).toBe(0o600);
  });
});
