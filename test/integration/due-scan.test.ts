import { describe, expect, it } from 'vitest';
import { PermanentSendError, RetryableSendError } from '../../functions/core/errors.js';
import type { DeliveryLedger } from '../../functions/core/ports.js';
import { OutboxSmsSender } from '../../functions/adapters/local/outbox-sms-sender.js';
import { sendDueReminders } from '../../functions/app/send-due-reminders.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import type { Certificate } from '../../functions/core/model.js';
import { DEFAULT_SEND_WINDOW, DEFAULT_STAGE_POLICY } from '../../functions/core/model.js';
import { planReminders } from '../../functions/core/planning.js';
import { at, fixedClock, freshStore, record, RecordingSender, scanDeps, testSettings } from '../support/fixtures.js';

// Every certificate here is a pesticide business licence (90 days atLeastBefore) expiring 2026-12-20:
// deadline 2026-09-21, first 2026-08-21 09:00 (Sat 08-22 moved back), final 2026-09-14 09:00, expired 2026-12-21 09:00.
const UPLOADED = at('2026-08-01T10:00:00+08:00');
const FIRST_DUE = at('2026-08-21T09:00:00+08:00');
const FINAL_DUE = at('2026-09-14T09:00:00+08:00');

async function storeWith(prefix: string, records: Record<string, unknown>[], uploadedAt = UPLOADED) {
  const store = await freshStore(prefix);
  const upload = await uploadCertificates({ store, reference: loadReferenceData(), settings: testSettings() }, records, uploadedAt);
  expect(upload.rejected).toEqual([]);
  return store;
}

