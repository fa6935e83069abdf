import { describe, expect, it } from 'vitest';
import { DynamoDbDailySendCap } from '../../functions/adapters/aws/dynamodb/dynamodb-daily-send-cap.js';
import { DynamoDbDeliveries } from '../../functions/adapters/aws/dynamodb/dynamodb-deliveries.js';
import { recordDeliveryReceipt } from '../../functions/app/deliveries/record-receipt.js';
import { silentLogger } from '../../functions/app/logger.js';
import { OutboxSmsSender } from '../../functions/adapters/local/outbox-sms-sender.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { previewDueReminders, sendDueReminders, type ScanDeps } from '../../functions/app/send-due-reminders.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import type { CertificateStore, DeliveryLedger } from '../../functions/core/ports.js';
import type { DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { dynamoTestClient } from '../support/dynamo.js';
import { at, fixedClock, freshStore, record, RecordingSender, scanDeps, testSettings } from '../support/fixtures.js';

// Pesticide business licences expiring 2026-12-20: the first reminder is due 2026-08-21 09:00 (see due-scan.test.ts).
const UPLOADED = at('2026-08-01T10:00:00+08:00');
const DAY_1 = at('2026-08-21T09:00:00+08:00');
const DAY_2 = at('2026-08-22T09:00:00+08:00');
const PHONE = '13900000777';
const E164 = '+8613900000777';
const PESTICIDE = 'pesticide_business_license';
const reference = loadReferenceData();

function holderRecords(count: number, phone = PHONE) {
  return Array.from({ length: count }, (_, i) => record(i + 1, { phone }));
}

async function storeWith(prefix: string, records: Record<string, unknown>[]) {
  const store = await freshStore(prefix);
  const upload = await uploadCertificates({ store, reference, settings: testSettings() }, records, UPLOADED);
  expect(upload.rejected).toEqual([]);
  return store;
}

/** The scan as the service wires it: merging (the phone source) and the daily cap. */
function mergingDeps(store: DynamoDbStore, sms: ScanDeps['sms'], overrides: Partial<ScanDeps> = {}): ScanDeps {
  return scanDeps(store, sms, { phones: store, cap: new DynamoDbDailySendCap(dynamoTestClient(), store.tableName), ...overrides });
}

const firstOf = (n: number) => ({ key: { type: PESTICIDE, number: `TEST-00000${n}` }, expiresOn: '2026-12-20', stage: 'first' as const });

async function stagesOf(store: DynamoDbStore, count: number) {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => (await store.getCertificate(firstOf(i + 1).key))?.plan.stages.find((s) => s.stage === 'first')),
  );
}

/** A ledger that fails `recordMergedSent` once, as if the process died right after the provider took the merged SMS. */
function ledgerDyingAfterMergedSend(store: DynamoDbStore): DeliveryLedger {
  let die = true;
  return {
    claim: (...args) => store.claim(...args),
    recordSent: (...args) => store.recordSent(...args),
    recordFailed: (...args) => store.recordFailed(...args),
    release: (...args) => store.release(...args),
    get: (...args) => store.get(...args),
    recordDeferred: (...args) => store.recordDeferred(...args),
    recordSuppressed: (...args) => store.recordSuppressed(...args),
    recordMergedSent: async (...args) => {
      if (die) {
        die = false;
        throw new Error('process died');
      }
      return store.recordMergedSent(...args);
    },
  };
}

