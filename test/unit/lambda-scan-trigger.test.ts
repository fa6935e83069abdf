import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../functions/core/access.js';
import { LambdaScanTrigger, ScanTriggerError } from '../../functions/adapters/aws/lambda-scan-trigger.js';
import { createHttpApp, type HttpAppDeps } from '../../functions/app/http/app.js';
import type { ScanTrigger } from '../../functions/core/ports.js';
import { silentLogger } from '../../functions/app/logger.js';
import type { DueScanPayload } from '../../functions/core/schedule-payloads.js';
import { fixedClock, testSettings } from '../support/fixtures.js';

// The runtime signs with its DynamoDB client's resolved config, which has to sign for lambda, not dynamodb.
const SIGNING = new DynamoDBClient({ region: 'ap-southeast-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }).config;
const SCAN_FUNCTION = 'Certalarm-prod-FunctionsDueScan777183FE-AbCdEf123456';
const noWait = async () => undefined;

interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

/** A fetch that records each request and gives the answers in turn, as Lambda's Invoke API would. */
function fakeLambda(...answers: Answer[]) {
  const calls: Array<{ url: string; method: string; headers: Record<string, string>; body: string }> = [];
  const fetch = (async (url: URL, init: RequestInit) => {
    calls.push({ url: String(url), method: String(init.method), headers: init.headers as Record<string, string>, body: String(init.body) });
    const answer = answers[Math.min(calls.length, answers.length) - 1]!;
    return new Response(answer.body ?? '', { status: answer.status, ...(answer.headers !== undefined ? { headers: answer.headers } : {}) });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}

function triggerWith(lambda: ReturnType<typeof fakeLambda>): LambdaScanTrigger {
  return new LambdaScanTrigger({ signing: SIGNING, functionName: SCAN_FUNCTION, fetch: lambda.fetch, sleep: noWait });
}

describe('Class: LambdaScanTrigger', () => {
  describe('Method: trigger', () => {
    it('invokes the scan function asynchronously with the Scheduler payload, now included, in one signed request', async () => {
      // Prepare
      const lambda = fakeLambda({ status: 202 });

      // Act
      await triggerWith(lambda).trigger({ kind: 'dueScan', now: '2026-08-21T09:00:00+08:00' });

      // Assess
      expect(lambda.calls).toHaveLength(1);
      const [call] = lambda.calls;
      expect(call?.method).toBe('POST');
      expect(call?.url).toBe(`https://lambda.ap-southeast-1.amazonaws.com/2015-03-31/functions/${SCAN_FUNCTION}/invocations`);
      expect(call?.headers['x-amz-invocation-type']).toBe('Event');
      expect(call?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/ap-southeast-1\/lambda\/aws4_request/);
      expect(JSON.parse(call?.body ?? '')).toEqual({ kind: 'dueScan', now: '2026-08-21T09:00:00+08:00' });
    });

    it('sends to the endpoint it is given instead of the regional one', async () => {
      // Prepare
      const lambda = fakeLambda({ status: 202 });
      const trigger = new LambdaScanTrigger({ signing: SIGNING, functionName: SCAN_FUNCTION, endpoint: 'http://127.0.0.1:4010', fetch: lambda.fetch });

      // Act
      await trigger.trigger({ kind: 'dueScan' });

      // Assess
      expect(lambda.calls.map((call) => call.url)).toEqual([`http://127.0.0.1:4010/2015-03-31/functions/${SCAN_FUNCTION}/invocations`]);
    });

    it('refuses to send a payload the scan function would reject', async () => {
      // Prepare
      const lambda = fakeLambda({ status: 202 });

      // Act
      const attempt = triggerWith(lambda).trigger({ kind: 'dueScan', now: 'tomorrow morning' });

      // Assess
      await expect(attempt).rejects.toThrow(/ISO-8601/);
      expect(lambda.calls).toEqual([]);
    });

    it('throws a retryable error when Lambda did not accept the event', async () => {
      // Prepare
      const lambda = fakeLambda({ status: 200 });

      // Act
      const attempt = triggerWith(lambda).trigger({ kind: 'dueScan' });

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(ScanTriggerError);
      await expect(attempt).rejects.toMatchObject({ retryable: true });
    });

    it('tries a throttled invocation again, as the SDK would, and succeeds when Lambda accepts it', async () => {
      // Prepare
      const lambda = fakeLambda(
        { status: 429, body: JSON.stringify({ Type: 'User', message: 'Rate exceeded' }), headers: { 'x-amzn-errortype': 'TooManyRequestsException' } },
        { status: 202 },
      );

      // Act
      await triggerWith(lambda).trigger({ kind: 'dueScan' });

      // Assess
      expect(lambda.calls).toHaveLength(2);
    });

    it('gives up after three attempts, naming Lambda’s error', async () => {
      // Prepare
      const lambda = fakeLambda({ status: 503, body: JSON.stringify({ message: 'Service unavailable' }), headers: { 'x-amzn-errortype': 'ServiceException:http://internal.amazon.com/coral/com.amazonaws.lambda/' } });

      // Act
      const attempt = triggerWith(lambda).trigger({ kind: 'dueScan' });

      // Assess
      await expect(attempt).rejects.toThrow('Lambda did not queue the due scan: lambda answered HTTP 503 ServiceException: Service unavailable');
      await expect(attempt).rejects.toBeInstanceOf(ScanTriggerError);
      expect(lambda.calls).toHaveLength(3);
    });

    it('does not try again when the function does not exist', async () => {
      // Prepare
      const lambda = fakeLambda({ status: 404, body: JSON.stringify({ Type: 'User', message: 'Function not found' }), headers: { 'x-amzn-errortype': 'ResourceNotFoundException' } });

      // Act
      const attempt = triggerWith(lambda).trigger({ kind: 'dueScan' });

      // Assess
      await expect(attempt).rejects.toThrow('ResourceNotFoundException: Function not found');
      expect(lambda.calls).toHaveLength(1);
    });
  });
});

describe('Route: POST /v1/scans', () => {
  const OPERATOR: Principal = { role: 'operator', subject: 'jwt:operator-1' };

  function appWith(triggerScan: ScanTrigger | undefined, principal: Principal = OPERATOR) {
    // The route reads only these dependencies; the store, ledger and SMS sender stay out of it.
    const deps: Partial<HttpAppDeps> = {
      settings: testSettings(),
      logger: silentLogger,
      clock: fixedClock('2026-08-01T10:00:00+08:00'),
      authenticate: async () => principal,
      ...(triggerScan !== undefined ? { triggerScan } : {}),
    };
    return createHttpApp(deps as HttpAppDeps);
  }

  function recorder(): ScanTrigger & { payloads: DueScanPayload[] } {
    const payloads: DueScanPayload[] = [];
    return { payloads, trigger: async (payload) => void payloads.push(payload) };
  }

  it('queues the scan with the caller\'s now and answers 202', async () => {
    // Prepare
    const trigger = recorder();

    // Act
    const response = await appWith(trigger)({
      method: 'POST',
      path: '/v1/scans',
      query: {},
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ now: '2026-08-21T09:00:00+08:00' }),
    });

    // Assess
    expect(response.status).toBe(202);
    expect(JSON.parse(response.body)).toEqual({ queued: true, now: '2026-08-21T09:00:00.000+08:00' });
    expect(trigger.payloads).toEqual([{ kind: 'dueScan', now: '2026-08-21T09:00:00+08:00' }]);
  });

  it('lets the scan take its own time when the caller gave none, and reports when it was queued', async () => {
    // Prepare
    const trigger = recorder();

    // Act
    const response = await appWith(trigger)({ method: 'POST', path: '/v1/scans', query: {}, headers: {} });

    // Assess
    expect(response.status).toBe(202);
    expect(JSON.parse(response.body)).toEqual({ queued: true, now: '2026-08-01T10:00:00.000+08:00' });
    expect(trigger.payloads).toEqual([{ kind: 'dueScan' }]);
  });

  it('queues nothing for a caller who may not run scans', async () => {
    // Prepare
    const trigger = recorder();

    // Act
    const response = await appWith(trigger, { role: 'bureau', authority: 'agriculture_rural', subject: 'jwt:agri' })({ method: 'POST', path: '/v1/scans', query: {}, headers: {} });

    // Assess
    expect(response.status).toBe(403);
    expect(trigger.payloads).toEqual([]);
  });

  it('answers 500 and queues nothing more when Lambda refuses the event', async () => {
    // Prepare
    const failing: ScanTrigger = { trigger: async () => Promise.reject(new ScanTriggerError('Lambda answered 429')) };

    // Act
    const response = await appWith(failing)({ method: 'POST', path: '/v1/scans', query: {}, headers: {} });

    // Assess
    expect(response.status).toBe(500);
  });
});