describe('Use case: sendDueReminders', () => {
  it('sends nothing before a reminder is due', async () => {
    // Prepare
    const store = await storeWith('scan-not-due', [record(1)]);
    const sms = new RecordingSender();

    // Act
    const result = await sendDueReminders(scanDeps(store, sms), at('2026-08-20T19:00:00+08:00'));

    // Assess
    expect(result.sent).toBe(0);
    expect(sms.sent).toEqual([]);
  });

  it('sends the first reminder when its time comes, in Chinese with the signature, type, number and both dates', async () => {
    // Prepare
    const store = await storeWith('scan-first', [record(2)]);
    const sms = new RecordingSender();

    // Act
    const result = await sendDueReminders(scanDeps(store, sms), FIRST_DUE);

    // Assess
    expect(result.sent).toBe(1);
    const [message] = sms.sent;
    expect(message?.to).toBe('+8613900000002');
    expect(message?.body.startsWith('【兴国县行政审批局】')).toBe(true);
    expect(message?.body).toContain('农药经营许可证');
    expect(message?.body).toContain('TEST-000002');
    expect(message?.body).toContain('2026年12月20日');
    expect(message?.body).toContain('2026年9月21日');
    expect(message?.reminder).toMatchObject({ stage: 'first', expiresOn: '2026-12-20', renewalDeadline: '2026-09-21' });
    const stored = await store.getCertificate({ type: 'pesticide_business_license', number: 'TEST-000002' });
    expect(stored?.plan.stages.find((s) => s.stage === 'first')).toMatchObject({ status: 'sent', messageId: 'msg-1' });
  });

  it("says each type's short name, verb and place, the service centre's name coming from the settings", async () => {
    // Prepare
    const inspection = record(40, { type: 'farm_machine_annual_inspection', number: 'NJ-2026-0040', issuedOn: '2025-12-31', expiresOn: '2026-12-30' });
    const store = await storeWith('scan-texts', [record(41), inspection]);
    const sms = new RecordingSender();
    const settings = testSettings({ renewalPlace: '兴国县政务服务中心二楼', helpPhone: '0797-5321234' });

    // Act
    await sendDueReminders(scanDeps(store, sms, { settings }), FIRST_DUE);
    await sendDueReminders(scanDeps(store, sms, { settings }), at('2026-11-30T09:00:00+08:00'));

    // Assess
    // The second scan also sends the pesticide licence's final reminder; the first reminders are compared.
    expect(sms.sent.filter((m) => m.reminder?.stage === 'first').map((m) => m.body)).toEqual([
      '【兴国县行政审批局】您的农药经营许可证（编号TEST-000041）将于2026年12月20日到期，请在2026年9月21日（含）前办理延续，办理地点：兴国县政务服务中心二楼。咨询电话0797-5321234',
      '【兴国县行政审批局】您的农机年度安全技术检验（编号NJ-2026-0040）将于2026年12月30日到期，请在到期日（含）前办理年检，办理地点：兴国县农机安全监理站。咨询电话0797-5321234',
    ]);
  });

  it('never sends the same reminder twice across repeated scans', async () => {
    // Prepare
    const store = await storeWith('scan-repeat', [record(3)]);
    const sms = new RecordingSender();
    const deps = scanDeps(store, sms);

    // Act
    const first = await sendDueReminders(deps, FIRST_DUE);
    const again = await sendDueReminders(deps, FIRST_DUE.plus({ minutes: 15 }));
    const nextDay = await sendDueReminders(deps, FIRST_DUE.plus({ days: 1 }));

    // Assess
    expect([first.sent, again.sent, nextDay.sent]).toEqual([1, 0, 0]);
    expect(sms.sent).toHaveLength(1);
  });

  it('sends nothing outside the 09:00–20:00 send window, even when reminders are due', async () => {
    // Prepare
    const store = await storeWith('scan-window', [record(4)]);
    const sms = new RecordingSender();
    const deps = scanDeps(store, sms);

    // Act
    const early = await sendDueReminders(deps, at('2026-08-22T08:59:59+08:00'));
    const late = await sendDueReminders(deps, at('2026-08-21T20:00:00+08:00'));

    // Assess
    expect(early).toMatchObject({ insideSendWindow: false, sent: 0 });
    expect(late).toMatchObject({ insideSendWindow: false, sent: 0 });
    expect(sms.sent).toEqual([]);
  });

  it('sends a reminder that was missed while the service was down', async () => {
    // Prepare
    const store = await storeWith('scan-missed', [record(5)]);
    const sms = new RecordingSender();

    // Act
    const result = await sendDueReminders(scanDeps(store, sms), at('2026-09-01T10:00:00+08:00'));

    // Assess
    expect(result.sent).toBe(1);
    expect(sms.sent[0]?.reminder?.stage).toBe('first');
  });

  it('sends only the latest of several stages that fell due while the service was down', async () => {
    // Prepare
    const store = await storeWith('scan-superseded', [record(6)]);
    const sms = new RecordingSender();

    // Act
    const result = await sendDueReminders(scanDeps(store, sms), FINAL_DUE.plus({ hours: 1 }));

    // Assess
    expect(result).toMatchObject({ sent: 1, superseded: 1 });
    expect(sms.sent.map((m) => m.reminder?.stage)).toEqual(['final']);
    const stored = await store.getCertificate({ type: 'pesticide_business_license', number: 'TEST-000006' });
    expect(stored?.plan.stages.map((s) => [s.stage, s.status])).toEqual([
      ['first', 'skipped'],
      ['final', 'sent'],
      ['expired', 'pending'],
    ]);
  });

  it('drops the reminders of the old expiry when a certificate is renewed', async () => {
    // Prepare
    const store = await storeWith('scan-renewed', [record(7)]);
    await uploadCertificates(
      { store, reference: loadReferenceData(), settings: testSettings() },
      [record(7, { expiresOn: '2031-12-20', issuedOn: '2026-08-10' })],
      at('2026-08-10T10:00:00+08:00'),
    );
    const sms = new RecordingSender();

    // Act
    const result = await sendDueReminders(scanDeps(store, sms), at('2026-12-22T10:00:00+08:00'));

    // Assess
    expect(result.sent).toBe(0);
    const stored = await store.getCertificate({ type: 'pesticide_business_license', number: 'TEST-000007' });
    expect(stored?.plan.renewalDeadline).toBe('2031-09-21');
  });

  it('sends a late upload one catch-up message, never a burst of stale reminders', async () => {
    // Prepare: uploaded on a Friday evening after both first and final have passed.
    const store = await storeWith('scan-late', [record(8)], at('2026-09-18T21:00:00+08:00'));
    const sms = new RecordingSender();
    const deps = scanDeps(store, sms);

    // Act
    const tonight = await sendDueReminders(deps, at('2026-09-18T21:30:00+08:00'));
    const nextMorning = await sendDueReminders(deps, at('2026-09-19T09:00:00+08:00'));
    const later = await sendDueReminders(deps, at('2026-09-19T12:00:00+08:00'));

    // Assess
    expect([tonight.sent, nextMorning.sent, later.sent]).toEqual([0, 1, 0]);
    expect(sms.sent.map((m) => m.reminder?.stage)).toEqual(['final']);
  });

  it('sends exactly one message per reminder when four scans run at once', async () => {
    // Prepare
    const records = Array.from({ length: 40 }, (_, i) => record(100 + i));
    const store = await storeWith('scan-concurrent', records);
    const sms = new RecordingSender({ delayMs: 5 });
    const deps = scanDeps(store, sms);

    // Act
    const results = await Promise.all([0, 1, 2, 3].map(() => sendDueReminders(deps, FIRST_DUE, { concurrency: 4 })));

    // Assess
    const keys = sms.sent.map((m) => m.idempotencyKey);
    expect(new Set(keys).size).toBe(40);
    expect(keys).toHaveLength(40);
    expect(results.reduce((sum, r) => sum + r.sent, 0)).toBe(40);
  });

  it('leaves a reminder alone while another scan holds a live claim on it', async () => {
    // Prepare
    const store = await storeWith('scan-live-claim', [record(9)]);
    const id = { key: { type: 'pesticide_business_license', number: 'TEST-000009' }, expiresOn: '2026-12-20', stage: 'first' as const };
    await store.claim(id, 'other-scan', Date.now() + 60_000, Date.now());
    const sms = new RecordingSender();

    // Act
    const result = await sendDueReminders(scanDeps(store, sms), FIRST_DUE);

    // Assess
    expect(result).toMatchObject({ sent: 0, inFlightElsewhere: 1 });
    expect(sms.sent).toEqual([]);
  });

  it('takes over the expired claim of a scan that died before sending, and sends once', async () => {
    // Prepare
    const store = await storeWith('scan-dead-claim', [record(10)]);
    const id = { key: { type: 'pesticide_business_license', number: 'TEST-000010' }, expiresOn: '2026-12-20', stage: 'first' as const };
    await store.claim(id, 'dead-scan', Date.now() - 1, Date.now() - 300_000);
    const sms = new RecordingSender();

    // Act
    const result = await sendDueReminders(scanDeps(store, sms), FIRST_DUE);

    // Assess
    expect(result.sent).toBe(1);
    expect(await store.get(id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('does not resend when a scan died after recording the send but before updating the plan', async () => {
    // Prepare
    const store = await storeWith('scan-record-crash', [record(11)]);
    const id = { key: { type: 'pesticide_business_license', number: 'TEST-000011' }, expiresOn: '2026-12-20', stage: 'first' as const };
    await store.claim(id, 'dead-scan', Date.now() + 60_000, Date.now());
    await store.recordSent(id, 'dead-scan', { messageId: 'earlier', sentAt: FIRST_DUE.toISO() ?? '', to: '+8613900000011', body: 'x', segments: 1 });
    const sms = new RecordingSender();

    // Act
    const result = await sendDueReminders(scanDeps(store, sms), FIRST_DUE.plus({ minutes: 15 }));

    // Assess
    expect(result).toMatchObject({ sent: 0, alreadySent: 1 });
    expect(sms.sent).toEqual([]);
    const stored = await store.getCertificate(id.key);
    expect(stored?.plan.stages.find((s) => s.stage === 'first')).toMatchObject({ status: 'sent', messageId: 'earlier' });
  });

  it('does not send twice when a scan died between the send and its record, given an idempotent sender', async () => {
    // Prepare: the ledger fails to record the first send, as if the process died right after the provider accepted it.
    const store = await storeWith('scan-send-crash', [record(12)]);
    const outbox = new OutboxSmsSender(undefined, fixedClock('2026-08-21T09:00:00+08:00'));
    let failRecord = true;
    const crashingLedger: DeliveryLedger = {
      claim: (...args) => store.claim(...args),
      recordSent: async (...args) => {
        if (failRecord) {
          failRecord = false;
          throw new Error('process died');
        }
        return store.recordSent(...args);
      },
      recordFailed: (...args) => store.recordFailed(...args),
      release: (...args) => store.release(...args),
      recordSuppressed: (...args) => store.recordSuppressed(...args),
      get: (...args) => store.get(...args),
      recordDeferred: (...args) => store.recordDeferred(...args),
      recordMergedSent: (...args) => store.recordMergedSent(...args),
    };
    let wall = Date.now();
    const deps = scanDeps(store, outbox, { ledger: crashingLedger, wallClock: () => wall });

    // Act
    const crashed = await sendDueReminders(deps, FIRST_DUE);
    const beforeLeaseEnds = await sendDueReminders(deps, FIRST_DUE.plus({ minutes: 1 }));
    wall += testSettings().claimLeaseMs + 1;
    const afterLeaseEnds = await sendDueReminders(deps, FIRST_DUE.plus({ minutes: 15 }));

    // Assess
    expect(crashed.errors).toBe(1);
    expect(beforeLeaseEnds).toMatchObject({ sent: 0, inFlightElsewhere: 1 });
    expect(afterLeaseEnds.sent).toBe(1);
    expect(outbox.list()).toHaveLength(1);
  });

  it('retries a reminder whose send failed for a retryable reason on the next scan', async () => {
    // Prepare
    const store = await storeWith('scan-retryable', [record(13)]);
    const sms = new RecordingSender({ fail: (_m, call) => (call === 0 ? new RetryableSendError('throttled') : undefined) });
    const deps = scanDeps(store, sms);

    // Act
    const throttled = await sendDueReminders(deps, FIRST_DUE);
    const retried = await sendDueReminders(deps, FIRST_DUE.plus({ minutes: 15 }));

    // Assess
    expect(throttled).toMatchObject({ sent: 0, retryLater: 1 });
    expect(retried.sent).toBe(1);
    expect(sms.sent).toHaveLength(1);
  });

  it('records a permanent failure once and does not retry it', async () => {
    // Prepare
    const store = await storeWith('scan-permanent', [record(14)]);
    const sms = new RecordingSender({ fail: () => new PermanentSendError('opted out') });
    const deps = scanDeps(store, sms);

    // Act
    const refused = await sendDueReminders(deps, FIRST_DUE);
    const again = await sendDueReminders(deps, FIRST_DUE.plus({ minutes: 15 }));

    // Assess
    expect(refused).toMatchObject({ sent: 0, failed: 1 });
    expect(again).toMatchObject({ sent: 0, failed: 0 });
    const id = { key: { type: 'pesticide_business_license', number: 'TEST-000014' }, expiresOn: '2026-12-20', stage: 'first' as const };
    expect(await store.get(id)).toMatchObject({ status: 'failed', reason: 'opted out' });
  });

  it('sends nothing for a type without reminders whose plan was stored before the type lost them, recording why', async () => {
    // Prepare: a plan as an earlier version stored it, written past today's upload checks.
    const store = await freshStore('scan-no-reminders');
    const certificate = { ...record(15), type: 'farm_machine_registration', number: 'NJ-DJ-0015', phone: '+8613900000015' } as Certificate;
    const plan = planReminders({ expiresOn: '2026-12-20', renewalWindow: null, calendar: loadReferenceData().calendar, policy: DEFAULT_STAGE_POLICY, sendWindow: DEFAULT_SEND_WINDOW, now: UPLOADED });
    await store.putCertificates([{ certificate, plan, contentHash: 'old', version: 1, createdAt: UPLOADED.toISO() ?? '', updatedAt: UPLOADED.toISO() ?? '' }]);
    const sms = new RecordingSender();

    // Act
    const result = await sendDueReminders(scanDeps(store, sms), at('2026-11-20T09:00:00+08:00'));

    // Assess
    expect(result).toMatchObject({ sent: 0, failed: 1 });
    expect(sms.sent).toEqual([]);
    const id = { key: { type: 'farm_machine_registration', number: 'NJ-DJ-0015' }, expiresOn: '2026-12-20', stage: 'first' as const };
    expect(await store.get(id)).toMatchObject({ status: 'failed', reason: expect.stringContaining('sends no reminders') });
  });

  it('stops at its time budget and reports the scan incomplete, leaving the rest for the next run', async () => {
    // Prepare
    const store = await storeWith('scan-budget', Array.from({ length: 10 }, (_, i) => record(200 + i)));
    const sms = new RecordingSender();
    const deps = scanDeps(store, sms);

    // Act
    const stopped = await sendDueReminders(deps, FIRST_DUE, { stopAtMs: Date.now() - 1 });
    const next = await sendDueReminders(deps, FIRST_DUE);

    // Assess
    expect(stopped).toMatchObject({ sent: 0, incomplete: true });
    expect(next.sent).toBe(10);
  });
});
