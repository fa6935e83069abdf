import { createHash } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Principal } from '../../functions/core/access.js';
import type { ImportError, ImportRecord, ImportStore, ImportSubmission } from '../../functions/core/ports.js';
import { S3ImportSubmitter } from '../../functions/adapters/aws/s3-import-submitter.js';
import { createHttpApp, type HttpAppDeps } from '../../functions/app/http/app.js';
import { createImport } from '../../functions/app/imports/run-import.js';
import { importBlobKey } from '../../functions/core/import-messages.js';
import { silentLogger } from '../../functions/app/logger.js';
import { fixedClock, testSettings } from '../support/fixtures.js';

const OPERATOR: Principal = { role: 'operator', subject: 'jwt:operator-1' };
const BUCKET = 'certalarm-imports-test-123456789012-ap-southeast-1';
const CSV = Buffer.from('证照类型,证照编号\n农药经营许可证,NY-1\n');
const SHA256 = createHash('sha256').update(CSV).digest('hex');

/** The import port as a test double: the records, the open markers and the hash index. */
class ImportStoreDouble implements ImportStore {
  readonly records = new Map<string, ImportRecord>();
  readonly open = new Set<string>();
  async createImport(record: ImportRecord) {
    this.records.set(record.id, record);
    this.open.add(record.id);
  }
  async getImport(id: string) {
    return this.records.get(id);
  }
  async saveImport(record: ImportRecord) {
    if (this.records.get(record.id)?.revision !== record.revision - 1) return false;
    this.records.set(record.id, record);
    return true;
  }
  async putImportErrors(_owner: Pick<ImportRecord, 'id' | 'createdAt'>, _errors: ImportError[]) {}
  async *importErrors(): AsyncIterable<ImportError> {}
  async openImports() {
    return [...this.open];
  }
  async closeImport(id: string) {
    this.open.delete(id);
  }
  async findImportByHash() {
    return undefined;
  }
  async rememberImportHash() {}
}

function submission(overrides: Partial<ImportSubmission> = {}): ImportSubmission {
  return { fileName: '农药经营许可证.csv', contentType: 'text/csv', options: { allOrNothing: false }, file: { bytes: CSV.length, sha256: SHA256 }, ...overrides };
}

