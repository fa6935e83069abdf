import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DateTime } from 'luxon';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../../functions/core/ports.js';
import { documentClient } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { TTL_ATTRIBUTE } from '../../functions/adapters/aws/dynamodb/keys.js';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { handler as dueScan } from '../../functions/handlers/due-scan.js';
import { handler as httpApi } from '../../functions/handlers/http-api.js';
import { resetLambdaDeps } from '../../functions/handlers/runtime.js';
import { dynamoTestClient, uniqueTableName } from '../support/dynamo.js';
import { at, record } from '../support/fixtures.js';
import { useLambdaEnvironment } from '../support/lambda-environment.js';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/events/${name}`, import.meta.url), 'utf8')) as T;

type Event = APIGatewayProxyEventV2WithJWTAuthorizer;

/** The fixture's caller is a bureau of the agriculture authority (which issues pesticide licences). */
function httpEvent(method: string, path: string, body?: unknown, claims?: Record<string, string>, rawQueryString = ''): Event {
  const base = fixture<Event>('http-api-post-certificates.json');
  const authorizer = { ...base.requestContext.authorizer, jwt: { ...base.requestContext.authorizer.jwt, claims: claims ?? base.requestContext.authorizer.jwt.claims } };
  return {
    ...base,
    rawPath: path,
    rawQueryString,
    requestContext: { ...base.requestContext, authorizer, http: { ...base.requestContext.http, method, path } },
    ...(body === undefined ? { body: undefined } : { body: Buffer.from(JSON.stringify(body)).toString('base64'), isBase64Encoded: true }),
  } as Event;
}

const lambdaContext = { getRemainingTimeInMillis: () => 300_000 };
/** Finished deliveries are kept two years after their send (or failure), then DynamoDB's TTL removes them. */
const DELIVERY_RETENTION_SECONDS = 2 * 365 * 24 * 3600;
let table: string;

/** A clock that stands still until the test moves it. */
function settableClock(start: DateTime): Clock & { set(to: DateTime): void } {
  let current = start;
  return { now: () => current, set: (to) => (current = to) };
}

/** The delivery records of one certificate, as stored. */
async function deliveriesOf(number: string): Promise<Array<Record<string, unknown>>> {
  const { Items } = await documentClient(dynamoTestClient()).send(
    new ScanCommand({ TableName: table, FilterExpression: 'entity = :delivery AND contains(pk, :number)', ExpressionAttributeValues: { ':delivery': 'delivery', ':number': number } }),
  );
  return Items ?? [];
}
const sns = mockClient(SNSClient);
let restoreEnvironment: () => void = () => undefined;

/** A stand-in for KMS's GenerateMac: a fixed MAC, and every request's headers and body kept. */
const kmsRequests: Array<{ target: string | undefined; authorization: string | undefined; body: string }> = [];
let kms: Server;

describe('Lambda handlers against DynamoDB Local', () => {
  beforeAll(async () => {
    // Uploads take "now" from the Lambda's clock: freeze only Date, so SDK timers still run.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-08-01T02:00:00Z'));
    table = uniqueTableName('handlers');
    await ensureTable(dynamoTestClient(), table);
    kms = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        kmsRequests.push({ target: req.headers['x-amz-target'] as string | undefined, authorization: req.headers.authorization, body });
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ Mac: Buffer.alloc(32, 9).toString('base64'), MacAlgorithm: 'HMAC_SHA_256' }));
      });
    });
    await new Promise<void>((resolve) => kms.listen(0, '127.0.0.1', resolve));
    const kmsAddress = kms.address();
    restoreEnvironment = useLambdaEnvironment(table, {
      AWS_ENDPOINT_URL_KMS: `http://127.0.0.1:${typeof kmsAddress === 'object' && kmsAddress !== null ? kmsAddress.port : 0}`,
      CERTALARM_SMS_SENDER_ID: 'XGXSP',
      CERTALARM_SMS_MAX_PRICE: '0.05',
      CERTALARM_SMS_RATE: '1000',
    });
    resetLambdaDeps();
  });

  afterAll(async () => {
    await new Promise((resolve) => kms.close(resolve));
    vi.useRealTimers();
    restoreEnvironment();
    resetLambdaDeps();
  });

  beforeEach(() => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'sns-message-1' });
  });

  describe('Handler: http-api', () => {
    it('stores a certificate posted through API Gateway and serves its plan', async () => {
      // Prepare
      const post = httpEvent('POST', '/v1/certificates', [record(1), record(2, { phone: '010-12345678' })]);

      // Act
      const created = await httpApi(post);
      const plan = await httpApi(httpEvent('GET', '/v1/certificates/pesticide_business_license/TEST-000001/plan'));

      // Assess
      expect(created.statusCode).toBe(200);
      expect(JSON.parse(created.body ?? '')).toMatchObject({ accepted: 1, rejected: [{ index: 1, field: 'phone' }] });
      expect(plan.statusCode).toBe(200);
      expect(JSON.parse(plan.body ?? '')).toMatchObject({ renewalDeadline: '2026-09-21', windowOpens: null });
    });

    it('pages a listing with cursors signed by the key derived from the stack’s KMS key, asking KMS once', async () => {
      // Prepare
      await httpApi(httpEvent('POST', '/v1/certificates', [record(11), record(12), record(13)]));

      // Act
      const first = await httpApi(httpEvent('GET', '/v1/certificates', undefined, undefined, 'limit=2'));
      const cursor = (JSON.parse(first.body ?? '') as { nextCursor?: string }).nextCursor ?? '';
      const second = await httpApi(httpEvent('GET', '/v1/certificates', undefined, undefined, `limit=2&cursor=${encodeURIComponent(cursor)}`));
      const forged = await httpApi(httpEvent('GET', '/v1/certificates', undefined, undefined, `limit=2&cursor=${Buffer.from('{"pk":"TOKENS","sk":"TOKEN#admin"}').toString('base64url')}`));

      // Assess
      expect(first.statusCode).toBe(200);
      expect(second.statusCode).toBe(200);
      expect((JSON.parse(second.body ?? '') as { items: unknown[] }).items.length).toBeGreaterThan(0);
      expect(forged.statusCode).toBe(400);
      expect(kmsRequests).toHaveLength(1);
      expect(kmsRequests[0]).toMatchObject({ target: 'TrentService.GenerateMac', authorization: expect.stringContaining('/kms/aws4_request') });
      expect(JSON.parse(kmsRequests[0]?.body ?? '{}')).toMatchObject({ KeyId: expect.stringContaining(':key/'), MacAlgorithm: 'HMAC_SHA_256' });
    });

    it('refuses a bureau reading a certificate type another authority issues, with 403', async () => {
      // Act
      const response = await httpApi(httpEvent('GET', '/v1/certificates/tobacco_retail_license/ANY-1'));

      // Assess
      expect(response.statusCode).toBe(403);
      expect(JSON.parse(response.body ?? '')).toMatchObject({ error: { code: 'forbidden' } });
    });

    it('lists the catalogue with the short SMS name, the verb, the place and whether reminders are sent', async () => {
      // Act
      const response = await httpApi(httpEvent('GET', '/v1/catalogue'));

      // Assess
      expect(response.statusCode).toBe(200);
      const types = JSON.parse(response.body ?? '') as Array<Record<string, unknown>>;
      expect(types.find((t) => t.code === 'farm_machine_annual_inspection')).toMatchObject({
        smsName: '农机年度安全技术检验',
        renewalAction: '年检',
        renewalPlace: { at: 'office', name: '兴国县农机安全监理站' },
        reminders: true,
        renewalNote: expect.stringContaining('年检'),
        basis: { renewalAction: { confidence: 'high' } },
      });
      expect(types.find((t) => t.code === 'farm_machine_registration')).toMatchObject({ reminders: false, renewalAction: null });
    });

    it('answers 401 when the authorizer passed no usable role claim', async () => {
      // Act
      const response = await httpApi(httpEvent('GET', '/v1/catalogue', undefined, { sub: 'someone' }));

      // Assess
      expect(response.statusCode).toBe(401);
    });

    it('answers an unknown certificate with a JSON 404', async () => {
      // Act
      const response = await httpApi(httpEvent('GET', '/v1/certificates/pesticide_business_license/NOPE'));

      // Assess
      expect(response.statusCode).toBe(404);
      expect(JSON.parse(response.body ?? '')).toMatchObject({ error: { code: 'not_found' } });
    });
  });

  describe('Handler: due-scan', () => {
    it('parses the Scheduler payload, sends due reminders through SNS and reports the run', async () => {
      // Prepare
      await httpApi(httpEvent('POST', '/v1/certificates', [record(3)]));
      const payload = { ...fixture<object>('scheduler-due-scan.json'), now: '2026-08-21T09:00:00+08:00' };

      // Act
      const result = await dueScan(payload, lambdaContext);

      // Assess
      expect(result.sent).toBeGreaterThanOrEqual(1);
      expect(sns).toHaveReceivedCommandWith(PublishCommand, {
        PhoneNumber: '+8613900000003',
        Message: expect.stringContaining('【兴国县行政审批局】') as unknown as string,
        MessageAttributes: {
          'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
          'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: 'XGXSP' },
          'AWS.SNS.SMS.MaxPrice': { DataType: 'Number', StringValue: '0.05' },
        },
      });
    });

    it('counts reminders left unsent by the last run of the send window', async () => {
      // Prepare: SNS throttles everything, so the due reminders stay due.
      sns.on(PublishCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
      await httpApi(httpEvent('POST', '/v1/certificates', [record(4, { expiresOn: '2026-12-27' })]));

      // Act
      const result = await dueScan({ kind: 'dueScan', now: '2026-08-28T19:45:00+08:00' }, lambdaContext);

      // Assess
      expect(result.retryLater).toBeGreaterThanOrEqual(1);
      expect(result.unsentAtWindowClose).toBeGreaterThanOrEqual(1);
    });

    it('scans as of the composition clock when the payload names no instant, and records its instants', async () => {
      // Prepare: a certificate uploaded on 1 August, scanned on 21 August at 09:00 by a clock that stands still
      // (the Date the other tests freeze is elsewhere, so only the injected clock can give these instants).
      const clock = settableClock(at('2026-08-01T10:00:00+08:00'));
      resetLambdaDeps({ clock });
      try {
        await httpApi(httpEvent('POST', '/v1/certificates', [record(5)]));
        const scanAt = at('2026-08-21T09:00:00+08:00');
        clock.set(scanAt);

        // Act
        const result = await dueScan(fixture<object>('scheduler-due-scan.json'), lambdaContext);

        // Assess
        expect(result).toMatchObject({ now: scanAt.toISO(), insideSendWindow: true, sent: 1 });
        const deliveries = await deliveriesOf(String(record(5).number));
        expect(deliveries).toHaveLength(1);
        expect(deliveries[0]).toMatchObject({ status: 'sent', sentAt: scanAt.toISO(), [TTL_ATTRIBUTE]: scanAt.toSeconds() + DELIVERY_RETENTION_SECONDS });
      } finally {
        resetLambdaDeps();
      }
    });

    it('keeps a permanent failure for the retention counted from the scan’s instant, not the host’s', async () => {
      // Prepare: SNS refuses the number for good (opted out).
      sns.on(PublishCommand).rejects(Object.assign(new Error('Phone number is opted out'), { name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } }));
      const clock = settableClock(at('2026-08-01T10:00:00+08:00'));
      resetLambdaDeps({ clock });
      try {
        await httpApi(httpEvent('POST', '/v1/certificates', [record(6)]));
        const scanAt = at('2026-08-21T09:00:00+08:00');
        clock.set(scanAt);

        // Act
        const result = await dueScan(fixture<object>('scheduler-due-scan.json'), lambdaContext);

        // Assess
        expect(result).toMatchObject({ now: scanAt.toISO(), failed: 1 });
        const deliveries = await deliveriesOf(String(record(6).number));
        expect(deliveries).toHaveLength(1);
        expect(deliveries[0]).toMatchObject({ status: 'failed', [TTL_ATTRIBUTE]: scanAt.toSeconds() + DELIVERY_RETENTION_SECONDS });
      } finally {
        resetLambdaDeps();
      }
    });

    it('rejects a payload that is not a due-scan request', async () => {
      // Act
      const attempt = dueScan({ kind: 'somethingElse' }, lambdaContext);

      // Assess
      await expect(attempt).rejects.toThrow(/kind/);
    });
  });
});
