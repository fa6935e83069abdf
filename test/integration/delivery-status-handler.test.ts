import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbDeliveries } from '../../functions/adapters/aws/dynamodb/dynamodb-deliveries.js';
import type { DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { handler } from '../../functions/handlers/delivery-status.js';
import { resetDeliveryStatusDeps } from '../../functions/handlers/delivery-status-runtime.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { dynamoTestClient } from '../support/dynamo.js';
import { at, fixedClock, freshStore, record, RecordingSender, scanDeps } from '../support/fixtures.js';
import { useLambdaEnvironment } from '../support/lambda-environment.js';
import { logsSubscriptionEvent, snsDeliveryRecord } from '../support/logs-events.js';

const SENT = at('2026-09-14T09:00:00+08:00');
const ID = { key: { type: 'pesticide_business_license', number: 'TEST-000007' }, expiresOn: '2026-12-20', stage: 'final' };

let store: DynamoDbStore;
let restore: () => void;

beforeAll(async () => {
  store = await freshStore('delivery-status-handler');
  await uploadCertificates({ store, reference: loadReferenceData(), settings: scanDeps(store, new RecordingSender()).settings }, [record(7)], at('2026-08-01T10:00:00+08:00'));
  await store.claim(ID, 'scan', SENT.toMillis() + 60_000, SENT.toMillis());
  await store.recordSent(ID, 'scan', { messageId: '1077257a-92f3-5ca3-bc97-6a915b310625', sentAt: SENT.toISO() ?? '', to: '+8613900000007', body: '…', segments: 1, final: true });
  restore = useLambdaEnvironment(store.tableName);
  resetDeliveryStatusDeps({ clock: fixedClock('2026-09-14T09:10:00+08:00') });
});

afterAll(() => {
  restore();
  resetDeliveryStatusDeps();
});

describe('Handler: delivery-status (CloudWatch Logs subscription)', () => {
  it('writes an SNS FAILURE record onto the delivery it is for, with the provider response, and logs no phone', async () => {
    // Prepare
    const event = logsSubscriptionEvent(
      [snsDeliveryRecord('1077257a-92f3-5ca3-bc97-6a915b310625', 'FAILURE', 'Unknown error attempting to reach phone', '+8613900000007')],
      { logGroup: 'sns/ap-southeast-1/123456789012/DirectPublishToPhoneNumber/Failure', timestamp: Date.parse('2026-09-14T01:00:04.558Z') },
    );
    const written: string[] = [];
    const spies = (['info', 'warn', 'error', 'debug'] as const).map((level) => vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void written.push(JSON.stringify(args))));
    process.env.LOG_LEVEL = 'debug';
    resetDeliveryStatusDeps({ clock: fixedClock('2026-09-14T09:10:00+08:00') });

    // Act
    const result = await handler(event);
    const again = await handler(event);

    // Assess
    for (const spy of spies) spy.mockRestore();
    expect(result).toMatchObject({ recorded: 1, unreadable: 0 });
    expect(again).toMatchObject({ recorded: 0, unchanged: 1 });
    expect(await store.get(ID)).toMatchObject({ status: 'failed', reason: 'Unknown error attempting to reach phone' });
    const listed = await new DynamoDbDeliveries(dynamoTestClient(), store.tableName).listDeliveries({ statuses: ['failed'], limit: 10 });
    expect(listed.items.map((d) => [d.number, d.kind, d.final])).toEqual([['TEST-000007', 'final', true]]);
    expect(written.length).toBeGreaterThan(0);
    expect(written.join('\n')).not.toMatch(/1[3-9]\d{9}/);
  });

  it('asks Lambda to retry a young receipt whose message id is not recorded yet, and drops an old one', async () => {
    // Prepare
    const young = logsSubscriptionEvent([snsDeliveryRecord('not-yet-recorded', 'SUCCESS', 'ok')], { timestamp: Date.parse('2026-09-14T01:08:00.000Z') });
    const old = logsSubscriptionEvent([snsDeliveryRecord('not-ours', 'SUCCESS', 'ok')], { timestamp: Date.parse('2026-09-13T01:00:00.000Z') });
    process.env.LOG_LEVEL = 'silent';
    resetDeliveryStatusDeps({ clock: fixedClock('2026-09-14T09:10:00+08:00') });

    // Act
    const retried = await handler(young).then(
      () => undefined,
      (error: unknown) => error,
    );
    const dropped = await handler(old);

    // Assess
    expect(retried).toBeInstanceOf(Error);
    expect(String(retried)).toMatch(/retried/);
    expect(dropped).toMatchObject({ unknown: 1 });
  });
});
