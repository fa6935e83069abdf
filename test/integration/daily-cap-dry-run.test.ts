import { describe, expect, it } from 'vitest';
import { DynamoDbDailySendCap } from '../../functions/adapters/aws/dynamodb/dynamodb-daily-send-cap.js';
import type { DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { previewDueReminders, sendDueReminders } from '../../functions/app/send-due-reminders.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import { dynamoTestClient } from '../support/dynamo.js';
import { at, freshStore, record, RecordingSender, scanDeps, testSettings } from '../support/fixtures.js';

const reference = loadReferenceData();
// Pesticide business licences expiring 2026-12-20 (see daily-cap.test.ts): the first reminder is due 2026-08-21 09:00.
const UPLOADED = at('2026-08-01T10:00:00+08:00');
const DAY_1 = at('2026-08-21T09:00:00+08:00');
const BUSY = '13900000797';
const QUIET = '13900000798';
const PESTICIDE = 'pesticide_business_license';

async function storeWith(prefix: string, records: Record<string, unknown>[]) {
  const store = await freshStore(prefix);
  const upload = await uploadCertificates({ store, reference, settings: testSettings() }, records, UPLOADED);
  expect(upload.rejected).toEqual([]);
  return store;
}

async function deferredNumbers(store: DynamoDbStore, numbers: readonly string[]): Promise<string[]> {
  const records = await Promise.all(numbers.map(async (number) => ({ number, record: await store.get({ key: { type: PESTICIDE, number }, expiresOn: '2026-12-20', stage: 'first' }) })));
  return records.filter((r) => r.record?.status === 'deferred').map((r) => r.number);
}

describe('Use case: previewDueReminders — the daily cap foreseen', () => {
  it('marks deferred the merged SMS of a holder whose day’s slots are already used, and the scan then defers exactly those', async () => {
    // Prepare: the busy holder got one capped SMS earlier today (a campaign notice, say); the cap is 1.
    const store = await storeWith('cap-dry-merged', [record(1, { phone: BUSY }), record(2, { phone: BUSY }), record(3, { phone: QUIET })]);
    const cap = new DynamoDbDailySendCap(dynamoTestClient(), store.tableName);
    expect(await cap.take('+86' + BUSY, '2026-08-21', 1)).toBe(true);
    const sms = new RecordingSender();
    const deps = scanDeps(store, sms, { phones: store, cap, settings: testSettings({ smsDailyCapPerPhone: 1 }) });

    // Act
    const preview = await previewDueReminders(deps, DAY_1);
    const scan = await sendDueReminders(deps, DAY_1);

    // Assess
    const foreseen = preview.messages.filter((m) => m.deferred === true).map((m) => m.number).sort();
    expect(foreseen).toEqual(['TEST-000001', 'TEST-000002']);
    expect(preview.messages.find((m) => m.number === 'TEST-000003')?.deferred).toBeUndefined();
    expect(scan).toMatchObject({ sent: 1, deferred: 2 });
    expect(await deferredNumbers(store, ['TEST-000001', 'TEST-000002', 'TEST-000003'])).toEqual(foreseen);
  });

  it('counts each separate message against the cap in the scan’s order, so the preview defers the very reminder the scan defers', async () => {
    // Prepare: no merging (no phone source), four reminders of one holder and a cap of 3.
    const store = await storeWith('cap-dry-separate', [1, 2, 3, 4].map((n) => record(n, { phone: BUSY })));
    const cap = new DynamoDbDailySendCap(dynamoTestClient(), store.tableName);
    const deps = scanDeps(store, new RecordingSender(), { cap, settings: testSettings({ smsDailyCapPerPhone: 3 }) });

    // Act
    const preview = await previewDueReminders(deps, DAY_1);
    const previewAgain = await previewDueReminders(deps, DAY_1);
    const scan = await sendDueReminders(deps, DAY_1, { concurrency: 1 });

    // Assess
    const foreseen = preview.messages.filter((m) => m.deferred === true).map((m) => m.number);
    expect(foreseen).toHaveLength(1);
    expect(previewAgain.messages.filter((m) => m.deferred === true).map((m) => m.number)).toEqual(foreseen);
    expect(scan).toMatchObject({ sent: 3, deferred: 1 });
    expect(await deferredNumbers(store, ['TEST-000001', 'TEST-000002', 'TEST-000003', 'TEST-000004'])).toEqual(foreseen);
  });

  it('takes no slot: a dry run leaves the day’s count as it was', async () => {
    // Prepare
    const store = await storeWith('cap-dry-no-slot', [record(1, { phone: BUSY })]);
    const cap = new DynamoDbDailySendCap(dynamoTestClient(), store.tableName);
    const deps = scanDeps(store, new RecordingSender(), { cap, settings: testSettings({ smsDailyCapPerPhone: 1 }) });

    // Act
    await previewDueReminders(deps, DAY_1);
    const used = await cap.used('+86' + BUSY, '2026-08-21');

    // Assess
    expect(used).toBe(0);
  });
});
