import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { importErrorKey, importKey, TTL_ATTRIBUTE } from '../../functions/adapters/aws/dynamodb/keys.js';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { handler as httpApi } from '../../functions/handlers/http-api.js';
import { handler as importWorker } from '../../functions/handlers/import-worker.js';
import { resetImportWorkerDeps } from '../../functions/handlers/import-worker-runtime.js';
import { resetLambdaDeps } from '../../functions/handlers/runtime.js';
import { dynamoTestClient, uniqueTableName } from '../support/dynamo.js';
import { fixedClock, validUscc } from '../support/fixtures.js';
import { useLambdaEnvironment } from '../support/lambda-environment.js';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/events/${name}`, import.meta.url), 'utf8')) as T;

const BUCKET = 'certalarm-imports-test-123456789012-ap-southeast-1';
const QUEUE_URL = 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/Certalarm-test-ImportsQueue';
const SCAN_FUNCTION = 'Certalarm-test-FunctionsDueScan-AbCdEf123456';
const OPERATOR_CLAIMS = { sub: 'operator-1', iss: 'https://auth.example.gov.cn', aud: 'certalarm', 'custom:role': 'operator' };
const HEADER = '证照类型,证照编号,持证主体,统一社会信用代码,联系电话,所属乡镇,发证日期,有效期至';
const ROWS = 2500;

function csv(rows: number): Buffer {
  const lines = [HEADER];
  for (let i = 1; i <= rows; i += 1) {
    lines.push(['农药经营许可证', `AWS-${String(i).padStart(5, '0')}`, `兴国县测试农资店${i}`, validUscc(i), `1390000${String(i % 10000).padStart(4, '0')}`, '潋江镇', '2021/12/21', '2026年12月20日'].join(','));
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;

function httpEvent(method: string, path: string, body?: unknown): HttpEvent {
  const base = fixture<HttpEvent>('http-api-post-certificates.json');
  const authorizer = { ...base.requestContext.authorizer, jwt: { ...base.requestContext.authorizer.jwt, claims: OPERATOR_CLAIMS } };
  return {
    ...base,
    rawPath: path,
    rawQueryString: '',
    requestContext: { ...base.requestContext, authorizer, http: { ...base.requestContext.http, method, path } },
    ...(body === undefined ? { body: undefined } : { body: JSON.stringify(body), isBase64Encoded: false }),
  } as HttpEvent;
}

/** The SQS event Lambda delivers for an upload to `key` (the fixture, with its key replaced). */
function uploadedEvent(key: string): SQSEvent {
  const event = fixture<SQSEvent>('sqs-s3-object-created.json');
  const notification = JSON.parse(event.Records[0]!.body) as { Records: Array<{ s3: { object: { key: string } } }> };
  notification.Records[0]!.s3.object.key = key;
  return { Records: [{ ...event.Records[0]!, body: JSON.stringify(notification) }] };
}

/** The SQS event for a message the worker sent to the queue. */
function queuedEvent(body: string): SQSEvent {
  const event = fixture<SQSEvent>('sqs-s3-object-created.json');
  return { Records: [{ ...event.Records[0]!, messageId: `continue-${Math.random()}`, body }] };
}

/** Leaves the worker no time beyond the safety margin: it pauses after every chunk of rows. */
const nearlyOutOfTime = { getRemainingTimeInMillis: () => 60_000 };

/**
 * "AWS": the functions reach S3 (presigned requests), SQS and Lambda (one signed request each) with
 * fetch, so fetch answers for them. `objects` is the bucket's content; a GET of any other key gets S3's
 * 404. `queued` and `invoked` are what SQS and Lambda were sent.
 */
let fetchSpy: MockInstance<typeof fetch>;
const objects = new Map<string, Buffer>();
const queued: Array<{ QueueUrl: string; MessageBody: string }> = [];
const invoked: Array<{ path: string; invocationType: string | undefined; payload: unknown }> = [];

function fakeAws(input: string | URL | Request, init?: RequestInit): Response {
  const url = new URL(String(input));
  const headers = (init?.headers ?? {}) as Record<string, string>;
  if (url.host === 'sqs.ap-southeast-1.amazonaws.com' && headers['x-amz-target'] === 'AmazonSQS.SendMessage') {
    const message = JSON.parse(String(init?.body)) as { QueueUrl: string; MessageBody: string };
    queued.push(message);
    return Response.json({ MessageId: `continuation-${queued.length}`, MD5OfMessageBody: createHash('md5').update(message.MessageBody).digest('hex') });
  }
  if (url.host === 'lambda.ap-southeast-1.amazonaws.com') {
    invoked.push({ path: url.pathname, invocationType: headers['x-amz-invocation-type'], payload: JSON.parse(String(init?.body)) });
    return new Response(null, { status: 202 });
  }
  return fakeS3(url, init);
}

function fakeS3(url: URL, init?: RequestInit): Response {
  if (url.host !== `${BUCKET}.s3.ap-southeast-1.amazonaws.com`) throw new TypeError(`fetch failed: unexpected ${url.host}`);
  const key = decodeURIComponent(url.pathname.slice(1));
  if (init?.method === 'DELETE') return new Response(null, { status: 204 });
  const object = objects.get(key);
  return object !== undefined ? new Response(object) : new Response('<Error><Code>NoSuchKey</Code></Error>', { status: 404 });
}

/** The S3 requests the worker sent: method, path and the SigV4 query parameters. */
function s3Requests(method: 'GET' | 'DELETE') {
  return fetchSpy.mock.calls
    .filter(([, init]) => init?.method === method)
    .map(([input]) => {
      const url = new URL(String(input));
      return { host: url.host, path: url.pathname, query: Object.fromEntries(url.searchParams) };
    });
}

/**
 * A presigned request as the worker signs it with the function's (here: local) credentials, for S3
 * although the DynamoDB client lending them has already signed DynamoDB requests.
 */
const signedBy = (operation: string) => ({
  'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
  'X-Amz-Credential': 'local/20260801/ap-southeast-1/s3/aws4_request',
  'X-Amz-Date': '20260801T020000Z',
  'X-Amz-Expires': '60',
  'X-Amz-SignedHeaders': 'host',
  'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD',
  'X-Amz-Signature': expect.stringMatching(/^[0-9a-f]{64}$/),
  'x-id': operation,
});
let restoreEnvironment: () => void = () => undefined;
let table: string;

describe('Import worker on AWS, against DynamoDB Local', () => {
  beforeAll(async () => {
    // Only Date is frozen, so SDK timers still run; Date.now() standing still also makes "time is up" true at once.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-08-01T02:00:00Z'));
    table = uniqueTableName('import-worker');
    await ensureTable(dynamoTestClient(), table);
    restoreEnvironment = useLambdaEnvironment(table, {
      CERTALARM_IMPORT_BUCKET: BUCKET,
      CERTALARM_IMPORT_QUEUE_URL: QUEUE_URL,
      CERTALARM_SCAN_FUNCTION_NAME: SCAN_FUNCTION,
    });
    resetLambdaDeps();
    resetImportWorkerDeps();
  });

  afterAll(() => {
    vi.useRealTimers();
    restoreEnvironment();
    resetLambdaDeps();
    resetImportWorkerDeps();
  });

  afterEach(() => {
    fetchSpy.mockRestore();
  });

  beforeEach(() => {
    objects.clear();
    fetchSpy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => fakeAws(input, init));
    queued.length = 0;
    invoked.length = 0;
  });

  it('imports a presigned upload in slices: paused, continued through the queue, done with every row stored', async () => {
    // Prepare: the API records the import and hands out the upload URL; "S3" then serves the file.
    const file = csv(ROWS);
    const submitted = await httpApi(
      httpEvent('POST', '/v1/imports', { fileName: '农药经营许可证.csv', contentType: 'text/csv', bytes: file.length, sha256: createHash('sha256').update(file).digest('hex') }),
    );
    const { id, upload } = JSON.parse(submitted.body ?? '') as { id: string; upload: { url: string } };
    objects.set(`imports/${id}`, file);

    // Act: the upload's notification, then every continuation the worker queues, until the import ends.
    const outcomes = [await importWorker(uploadedEvent(`imports/${id}`), nearlyOutOfTime)];
    while (outcomes.at(-1)?.[id] === 'continued') {
      const sent = queued.at(-1)!;
      outcomes.push(await importWorker(queuedEvent(sent.MessageBody), nearlyOutOfTime));
    }

    // Assess
    expect(submitted.statusCode).toBe(202);
    expect(new URL(upload.url).pathname).toBe(`/imports/${id}`);
    expect(outcomes).toEqual([{ [id]: 'continued' }, { [id]: 'continued' }, { [id]: 'done' }]);
    expect(queued).toEqual(Array(2).fill({ QueueUrl: QUEUE_URL, MessageBody: JSON.stringify({ kind: 'importContinue', importId: id }) }));
    // Check pass and first slice, then one read per continuation.
    const host = `${BUCKET}.s3.ap-southeast-1.amazonaws.com`;
    expect(s3Requests('GET')).toHaveLength(4);
    expect(s3Requests('GET')).toEqual(Array(4).fill({ host, path: `/imports/${id}`, query: signedBy('GetObject') }));
    expect(s3Requests('DELETE')).toEqual([{ host, path: `/imports/${id}`, query: signedBy('DeleteObject') }]);
    const status = JSON.parse((await httpApi(httpEvent('GET', `/v1/imports/${id}`))).body ?? '') as Record<string, unknown>;
    expect(status).toMatchObject({ state: 'done', counts: { rows: ROWS, accepted: ROWS, created: ROWS, rejected: 0 }, progress: { percent: 100 } });
    const store = new DynamoDbStore(dynamoTestClient(), table);
    const stored = await store.getCertificates([1, 1000, 1001, 2500].map((i) => ({ type: 'pesticide_business_license', number: `AWS-${String(i).padStart(5, '0')}` })));
    expect(stored.size).toBe(4);
  });

  it('records an import’s instants from the composition clock, and keeps its report as long as the import', async () => {
    // Prepare: a clock that stands still at an instant other than the frozen Date; one row has a bad phone.
    const clock = fixedClock('2026-08-03T15:30:00+08:00');
    const instant = clock.now().toISO();
    resetLambdaDeps({ clock });
    resetImportWorkerDeps();
    try {
      const file = Buffer.concat([csv(3), Buffer.from(`农药经营许可证,AWS-99999,兴国县测试农资店,${validUscc(9)},12345,潋江镇,2021/12/21,2026年12月20日\r\n`)]);
      const submitted = await httpApi(
        httpEvent('POST', '/v1/imports', { fileName: 'clock.csv', contentType: 'text/csv', bytes: file.length, sha256: createHash('sha256').update(file).digest('hex') }),
      );
      const { id } = JSON.parse(submitted.body ?? '') as { id: string };
      objects.set(`imports/${id}`, file);

      // Act: plenty of invocation time left, on a clock that never moves: one invocation finishes it.
      const outcomes = await importWorker(uploadedEvent(`imports/${id}`), { getRemainingTimeInMillis: () => 300_000 });

      // Assess
      expect(outcomes).toEqual({ [id]: 'done' });
      const doc = documentClient(dynamoTestClient());
      const { Items: items = [] } = await doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': importKey(id).pk } }));
      const recordItem = items.find((item) => item.sk === importKey(id).sk);
      const errorItems = items.filter((item) => item.sk !== importKey(id).sk);
      expect(recordItem?.record).toMatchObject({ state: 'done', createdAt: instant, updatedAt: instant, finishedAt: instant, counts: { rows: 4, accepted: 3, rejected: 1 } });
      const keptUntil = recordItem?.[TTL_ATTRIBUTE] as number;
      expect(keptUntil).toBe(clock.now().toSeconds() + 400 * 24 * 3600);
      expect(errorItems.map((item) => item.sk)).toEqual([importErrorKey(id, 5, 0).sk]);
      expect(errorItems[0]?.[TTL_ATTRIBUTE]).toBe(keptUntil);
    } finally {
      resetLambdaDeps();
      resetImportWorkerDeps();
    }
  });

  it('runs nothing for the test event S3 sends when the notification is set up', async () => {
    // Act
    const outcomes = await importWorker(fixture<SQSEvent>('sqs-s3-test-event.json'), nearlyOutOfTime);

    // Assess
    expect(outcomes).toEqual({});
    expect(s3Requests('GET')).toEqual([]);
    expect(queued).toEqual([]);
  });

  it('skips an upload whose import record does not exist', async () => {
    // Act
    const outcomes = await importWorker(uploadedEvent('imports/imp_ffffffffffffffffffff'), nearlyOutOfTime);

    // Assess
    expect(outcomes).toEqual({ imp_ffffffffffffffffffff: 'skipped' });
    expect(s3Requests('GET')).toEqual([]);
  });

  it('fails an import whose file is not a spreadsheet, rather than retrying it', async () => {
    // Prepare
    const file = Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x00, 0x00, 0x10]);
    const submitted = await httpApi(
      httpEvent('POST', '/v1/imports', { fileName: 'photo.csv', contentType: 'text/csv', bytes: file.length, sha256: createHash('sha256').update(file).digest('hex') }),
    );
    const { id } = JSON.parse(submitted.body ?? '') as { id: string };
    objects.set(`imports/${id}`, file);

    // Act
    const outcomes = await importWorker(uploadedEvent(`imports/${id}`), nearlyOutOfTime);

    // Assess
    expect(outcomes).toEqual({ [id]: 'failed' });
    const status = JSON.parse((await httpApi(httpEvent('GET', `/v1/imports/${id}`))).body ?? '') as Record<string, unknown>;
    expect(status).toMatchObject({ state: 'failed', failure: { code: expect.any(String) } });
  });

  it('refuses through the API a declared file above the import limit', async () => {
    // Act
    const response = await httpApi(httpEvent('POST', '/v1/imports', { fileName: 'huge.csv', contentType: 'text/csv', bytes: 600 * 1024 * 1024, sha256: 'a'.repeat(64) }));

    // Assess
    expect(response.statusCode).toBe(413);
    expect(JSON.parse(response.body ?? '')).toMatchObject({ error: { code: 'file_too_large' } });
  });

  it('queues POST /v1/scans in the scan function instead of sending from the API', async () => {
    // Act
    const response = await httpApi(httpEvent('POST', '/v1/scans', { now: '2026-08-21T09:00:00+08:00' }));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body ?? '')).toEqual({ queued: true, now: '2026-08-21T09:00:00.000+08:00' });
    expect(invoked).toEqual([
      { path: `/2015-03-31/functions/${SCAN_FUNCTION}/invocations`, invocationType: 'Event', payload: { kind: 'dueScan', now: '2026-08-21T09:00:00+08:00' } },
    ]);
  });

  it('answers a dry-run scan at once from the API, sending nothing and queueing nothing', async () => {
    // Prepare: a certificate whose first reminder is due on 2026-08-21 (its renewal deadline is 2026-09-21).
    const number = 'AWS-DRY-0001';
    await httpApi(
      httpEvent('POST', '/v1/certificates', {
        type: 'pesticide_business_license', number, holder: { name: '兴国县某农资有限公司', id: validUscc(77) },
        phone: '13900000001', township: '潋江镇', issuedOn: '2021-12-21', expiresOn: '2026-12-20',
      }),
    );

    // Act
    const response = await httpApi(httpEvent('POST', '/v1/scans', { now: '2026-08-21T09:30:00+08:00', dryRun: true }));

    // Assess
    expect(response.statusCode).toBe(200);
    const answer = JSON.parse(response.body ?? '') as { dryRun: boolean; messages: Array<{ number: string; stage: string; to: string }> };
    expect(answer.dryRun).toBe(true);
    expect(answer.messages.filter((m) => m.number === number)).toEqual([expect.objectContaining({ stage: 'first', to: '+86139****0001' })]);
    expect(invoked).toEqual([]);
  });
});