describe('Use case: sendDueReminders — merged reminders', () => {
  it('shows the merged SMS in a dry run, on each reminder it carries, exactly as the scan then sends it', async () => {
    // Prepare
    const store = await storeWith('merge-preview', [...holderRecords(3), record(4, { phone: '13900000778' })]);
    const sms = new RecordingSender();
    const deps = mergingDeps(store, sms);

    // Act
    const preview = await previewDueReminders(deps, DAY_1);
    await sendDueReminders(deps, DAY_1);

    // Assess
    const merged = preview.messages.filter((m) => m.mergedWith !== undefined);
    expect(merged.map((m) => m.number).sort()).toEqual(['TEST-000001', 'TEST-000002', 'TEST-000003']);
    expect(merged.find((m) => m.number === 'TEST-000001')?.mergedWith?.sort()).toEqual([`${PESTICIDE}#TEST-000002`, `${PESTICIDE}#TEST-000003`]);
    expect(new Set(merged.map((m) => m.body)).size).toBe(1);
    expect(preview.messages.find((m) => m.number === 'TEST-000004')?.mergedWith).toBeUndefined();
    const sentToHolder = sms.sent.filter((m) => m.to === E164);
    expect(sentToHolder).toHaveLength(1);
    expect(sentToHolder[0]?.body).toBe(merged[0]?.body);
    expect(merged[0]?.segments).toBeLessThanOrEqual(3);
  });

  it('sends one holder’s three due reminders as one SMS and records each stage sent with the same message id', async () => {
    // Prepare
    const store = await storeWith('merge-three', holderRecords(3));
    const sms = new RecordingSender();
    const cap = new DynamoDbDailySendCap(dynamoTestClient(), store.tableName);

    // Act
    const result = await sendDueReminders(mergingDeps(store, sms, { cap }), DAY_1);

    // Assess
    expect(result).toMatchObject({ sent: 3, merged: 3, mergedMessages: 1, deferred: 0 });
    expect(sms.sent).toHaveLength(1);
    const [message] = sms.sent;
    expect(message?.to).toBe(E164);
    expect(message?.body.startsWith('【兴国县行政审批局】您名下3本证照即将到期：')).toBe(true);
    for (const n of [1, 2, 3]) expect(message?.body).toContain(`（编号TEST-00000${n}）2026年12月20日到期`);
    expect((await stagesOf(store, 3)).map((s) => [s?.status, s?.messageId])).toEqual([
      ['sent', 'msg-1'],
      ['sent', 'msg-1'],
      ['sent', 'msg-1'],
    ]);
    const records = await Promise.all([1, 2, 3].map((n) => store.get(firstOf(n))));
    expect(records.map((r) => [r?.status, r?.messageId, r?.body])).toEqual([1, 2, 3].map(() => ['sent', 'msg-1', message?.body]));
    // It counted once against the cap of 3: two more slots are left today.
    expect(await cap.take(E164, '2026-08-21', 3)).toBe(true);
    expect(await cap.take(E164, '2026-08-21', 3)).toBe(true);
    expect(await cap.take(E164, '2026-08-21', 3)).toBe(false);
  });

  it('writes one receipt of a merged SMS onto every certificate it carried', async () => {
    // Prepare
    const store = await storeWith('merge-receipt', holderRecords(3));
    const sms = new RecordingSender();
    await sendDueReminders(mergingDeps(store, sms), DAY_1);
    const receipts = new DynamoDbDeliveries(dynamoTestClient(), store.tableName);

    // Act
    const outcome = await recordDeliveryReceipt({ receipts, logger: silentLogger }, { messageId: 'msg-1', status: 'delivered', at: '2026-08-21T01:00:05.000Z' });
    const again = await recordDeliveryReceipt({ receipts, logger: silentLogger }, { messageId: 'msg-1', status: 'delivered', at: '2026-08-21T01:00:05.000Z' });

    // Assess
    expect([outcome, again]).toEqual(['recorded', 'unchanged']);
    expect((await Promise.all([1, 2, 3].map((n) => store.get(firstOf(n))))).map((r) => r?.status)).toEqual(['delivered', 'delivered', 'delivered']);
  });

  it('sends separate messages under the cap when the merged text would be too long, deferring the rest to the next day', async () => {
    // Prepare: four certificates do not fit 3 segments together; the cap is 3.
    const store = await storeWith('merge-too-long', holderRecords(4));
    const sms = new RecordingSender();
    const deps = mergingDeps(store, sms, { settings: testSettings({ smsDailyCapPerPhone: 3 }) });

    // Act
    const day1 = await sendDueReminders(deps, DAY_1);
    const day2 = await sendDueReminders(deps, DAY_2);

    // Assess
    expect(day1).toMatchObject({ sent: 3, merged: 0, deferred: 1 });
    expect(day2).toMatchObject({ sent: 1, deferred: 0 });
    expect(sms.sent.map((m) => m.reminder?.number).sort()).toEqual(['TEST-000001', 'TEST-000002', 'TEST-000003', 'TEST-000004']);
    expect((await stagesOf(store, 4)).every((s) => s?.status === 'sent')).toBe(true);
  });

  it('defers a whole merged message when the holder already had the day’s messages, and sends it merged the next day', async () => {
    // Prepare: the holder's only slot of the day is taken (another message went out this morning).
    const store = await storeWith('merge-deferred', holderRecords(2));
    const sms = new RecordingSender();
    const cap = new DynamoDbDailySendCap(dynamoTestClient(), store.tableName);
    await cap.take(E164, '2026-08-21', 1);
    const deps = mergingDeps(store, sms, { cap, settings: testSettings({ smsDailyCapPerPhone: 1 }) });

    // Act
    const day1 = await sendDueReminders(deps, DAY_1);
    const day2 = await sendDueReminders(deps, DAY_2);

    // Assess
    expect(day1).toMatchObject({ sent: 0, deferred: 2 });
    expect(day2).toMatchObject({ sent: 2, merged: 2, mergedMessages: 1 });
    expect(sms.sent).toHaveLength(1);
    expect(sms.sent[0]?.body).toContain('您名下2本证照即将到期');
  });

  it('leaves a member whose claim another scan holds out of the merge', async () => {
    // Prepare
    const store = await storeWith('merge-claim-lost', holderRecords(3));
    await store.claim(firstOf(2), 'other-scan', Date.now() + 60_000, Date.now());
    const sms = new RecordingSender();

    // Act
    const result = await sendDueReminders(mergingDeps(store, sms), DAY_1);

    // Assess
    expect(result).toMatchObject({ sent: 2, merged: 2, inFlightElsewhere: 1 });
    expect(sms.sent).toHaveLength(1);
    expect(sms.sent[0]?.body).toContain('您名下2本证照即将到期');
    expect(sms.sent[0]?.body).not.toContain('TEST-000002');
  });

  it('sends each reminder once when four scans run at once over holders with several certificates each', async () => {
    // Prepare: ten holders with three certificates each
    const records = Array.from({ length: 30 }, (_, i) => record(100 + i, { phone: `1390000${String(1000 + Math.floor(i / 3)).padStart(4, '0')}` }));
    const store = await storeWith('merge-concurrent', records);
    const sms = new RecordingSender({ delayMs: 5 });
    const deps = mergingDeps(store, sms);

    // Act
    const results = await Promise.all([0, 1, 2, 3].map(() => sendDueReminders(deps, DAY_1)));

    // Assess
    const numbers = sms.sent.flatMap((m) => [...m.body.matchAll(/编号(TEST-\d{6})/gu)].map((match) => match[1]));
    expect(numbers).toHaveLength(30);
    expect(new Set(numbers).size).toBe(30);
    expect(results.reduce((sum, r) => sum + r.sent, 0)).toBe(30);
  });
});

