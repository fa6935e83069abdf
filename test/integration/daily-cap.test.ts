import { describe, expect, it } from 'vitest';
import { DynamoDbBookingStore } from '../../functions/adapters/aws/dynamodb/dynamodb-booking-store.js';
import { DynamoDbDeliveries } from '../../functions/adapters/aws/dynamodb/dynamodb-deliveries.js';
import { DynamoDbSuppressionList } from '../../functions/adapters/aws/dynamodb/dynamodb-suppression-list.js';
import { DynamoDbCalendarStore } from '../../functions/adapters/aws/dynamodb/dynamodb-calendar-store.js';
import { StoredCalendarSource } from '../../functions/app/calendar/stored-calendar.js';
import { runScheduledScan } from '../../functions/app/scheduled-scan.js';
import { DynamoDbDailySendCap } from '../../functions/adapters/aws/dynamodb/dynamodb-daily-send-cap.js';
import { InProcessScheduleGateway } from '../../functions/adapters/local/in-process-schedule-gateway.js';
import type { CampaignDeps } from '../../functions/app/campaigns/campaign-deps.js';
import { addVisit, createCampaign } from '../../functions/app/campaigns/manage-campaigns.js';
import { runDueCampaignJobs } from '../../functions/app/campaigns/run-campaign-job.js';
import { campaignJobName } from '../../functions/app/campaigns/visit-jobs.js';
import { receiveInboundSms } from '../../functions/app/inbound/receive-inbound-sms.js';
import { silentLogger } from '../../functions/app/logger.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { sendDueReminders } from '../../functions/app/send-due-reminders.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import { RetryableSendError } from '../../functions/core/errors.js';
import { dynamoTestClient } from '../support/dynamo.js';
import { at, freshStore, record, RecordingSender, scanDeps, testSettings } from '../support/fixtures.js';
import { farmRecord, freshCampaignTable, INSPECTION, OPERATOR_LICENSE } from '../support/campaign-fixtures.js';

const reference = loadReferenceData();
// Pesticide business licences expiring 2026-12-20 (see due-scan.test.ts): the first reminder is due 2026-08-21 09:00.
const UPLOADED = at('2026-08-01T10:00:00+08:00');
const DAY_1 = at('2026-08-21T09:00:00+08:00');
const DAY_2 = at('2026-08-22T09:00:00+08:00');
const PHONE = '13900000777';
const PESTICIDE = 'pesticide_business_license';

/** Certificates of one holder (one phone), each with its own number. */
function holderRecords(count: number, phone = PHONE, from = 1) {
  return Array.from({ length: count }, (_, i) => record(from + i, { phone }));
}

async function storeWith(prefix: string, records: Record<string, unknown>[]) {
  const store = await freshStore(prefix);
  const upload = await uploadCertificates({ store, reference, settings: testSettings() }, records, UPLOADED);
  expect(upload.rejected).toEqual([]);
  return store;
}

describe('Port: DailySendCap (DynamoDB)', () => {
  it('gives exactly `limit` slots to senders racing for one phone on one day, and counts each day apart', async () => {
    // Prepare
    const store = await freshStore('cap-race');
    const cap = new DynamoDbDailySendCap(dynamoTestClient(), store.tableName);

    // Act
    const taken = await Promise.all(Array.from({ length: 10 }, () => cap.take('+8613900000001', '2026-08-21', 3)));
    const nextDay = await cap.take('+8613900000001', '2026-08-22', 3);

    // Assess
    expect(taken.filter(Boolean)).toHaveLength(3);
    expect(nextDay).toBe(true);
  });

  it('takes a slot again once one is given back, and never counts below zero', async () => {
    // Prepare
    const store = await freshStore('cap-give-back');
    const cap = new DynamoDbDailySendCap(dynamoTestClient(), store.tableName);
    await cap.giveBack('+8613900000001', '2026-08-21');

    // Act
    const first = await cap.take('+8613900000001', '2026-08-21', 1);
    const full = await cap.take('+8613900000001', '2026-08-21', 1);
    await cap.giveBack('+8613900000001', '2026-08-21');
    const again = await cap.take('+8613900000001', '2026-08-21', 1);

    // Assess
    expect([first, full, again]).toEqual([true, false, true]);
  });
});