describe('Class: S3ImportSubmitter', () => {
  let imports: ImportStoreDouble;
  let submitter: S3ImportSubmitter;
  // Only its resolved config (credentials, region, hash) signs; getSignedUrl uses the whole client as the reference.
  const client = new S3Client({
    region: 'ap-southeast-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret', sessionToken: 'session/token+=' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-08-01T02:00:00Z'));
    imports = new ImportStoreDouble();
    const clock = fixedClock('2026-08-01T10:00:00+08:00');
    submitter = new S3ImportSubmitter({
      signing: client.config,
      bucket: BUCKET,
      imports,
      recordImport: (principal, upload) => createImport({ imports, clock, removeFile: async () => undefined }, principal, upload),
      clock,
      maxBytes: 1024 * 1024,
    });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  describe('Method: submit', () => {
    it('records a queued import under imports/<id> and presigns a 15-minute PUT for exactly that key', async () => {
      // Act
      const result = await submitter.submit(OPERATOR, submission());

      // Assess
      const url = new URL(result.upload!.url);
      const record = imports.records.get(result.id)!;
      expect(result).toMatchObject({ id: expect.stringMatching(/^imp_[0-9a-f]{20}$/), resumed: false });
      expect(record).toMatchObject({ state: 'queued', blobKey: importBlobKey(result.id), bytes: CSV.length, sha256: SHA256, contentType: 'text/csv', fileName: '农药经营许可证.csv' });
      expect(url.protocol).toBe('https:');
      expect(url.host).toBe(`${BUCKET}.s3.ap-southeast-1.amazonaws.com`);
      expect(url.pathname).toBe(`/imports/${result.id}`);
      expect(Object.fromEntries(url.searchParams)).toMatchObject({
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Credential': 'AKIDTEST/20260801/ap-southeast-1/s3/aws4_request',
        'X-Amz-Date': '20260801T020000Z',
        'X-Amz-Expires': '900',
        'X-Amz-SignedHeaders': 'content-length;content-type;host;x-amz-checksum-sha256',
        'X-Amz-Security-Token': 'session/token+=',
        'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD',
        'x-id': 'PutObject',
      });
      expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
      expect(result.upload).toMatchObject({
        method: 'PUT',
        headers: { 'content-type': 'text/csv', 'x-amz-checksum-sha256': Buffer.from(SHA256, 'hex').toString('base64') },
        expiresAt: '2026-08-01T10:15:00.000+08:00',
      });
    });

    it('signs the very URL the SDK\'s getSignedUrl gives for a PutObject of the same file', async () => {
      // Act
      const result = await submitter.submit(OPERATOR, submission());

      // Assess: at the same frozen time, the SDK's presigner through the full S3 client gives the reference URL.
      const command = new PutObjectCommand({
        Bucket: BUCKET,
        Key: importBlobKey(result.id),
        ContentType: 'text/csv',
        ContentLength: CSV.length,
        ChecksumSHA256: Buffer.from(SHA256, 'hex').toString('base64'),
      });
      const expected = await getSignedUrl(client, command, {
        expiresIn: 900,
        signableHeaders: new Set(['content-type', 'content-length']),
        unhoistableHeaders: new Set(['x-amz-checksum-sha256']),
      });
      expect(result.upload!.url).toBe(expected);
    });

    it('leaves out the SDK default CRC32 checksum, which would be of an empty body and fail every upload', async () => {
      // Act
      const result = await submitter.submit(OPERATOR, submission());

      // Assess
      const params = [...new URL(result.upload!.url).searchParams.keys()].map((k) => k.toLowerCase());
      expect(params.filter((k) => k.startsWith('x-amz-checksum') || k === 'x-amz-sdk-checksum-algorithm')).toEqual([]);
    });

    it('refuses a file above the import limit with 413 before recording anything', async () => {
      // Act
      const attempt = submitter.submit(OPERATOR, submission({ file: { bytes: 1024 * 1024 + 1, sha256: SHA256 } }));

      // Assess
      await expect(attempt).rejects.toMatchObject({ status: 413, code: 'file_too_large' });
      expect(imports.records.size).toBe(0);
    });

    it('asks for the JSON declaration when the request carried no file description', async () => {
      // Act
      const attempt = submitter.submit(OPERATOR, submission({ file: undefined }));

      // Assess
      await expect(attempt).rejects.toMatchObject({ status: 400, code: 'upload_declaration_required' });
    });

    it('resumes an unfinished import of the same file by the same caller, with a fresh URL for its key', async () => {
      // Prepare
      const first = await submitter.submit(OPERATOR, submission());

      // Act
      const again = await submitter.submit(OPERATOR, submission());

      // Assess
      expect(again).toMatchObject({ id: first.id, resumed: true });
      expect(new URL(again.upload!.url).pathname).toBe(`/imports/${first.id}`);
      expect(imports.records.size).toBe(1);
    });

    it('starts a separate import when another caller submits the same file', async () => {
      // Prepare
      const first = await submitter.submit(OPERATOR, submission());

      // Act
      const other = await submitter.submit({ role: 'bureau', authority: 'agriculture_rural', subject: 'jwt:agri' }, submission());

      // Assess
      expect(other.id).not.toBe(first.id);
      expect(other.resumed).toBe(false);
    });
  });
});

describe('Route: POST /v1/imports with a JSON declaration', () => {
  function appWith(submitImport: HttpAppDeps['submitImport']) {
    // The route reads only these dependencies; the store, ledger and SMS sender stay out of it.
    const deps: Partial<HttpAppDeps> = {
      settings: testSettings(),
      logger: silentLogger,
      clock: fixedClock('2026-08-01T10:00:00+08:00'),
      authenticate: async () => OPERATOR,
      submitImport,
    };
    return createHttpApp(deps as HttpAppDeps);
  }

  it('passes the declared file, its options and the lower-cased hash to the submitter and answers 202', async () => {
    // Prepare
    const submitted: ImportSubmission[] = [];
    const app = appWith(async (_principal, s) => {
      submitted.push(s);
      return { id: 'imp_0123456789abcdef0123', resumed: false, upload: { url: 'https://example.invalid/put', method: 'PUT', headers: {}, expiresAt: 'x' } };
    });
    const body = { fileName: '2026.xlsx', contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', bytes: 2048, sha256: SHA256.toUpperCase(), allOrNothing: true, sheet: '许可证' };

    // Act
    const response = await app({ method: 'POST', path: '/v1/imports', query: {}, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) });

    // Assess
    expect(response.status).toBe(202);
    expect(JSON.parse(response.body)).toMatchObject({ id: 'imp_0123456789abcdef0123', status: '/v1/imports/imp_0123456789abcdef0123', upload: { method: 'PUT' } });
    expect(submitted).toEqual([
      { fileName: '2026.xlsx', contentType: body.contentType, options: { allOrNothing: true, sheet: '许可证' }, file: { bytes: 2048, sha256: SHA256 } },
    ]);
  });

  it('answers 400 naming the field when the declaration has no usable hash', async () => {
    // Prepare
    const app = appWith(async () => ({ id: 'x', resumed: false }));

    // Act
    const response = await app({
      method: 'POST',
      path: '/v1/imports',
      query: {},
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fileName: 'a.csv', contentType: 'text/csv', bytes: 10, sha256: 'abc' }),
    });

    // Assess
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'invalid_request', details: [{ field: 'sha256' }] } });
  });
});