describe('Use case: sendDueReminders — a crash at each step of a merge', () => {
  it('after the claims, before the send: a later scan takes the claims over once their leases run out and sends the merged SMS once', async () => {
    // Prepare: the first send never reaches the provider (the process dies); the claims stay
    const store = await storeWith('merge-crash-claimed', holderRecords(3));
    const sms = new RecordingSender({ fail: (_m, call) => (call === 0 ? new Error('process died') : undefined) });
    let wall = Date.now();
    const deps = mergingDeps(store, sms, { wallClock: () => wall });

    // Act
    const crashed = await sendDueReminders(deps, DAY_1);
    const withinLease = await sendDueReminders(deps, DAY_1.plus({ minutes: 1 }));
    wall += testSettings().claimLeaseMs + 1;
    const afterLease = await sendDueReminders(deps, DAY_1.plus({ minutes: 15 }));

    // Assess
    expect(crashed).toMatchObject({ sent: 0, retryLater: 3 });
    expect(withinLease).toMatchObject({ sent: 0, inFlightElsewhere: 3 });
    expect(afterLease).toMatchObject({ sent: 3, merged: 3, mergedMessages: 1 });
    expect(sms.sent).toHaveLength(1);
    expect((await stagesOf(store, 3)).map((s) => s?.messageId)).toEqual(['msg-1', 'msg-1', 'msg-1']);
  });

  it('after the send, before the record: the rerun sends with the same idempotency key, so the outbox keeps one message, and all three are recorded', async () => {
    // Prepare
    const store = await storeWith('merge-crash-sent', holderRecords(3));
    const outbox = new OutboxSmsSender(undefined, fixedClock('2026-08-21T09:00:00+08:00'));
    let wall = Date.now();
    const deps = mergingDeps(store, outbox, { ledger: ledgerDyingAfterMergedSend(store), wallClock: () => wall });

    // Act
    const crashed = await sendDueReminders(deps, DAY_1);
    const withinLease = await sendDueReminders(deps, DAY_1.plus({ minutes: 1 }));
    wall += testSettings().claimLeaseMs + 1;
    const afterLease = await sendDueReminders(deps, DAY_1.plus({ minutes: 15 }));
    const later = await sendDueReminders(deps, DAY_1.plus({ hours: 1 }));

    // Assess
    expect(crashed.errors).toBe(1);
    expect(withinLease).toMatchObject({ sent: 0, inFlightElsewhere: 3 });
    expect(afterLease).toMatchObject({ sent: 3, mergedMessages: 1 });
    expect(later).toMatchObject({ sent: 0, alreadySent: 0 });
    expect(outbox.list()).toHaveLength(1);
    const records = await Promise.all([1, 2, 3].map((n) => store.get(firstOf(n))));
    expect(new Set(records.map((r) => r?.messageId)).size).toBe(1);
    expect(records.every((r) => r?.status === 'sent' && r.messageId !== undefined)).toBe(true);
    expect((await stagesOf(store, 3)).every((s) => s?.status === 'sent')).toBe(true);
  });

  it('after the record, before the plans are settled: the rerun only finishes the plans and sends nothing', async () => {
    // Prepare: every plan update fails in the first scan, as if the process died after the atomic record
    const store = await storeWith('merge-crash-recorded', holderRecords(3));
    const sms = new RecordingSender();
    let dying = true;
    const crashingStore: CertificateStore = {
      getCertificate: (...args) => store.getCertificate(...args),
      getCertificates: (...args) => store.getCertificates(...args),
      putCertificates: (...args) => store.putCertificates(...args),
      listCertificates: (...args) => store.listCertificates(...args),
      dueCertificates: (...args) => store.dueCertificates(...args),
      updatePlans: (...args) => store.updatePlans(...args),
      updatePlan: async (...args) => {
        if (dying) throw new Error('process died');
        return store.updatePlan(...args);
      },
    };
    const deps = mergingDeps(store, sms, { store: crashingStore });

    // Act
    const crashed = await sendDueReminders(deps, DAY_1);
    dying = false;
    const rerun = await sendDueReminders(deps, DAY_1.plus({ minutes: 15 }));
    const later = await sendDueReminders(deps, DAY_1.plus({ hours: 1 }));

    // Assess
    expect(crashed.errors).toBe(1);
    expect(rerun).toMatchObject({ sent: 0, alreadySent: 3 });
    expect(later).toMatchObject({ sent: 0, alreadySent: 0 });
    expect(sms.sent).toHaveLength(1);
    expect((await stagesOf(store, 3)).map((s) => [s?.status, s?.messageId])).toEqual([
      ['sent', 'msg-1'],
      ['sent', 'msg-1'],
      ['sent', 'msg-1'],
    ]);
  });
});
