import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../functions/core/access.js';
import { LambdaScanTrigger, ScanTriggerError } from '../../functions/adapters/aws/lambda-scan-trigger.js';
import { createHttpApp, type HttpAppDeps } from '../../functions/app/http/app.js';
import type { ScanTrigger } from '../../functions/core/ports.js';
import { silentLogger } from '../../functions/app/logger.js';
import type { DueScanPayload } from '../../functions/core/schedule-payloads.js';
import { fixedClock, testSettings } from '../support/fixtures.js';

const lambda = mockClient(LambdaClient);
const SCAN_FUNCTION = 'Certalarm-prod-FunctionsDueScan777183FE-AbCdEf123456';

function payloadOf(input: unknown): unknown {
  return JSON.parse(new TextDecoder().decode((input as { Payload: Uint8Array }).Payload));
}

describe('Class: LambdaScanTrigger', () => {
  beforeEach(() => {
    lambda.reset();
  });

  describe('Method: trigger', () => {
    it('invokes the scan function asynchronously with the Scheduler payload, now included', async () => {
      // Prepare
      lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
      const trigger = new LambdaScanTrigger({ client: new LambdaClient({ region: 'ap-southeast-1' }), functionName: SCAN_FUNCTION });

      // Act
      await trigger.trigger({ kind: 'dueScan', now: '2026-08-21T09:00:00+08:00' });

      // Assess
      expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
      expect(lambda).toHaveReceivedCommandWith(InvokeCommand, { FunctionName: SCAN_FUNCTION, InvocationType: 'Event' });
      const input = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
      expect(Object.keys(input).sort()).toEqual(['FunctionName', 'InvocationType', 'Payload']);
      expect(payloadOf(input)).toEqual({ kind: 'dueScan', now: '2026-08-21T09:00:00+08:00' });
    });

    it('refuses to send a payload the scan function would reject', async () => {
      // Prepare
      const trigger = new LambdaScanTrigger({ client: new LambdaClient({ region: 'ap-southeast-1' }), functionName: SCAN_FUNCTION });

      // Act
      const attempt = trigger.trigger({ kind: 'dueScan', now: 'tomorrow morning' });

      // Assess
      await expect(attempt).rejects.toThrow(/ISO-8601/);
      expect(lambda).not.toHaveReceivedCommand(InvokeCommand);
    });

    it('throws a retryable error when Lambda did not accept the event', async () => {
      // Prepare
      lambda.on(InvokeCommand).resolves({ StatusCode: 200 });
      const trigger = new LambdaScanTrigger({ client: new LambdaClient({ region: 'ap-southeast-1' }), functionName: SCAN_FUNCTION });

      // Act
      const attempt = trigger.trigger({ kind: 'dueScan' });

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(ScanTriggerError);
      await expect(attempt).rejects.toMatchObject({ retryable: true });
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