describe('Use case: sendDueReminders — the daily cap per phone', () => {
  it('sends one holder at most the cap in a day, defers the rest, and sends them the next day inside the window', async () => {
    // Prepare: four certificates of one holder fall due together; the cap is 3.
    const store = await storeWith('cap-defer', holderRecords(4));
    const sms = new RecordingSender();
    const deps = scanDeps(store, sms, { cap: new DynamoDbDailySendCap(dynamoTestClient(), store.tableName), settings: testSettings({ smsDailyCapPerPhone: 3 }) });

    // Act
    const day1 = await sendDueReminders(deps, DAY_1);
    const laterDay1 = await sendDueReminders(deps, DAY_1.plus({ hours: 3 }));
    const nightDay1 = await sendDueReminders(deps, DAY_2.minus({ hours: 1 }));
    const day2 = await sendDueReminders(deps, DAY_2);
    const laterDay2 = await sendDueReminders(deps, DAY_2.plus({ hours: 1 }));

    // Assess
    expect(day1).toMatchObject({ sent: 3, deferred: 1 });
    expect(laterDay1).toMatchObject({ sent: 0, deferred: 1 });
    expect(nightDay1).toMatchObject({ insideSendWindow: false, sent: 0 });
    expect(day2).toMatchObject({ sent: 1, deferred: 0 });
    expect(laterDay2).toMatchObject({ sent: 0, deferred: 0, alreadySent: 0 });
    expect(sms.sent).toHaveLength(4);
    expect(new Set(sms.sent.map((m) => m.idempotencyKey)).size).toBe(4);
    expect(sms.sent.slice(3).map((m) => m.at)).toEqual([DAY_2.toISO()]);
    for (let n = 1; n <= 4; n += 1) {
      const stored = await store.getCertificate({ type: PESTICIDE, number: `TEST-00000${n}` });
      expect(stored?.plan.stages.find((s) => s.stage === 'first')?.status).toBe('sent');
    }
  });

  it('records the held-back reminder as deferred on its delivery, listed as deferred, until it goes out', async () => {
    // Prepare
    const store = await storeWith('cap-record', holderRecords(2));
    const deps = scanDeps(store, new RecordingSender(), { cap: new DynamoDbDailySendCap(dynamoTestClient(), store.tableName), settings: testSettings({ smsDailyCapPerPhone: 1 }) });

    // Act
    const deliveries = new DynamoDbDeliveries(dynamoTestClient(), store.tableName);
    await sendDueReminders(deps, DAY_1);
    const records = await Promise.all([1, 2].map((n) => store.get({ key: { type: PESTICIDE, number: `TEST-00000${n}` }, expiresOn: '2026-12-20', stage: 'first' })));
    const listedDay1 = await deliveries.listDeliveries({ statuses: ['deferred'], limit: 10 });
    await sendDueReminders(deps, DAY_2);
    const after = await Promise.all([1, 2].map((n) => store.get({ key: { type: PESTICIDE, number: `TEST-00000${n}` }, expiresOn: '2026-12-20', stage: 'first' })));
    const listedDay2 = await deliveries.listDeliveries({ statuses: ['deferred'], limit: 10 });
    const sentDay2 = await deliveries.listDeliveries({ statuses: ['sent'], limit: 10 });

    // Assess
    expect(records.map((r) => r?.status).sort()).toEqual(['deferred', 'sent']);
    expect(records.find((r) => r?.status === 'deferred')).toMatchObject({ deferredOn: '2026-08-21' });
    expect(after.map((r) => r?.status)).toEqual(['sent', 'sent']);
    expect(listedDay1.items).toMatchObject([{ source: 'reminder', kind: 'first', status: 'deferred', to: '+8613900000777' }]);
    expect(listedDay2.items).toEqual([]);
    expect(sentDay2.items).toHaveLength(2);
  });

  it('lets only one of two scans racing for a holder’s last slot send', async () => {
    // Prepare: two certificates of one holder, a cap of 1, two scans at once
    const store = await storeWith('cap-last-slot', holderRecords(2));
    const sms = new RecordingSender({ delayMs: 5 });
    const deps = scanDeps(store, sms, { cap: new DynamoDbDailySendCap(dynamoTestClient(), store.tableName), settings: testSettings({ smsDailyCapPerPhone: 1 }) });

    // Act
    const results = await Promise.all([sendDueReminders(deps, DAY_1, { concurrency: 2 }), sendDueReminders(deps, DAY_1, { concurrency: 2 })]);

    // Assess
    expect(sms.sent).toHaveLength(1);
    expect(results.reduce((sum, r) => sum + r.sent, 0)).toBe(1);
    expect(results.reduce((sum, r) => sum + r.deferred, 0)).toBeGreaterThanOrEqual(1);
  });

  it('gives the slot back when a send fails for a retryable reason, so the retry the same day still goes out', async () => {
    // Prepare
    const store = await storeWith('cap-retry', holderRecords(1));
    const sms = new RecordingSender({ fail: (_m, call) => (call === 0 ? new RetryableSendError('throttled') : undefined) });
    const deps = scanDeps(store, sms, { cap: new DynamoDbDailySendCap(dynamoTestClient(), store.tableName), settings: testSettings({ smsDailyCapPerPhone: 1 }) });

    // Act
    const throttled = await sendDueReminders(deps, DAY_1);
    const retried = await sendDueReminders(deps, DAY_1.plus({ minutes: 15 }));

    // Assess
    expect(throttled).toMatchObject({ sent: 0, retryLater: 1, deferred: 0 });
    expect(retried).toMatchObject({ sent: 1, deferred: 0 });
  });

  it('skips a suppressed holder without using a slot of the cap or being held by it', async () => {
    // Prepare: holders 777 and 888 opted out, 888's cap already full; 999 did not
    const store = await storeWith('cap-suppressed', [...holderRecords(2), ...holderRecords(1, '13900000888', 10), ...holderRecords(1, '13900000999', 20)]);
    const client = dynamoTestClient();
    const suppressions = new DynamoDbSuppressionList(client, store.tableName);
    for (const phone of ['+8613900000777', '+8613900000888']) await suppressions.suppress(phone, { source: 'sms-keyword', at: '2026-08-20T10:00:00.000Z' });
    const cap = new DynamoDbDailySendCap(client, store.tableName);
    await cap.take('+8613900000888', '2026-08-21', 1);
    const sms = new RecordingSender();
    const deps = scanDeps(store, sms, { cap, suppressions, phones: store, settings: testSettings({ smsDailyCapPerPhone: 1 }) });

    // Act
    const day1 = await sendDueReminders(deps, DAY_1);
    const day2 = await sendDueReminders(deps, DAY_2);

    // Assess: suppressed, never deferred; 777's slot of the day is still free
    expect(day1).toMatchObject({ suppressed: 3, deferred: 0, sent: 1 });
    expect(day2).toMatchObject({ suppressed: 0, deferred: 0, sent: 0 });
    expect(sms.sent.map((m) => m.to)).toEqual(['+8613900000999']);
    expect(await cap.take('+8613900000777', '2026-08-21', 1)).toBe(true);
  });

  it('does not count reminders the cap deferred as unsent at the window’s close: they are due the next day by design', async () => {
    // Prepare: two certificates of one holder, a cap of 1, the last scheduled scan of the day
    const store = await storeWith('cap-window-close', holderRecords(2));
    const client = dynamoTestClient();
    const calendars = new DynamoDbCalendarStore(client, store.tableName);
    const clock = { now: () => DAY_1.set({ hour: 19, minute: 45 }) };
    const deps = {
      ...scanDeps(store, new RecordingSender(), { cap: new DynamoDbDailySendCap(client, store.tableName), settings: testSettings({ smsDailyCapPerPhone: 1 }) }),
      clock,
      calendars,
      calendarSource: new StoredCalendarSource({ calendars, bundled: reference.calendarYears, clock, logger: silentLogger }),
      replanSource: store,
    };

    // Act
    const result = await runScheduledScan(deps);

    // Assess
    expect(result).toMatchObject({ sent: 1, deferred: 1, unsentAtWindowClose: 0 });
  });

  it('counts each holder apart: another phone is not held back by a busy one', async () => {
    // Prepare
    const store = await storeWith('cap-per-phone', [...holderRecords(2), ...holderRecords(1, '13900000888', 10)]);
    const sms = new RecordingSender();
    const deps = scanDeps(store, sms, { cap: new DynamoDbDailySendCap(dynamoTestClient(), store.tableName), settings: testSettings({ smsDailyCapPerPhone: 1 }) });

    // Act
    const result = await sendDueReminders(deps, DAY_1);

    // Assess
    expect(result).toMatchObject({ sent: 2, deferred: 1 });
    expect(sms.sent.map((m) => m.to).sort()).toEqual(['+8613900000777', '+8613900000888']);
  });
});

describe('The daily cap across campaign notices, reminders and replies', () => {
  const OPERATOR = { role: 'operator' as const, subject: 'token:ops' };
  const CREATED = at('2026-12-01T10:00:00+08:00');
  const NOTICE_AT = at('2026-12-29T09:00:00+08:00');
  // Phone 1 holds an inspection (a campaign recipient) and a pesticide licence whose catch-up reminder is due all December.
  const RECORDS = [farmRecord(1), farmRecord(5), record(1, { expiresOn: '2027-01-10', issuedOn: '2022-01-11' })];

  async function world(prefix: string) {
    const { client, store, campaigns } = await freshCampaignTable(prefix);
    expect((await uploadCertificates({ store, reference, settings: testSettings() }, RECORDS, CREATED)).rejected).toEqual([]);
    const clock = { now: () => CREATED };
    const gateway = new InProcessScheduleGateway({ clock, jobs: campaigns, run: () => false, onError: () => undefined });
    const sms = new RecordingSender();
    const settings = testSettings({ smsDailyCapPerPhone: 1 });
    const cap = new DynamoDbDailySendCap(client, store.tableName);
    const deps: CampaignDeps = {
      campaigns: { store: campaigns, messages: campaigns, recipients: campaigns, jobs: campaigns, scheduler: { gateway, targetArn: 'local:job', roleArn: 'local:role', group: 'certalarm' } },
      sms,
      reference,
      settings,
      logger: silentLogger,
      clock,
      cap,
    };
    const campaign = await createCampaign(deps, OPERATOR, { name: '2027年春季农机上门服务', types: [INSPECTION, OPERATOR_LICENSE], season: { from: '2027-01-04', to: '2027-06-30' }, blackouts: [] });
    const visit = await addVisit(deps, OPERATOR, campaign.id, {
      township: '潋江镇',
      date: '2027-01-12',
      place: '潋江镇农机服务站',
      slots: [{ start: '09:00', end: '10:00', capacity: 20 }],
    });
    return { client, store, campaigns, deps, sms, scan: scanDeps(store, sms, { cap, settings }), campaignId: campaign.id, visitId: visit.id };
  }

  it('defers a holder’s reminder once a campaign notice took the day’s slot, and sends it the next day', async () => {
    // Prepare
    const w = await world('cap-notice-first');

    // Act
    const notices = await runDueCampaignJobs(w.deps, NOTICE_AT);
    const day1 = await sendDueReminders(w.scan, NOTICE_AT.plus({ hours: 1 }));
    const day2 = await sendDueReminders(w.scan, NOTICE_AT.plus({ days: 1 }));

    // Assess
    expect(notices).toMatchObject({ sent: 2, deferred: 0, done: 1 });
    expect(day1).toMatchObject({ sent: 0, deferred: 1 });
    expect(day2).toMatchObject({ sent: 1, deferred: 0 });
    expect(w.sms.sent.filter((m) => m.to === '+8613900000001').map((m) => (m.campaign !== undefined ? 'notice' : m.reminder?.stage))).toEqual(['notice', 'final']);
  });

  it('defers a campaign notice once a reminder took the day’s slot, and moves its job to the next day’s window instead of every scan', async () => {
    // Prepare
    const w = await world('cap-reminder-first');

    // Act
    const reminders = await sendDueReminders(w.scan, NOTICE_AT);
    const notices = await runDueCampaignJobs(w.deps, NOTICE_AT);
    const stored = await w.campaigns.pendingJobs();
    const laterDay1 = await runDueCampaignJobs(w.deps, NOTICE_AT.plus({ hours: 3 }));
    const day2 = await runDueCampaignJobs(w.deps, NOTICE_AT.plus({ days: 1 }));

    // Assess
    expect(reminders).toMatchObject({ sent: 1 });
    expect(notices).toMatchObject({ sent: 1, deferred: 1, kept: 1, done: 0 });
    expect(stored.find((j) => j.name === campaignJobName(w.campaignId, w.visitId, 'notice'))?.at).toBe('2026-12-30T01:00:00.000Z');
    expect(laterDay1.jobs).toBe(0);
    expect(day2).toMatchObject({ jobs: 1, sent: 1, alreadySent: 1, deferred: 0, done: 1 });
    expect(w.sms.sent.filter((m) => m.to === '+8613900000001').map((m) => m.campaign?.kind ?? m.reminder?.stage)).toEqual(['final', 'notice']);
  });

  it('lists a deferred campaign notice as deferred in the deliveries, and as sent once it goes out', async () => {
    // Prepare
    const w = await world('cap-notice-listed');
    const deliveries = new DynamoDbDeliveries(w.client, w.store.tableName);
    await sendDueReminders(w.scan, NOTICE_AT);

    // Act
    await runDueCampaignJobs(w.deps, NOTICE_AT);
    const deferredDay1 = await deliveries.listDeliveries({ statuses: ['deferred'], limit: 10 });
    await runDueCampaignJobs(w.deps, NOTICE_AT.plus({ days: 1 }));
    const deferredDay2 = await deliveries.listDeliveries({ statuses: ['deferred'], limit: 10 });
    const sent = await deliveries.listDeliveries({ statuses: ['sent'], limit: 10 });

    // Assess
    expect(deferredDay1.items).toMatchObject([{ source: 'campaign', kind: 'notice', status: 'deferred', to: '+8613900000001' }]);
    expect(deferredDay2.items).toEqual([]);
    expect(sent.items.filter((d) => d.source === 'campaign' && d.to === '+8613900000001')).toMatchObject([{ kind: 'notice', status: 'sent' }]);
  });

  it('still confirms a booking when the holder had the day’s messages, but sends no help reply over the cap', async () => {
    // Prepare: the notice took phone 1's only slot of the day
    const w = await world('cap-exempt');
    await runDueCampaignJobs(w.deps, NOTICE_AT);
    const invitation = await w.campaigns.getInvitation(w.campaignId, w.visitId, '+8613900000001');
    const inbound = { ...w.deps, bookings: new DynamoDbBookingStore(w.client, w.store.tableName) };

    // Act
    const booked = await receiveInboundSms(inbound, { from: '13900000001', text: `${invitation?.code ?? ''} 1`, receivedAt: NOTICE_AT.plus({ hours: 1 }) });
    const help = await receiveInboundSms(inbound, { from: '13900000001', text: '你好', receivedAt: NOTICE_AT.plus({ hours: 2 }) });

    // Assess
    expect(booked).toMatchObject({ action: 'booked', confirmation: 'sent' });
    expect(help).toMatchObject({ action: 'help', reply: 'capped' });
    expect(w.sms.sent.filter((m) => m.to === '+8613900000001').map((m) => m.campaign?.kind)).toEqual(['notice', 'confirmation#1']);
  });
});
