import { randomBytes } from 'node:crypto';
import type { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { DynamoDbBookingStore } from '../../functions/adapters/aws/dynamodb/dynamodb-booking-store.js';
import { DynamoDbDeliveries } from '../../functions/adapters/aws/dynamodb/dynamodb-deliveries.js';
import { DynamoDbSuppressionList } from '../../functions/adapters/aws/dynamodb/dynamodb-suppression-list.js';
import { InProcessScheduleGateway } from '../../functions/adapters/local/in-process-schedule-gateway.js';
import type { CampaignDeps } from '../../functions/app/campaigns/campaign-deps.js';
import { addVisit, createCampaign, moveVisit } from '../../functions/app/campaigns/manage-campaigns.js';
import { runCampaignJob } from '../../functions/app/campaigns/run-campaign-job.js';
import { CursorSeal } from '../../functions/app/cursors.js';
import { createHttpApp } from '../../functions/app/http/app.js';
import { receiveInboundSms, type InboundDeps } from '../../functions/app/inbound/receive-inbound-sms.js';
import { previewDueReminders, sendDueReminders, type ScanDeps } from '../../functions/app/send-due-reminders.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import type { Principal } from '../../functions/core/access.js';
import type { Logger } from '../../functions/core/ports.js';
import { countSegments } from '../../functions/core/sms.js';
import { farmRecord, freshCampaignTable, INSPECTION, OPERATOR_LICENSE } from '../support/campaign-fixtures.js';
import { at, record, RecordingSender, scanDeps, testSettings } from '../support/fixtures.js';

const OPERATOR: Principal = { role: 'operator', subject: 'token:ops' };
const CREATED = at('2026-08-01T10:00:00+08:00');
const REPLIED = at('2026-08-10T20:15:00+08:00');
/** Pesticide licences expiring 2026-12-20 (the fixtures' `record`): their first reminder is due then. */
const FIRST_DUE = at('2026-08-21T09:00:00+08:00');
const NOTICE_AT = at('2026-12-29T09:00:00+08:00');
const SETTINGS = testSettings({ helpPhone: '0797-5321234' });

/** Every log line the use cases wrote, as text: the test reads them for unmasked phone numbers. */
function recordingLogger(lines: string[]): Logger {
  const write = (obj: object, msg?: string) => lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  return { debug: write, info: write, warn: write, error: write };
}

/** A mainland mobile number, written in any of the ways these tests use, anywhere in a line. */
const UNMASKED_MOBILE = /(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)/;

async function world(prefix: string, records: Record<string, unknown>[] = []) {
  const { client, store, campaigns } = await freshCampaignTable(prefix);
  const tableName = store.tableName;
  if (records.length > 0) {
    const upload = await uploadCertificates({ store, reference: loadReferenceData(), settings: SETTINGS }, records, CREATED);
    expect(upload.rejected).toEqual([]);
  }
  const suppressions = new DynamoDbSuppressionList(client, tableName);
  const sms = new RecordingSender();
  const logLines: string[] = [];
  let now = CREATED;
  const clock = { now: () => now };
  const wall = { ms: 1_000_000 };
  const gateway = new InProcessScheduleGateway({ clock, jobs: campaigns, run: () => false, onError: () => undefined });
  const deps: ScanDeps & CampaignDeps & InboundDeps = {
    ...scanDeps(store, sms, { settings: SETTINGS, logger: recordingLogger(logLines), suppressions }),
    clock,
    wallClock: () => wall.ms,
    campaigns: { store: campaigns, messages: campaigns, recipients: campaigns, jobs: campaigns, scheduler: { gateway, targetArn: 'local:job', roleArn: 'local:role', group: 'certalarm' } },
    bookings: new DynamoDbBookingStore(client, tableName),
  };
  const key = randomBytes(32);
  const app = createHttpApp({ ...deps, authenticate: async (req) => (req.headers.authorization === 'operator' ? OPERATOR : undefined), cursors: new CursorSeal(async () => key, 3600) });
  const post = async (path: string, body: unknown) => {
    const response = await app({ method: 'POST', path, query: {}, headers: { authorization: 'operator', 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: JSON.parse(response.body) as Record<string, unknown> };
  };
  const inbound = (from: string, text: string, receivedAt: DateTime = REPLIED) => receiveInboundSms(deps, { from, text, receivedAt });
  return {
    store,
    campaigns,
    suppressions,
    deliveries: new DynamoDbDeliveries(client, tableName),
    sms,
    deps,
    logLines,
    post,
    inbound,
    setNow: (instant: DateTime) => (now = instant),
    to: (phone: string) => sms.sent.filter((m) => m.to === phone),
  };
}

type World = Awaited<ReturnType<typeof world>>;

function expectNoUnmaskedPhone(w: World): void {
  expect(w.logLines.length).toBeGreaterThan(0);
  expect(w.logLines.filter((line) => UNMASKED_MOBILE.test(line))).toEqual([]);
}

function expectOneConfirmation(w: World, phone: string): void {
  const messages = w.to(phone);
  expect(messages).toHaveLength(1);
  const [confirmation] = messages;
  expect(confirmation?.body).toMatch(/^【兴国县行政审批局】您已退订.*如需恢复请致电0797-5321234。$/);
  expect(countSegments(confirmation?.body ?? '')).toBe(1);
}

/** Each keyword in a form a holder might type: case, width, spaces and punctuation around it. */
const BY_RECEIVE = [
  ['R', 'R'],
  ['T', 't。'],
  ['TD', ' ＴＤ '],
  ['N', 'n'],
  ['退订', '【退订】'],
  ['拒收', '拒收！'],
  ['取消订阅', '取消订阅'],
] as const;
const BY_ROUTE = [
  ['R', 'ｒ'],
  ['T', '“T”'],
  ['TD', ' td。'],
  ['N', 'N.'],
  ['退订', '退订!'],
  ['拒收', ' 拒收 '],
  ['取消订阅', '【取消订阅】'],
] as const;

describe('Opting out by SMS reply, against DynamoDB Local', () => {
  it('puts the sender on our list for every keyword through receiveInboundSms, with one signed one-segment confirmation each', async () => {
    // Prepare
    const w = await world('opt-out-receive');
    const phones = BY_RECEIVE.map((_, i) => `+86139000002${String(i).padStart(2, '0')}`);

    // Act
    const outcomes = await Promise.all(BY_RECEIVE.map(([, text], i) => w.inbound(phones[i] ?? '', text)));

    // Assess
    for (const [i, [keyword]] of BY_RECEIVE.entries()) {
      const phone = phones[i] ?? '';
      expect(outcomes[i]).toEqual({ action: 'optedOut', added: true, confirmation: 'sent' });
      expect(await w.suppressions.get(phone)).toEqual({ phone, source: 'sms-keyword', at: REPLIED.toISO(), detail: keyword });
      expectOneConfirmation(w, phone);
    }
    expectNoUnmaskedPhone(w);
  });

  it('puts the sender on our list for every keyword through POST /v1/inbound-sms', async () => {
    // Prepare
    const w = await world('opt-out-route');
    const phones = BY_ROUTE.map((_, i) => `139000003${String(i).padStart(2, '0')}`);

    // Act
    const answers = [];
    for (const [i, [, text]] of BY_ROUTE.entries()) answers.push(await w.post('/v1/inbound-sms', { from: phones[i], text, receivedAt: REPLIED.toISO() }));

    // Assess
    for (const [i, [keyword]] of BY_ROUTE.entries()) {
      const phone = `+86${phones[i] ?? ''}`;
      expect(answers[i]).toEqual({ status: 200, body: { action: 'optedOut', added: true, confirmation: 'sent' } });
      expect(await w.suppressions.get(phone)).toMatchObject({ source: 'sms-keyword', detail: keyword });
      expectOneConfirmation(w, phone);
    }
  });

  it('confirms once when the same reply arrives twice, and sends nothing more after it — not even the help reply', async () => {
    // Prepare
    const w = await world('opt-out-twice');
    const phone = '+8613900000401';

    // Act
    const first = await w.inbound(phone, '退订');
    const again = await w.inbound(phone, '退订');
    const laterKeyword = await w.inbound(phone, 'TD', REPLIED.plus({ days: 1 }));
    const gibberish = await w.inbound(phone, '你好，什么时候来？', REPLIED.plus({ days: 1 }));
    const unknownCode = await w.inbound(phone, 'ABC123 2', REPLIED.plus({ days: 2 }));

    // Assess
    expect(first).toEqual({ action: 'optedOut', added: true, confirmation: 'sent' });
    expect(again).toEqual({ action: 'optedOut', added: false, confirmation: 'alreadySent' });
    expect(laterKeyword).toEqual({ action: 'optedOut', added: false, confirmation: 'alreadySent' });
    expect(gibberish).toEqual({ action: 'help', reason: 'notUnderstood', reply: 'suppressed' });
    expect(unknownCode).toEqual({ action: 'help', reason: 'unknownCode', reply: 'suppressed' });
    expectOneConfirmation(w, phone);
    expectNoUnmaskedPhone(w);
  });

  it('confirms once when several replies arrive at the same moment', async () => {
    // Prepare
    const w = await world('opt-out-race');
    const phone = '+8613900000402';
    const texts = ['TD', '退订', 'T', 'td', 'N', '拒收'];

    // Act
    const outcomes = await Promise.all(texts.map((text, i) => w.inbound(phone, text, REPLIED.plus({ seconds: i }))));

    // Assess
    expect(outcomes.filter((o) => o.action === 'optedOut' && o.added)).toHaveLength(1);
    expect(outcomes.filter((o) => o.action === 'optedOut' && o.confirmation === 'sent')).toHaveLength(1);
    expectOneConfirmation(w, phone);
  });
});

describe('Sending to a suppressed number, against DynamoDB Local', () => {
  it('skips a due reminder, records it suppressed where GET /v1/deliveries finds it, settles the stage and counts it', async () => {
    // Prepare
    const w = await world('suppressed-reminder', [record(501), record(502)]);
    await w.suppressions.suppress('+8613900000501', { source: 'sms-keyword', at: REPLIED.toISO() ?? '', detail: 'TD' });

    // Act
    const preview = await previewDueReminders(w.deps, FIRST_DUE);
    const scan = await sendDueReminders(w.deps, FIRST_DUE);
    const rescan = await sendDueReminders(w.deps, FIRST_DUE.plus({ minutes: 15 }));

    // Assess
    expect(preview.messages.map((m) => [m.number, m.suppressed ?? false]).sort()).toEqual([
      ['TEST-000501', true],
      ['TEST-000502', false],
    ]);
    expect(scan).toMatchObject({ sent: 1, suppressed: 1, failed: 0, retryLater: 0 });
    expect(rescan).toMatchObject({ sent: 0, suppressed: 0, alreadySent: 0 });
    expect(w.sms.sent.map((m) => m.to)).toEqual(['+8613900000502']);
    const key = { type: 'pesticide_business_license', number: 'TEST-000501' };
    expect(await w.store.get({ key, expiresOn: '2026-12-20', stage: 'first' })).toMatchObject({ status: 'suppressed', messageId: undefined });
    const stored = await w.store.getCertificate(key);
    expect(stored?.plan.stages.find((s) => s.stage === 'first')).toMatchObject({ status: 'skipped', note: 'suppressed' });
    const listed = await w.deliveries.listDeliveries({ statuses: ['suppressed'], limit: 10 });
    expect(listed.items).toEqual([
      expect.objectContaining({ source: 'reminder', type: key.type, number: key.number, kind: 'first', to: '+8613900000501', status: 'suppressed', sentAt: FIRST_DUE.toISO() }),
    ]);
    expectNoUnmaskedPhone(w);
  });

  it('skips a campaign notice, a booking confirmation, a moved text and a day-before reminder, and counts them', async () => {
    // Prepare: two holders in the visit's township; the first opts out after the notices went out
    const w = await world('suppressed-campaign', [farmRecord(1), farmRecord(2), farmRecord(3)]);
    w.setNow(at('2026-12-01T10:00:00+08:00'));
    const campaign = await createCampaign(w.deps, OPERATOR, {
      name: '2027年春季农机上门服务',
      types: [INSPECTION, OPERATOR_LICENSE],
      season: { from: '2027-01-04', to: '2027-06-30' },
    });
    const visit = await addVisit(w.deps, OPERATOR, campaign.id, {
      township: '潋江镇',
      date: '2027-01-12',
      place: '潋江镇农机服务站',
      slots: [{ start: '09:00', end: '10:00', capacity: 20 }],
    });
    const job = (name: 'notice' | 'reminder' | 'moved', now: DateTime) => runCampaignJob(w.deps, { kind: 'campaignJob', campaignId: campaign.id, visitId: visit.id, job: name }, now);
    await w.suppressions.suppress('+8613900000003', { source: 'sns-opted-out', at: '2026-12-20T03:00:00.000Z' });

    // Act
    const notice = await job('notice', NOTICE_AT);
    const noticeAgain = await job('notice', NOTICE_AT.plus({ hours: 1 }));
    const codeOf = async (phone: string) => (await w.campaigns.getInvitation(campaign.id, visit.id, phone))?.code ?? '';
    const booked2 = await w.inbound('+8613900000002', `${await codeOf('+8613900000002')} 1`, at('2026-12-29T11:00:00+08:00'));
    const optOut = await w.inbound('+8613900000001', '退订', at('2026-12-29T11:30:00+08:00'));
    const booked1 = await w.inbound('+8613900000001', `${await codeOf('+8613900000001')} 1`, at('2026-12-29T12:00:00+08:00'));
    w.setNow(at('2026-12-30T10:00:00+08:00'));
    const moved = await moveVisit(w.deps, OPERATOR, campaign.id, visit.id, { date: '2027-01-19' });
    const movedText = await job('moved', at('2026-12-30T10:00:00+08:00'));
    const reminder = await job('reminder', at(moved.reminderAt ?? ''));

    // Assess
    expect(notice).toMatchObject({ outcome: 'done', phones: 3, sent: 2, suppressed: 1 });
    expect(noticeAgain).toMatchObject({ outcome: 'done', sent: 0, alreadySent: 3, suppressed: 0 });
    expect(booked2).toMatchObject({ action: 'booked', confirmation: 'sent' });
    expect(optOut).toMatchObject({ action: 'optedOut', confirmation: 'sent' });
    expect(booked1).toMatchObject({ action: 'booked', confirmation: 'suppressed' });
    expect(movedText).toMatchObject({ outcome: 'done', sent: 1, suppressed: 1 });
    expect(reminder).toMatchObject({ outcome: 'done', sent: 1, suppressed: 1 });
    expect(w.to('+8613900000003')).toEqual([]);
    // Holder 1: the notice before opting out, then the opt-out confirmation, and nothing after it.
    expect(w.to('+8613900000001').map((m) => m.campaign?.kind ?? 'opt-out confirmation')).toEqual(['notice', 'opt-out confirmation']);
    expect(w.to('+8613900000002').map((m) => m.campaign?.kind)).toEqual(['notice', 'confirmation#1', 'moved-1', 'reminder']);
    const messages = await w.campaigns.messagesOf(campaign.id, visit.id);
    expect(messages.filter((m) => m.status === 'suppressed').map((m) => `${m.phone.slice(-1)}:${m.kind}`).sort()).toEqual([
      '1:confirmation#1',
      '1:moved-1',
      '1:reminder',
      '3:notice',
    ]);
    expectNoUnmaskedPhone(w);
  });

  it('sends to a reinstated number again: its next reminder and the help reply', async () => {
    // Prepare: opted out, a reminder skipped, then an operator reinstates the number
    const w = await world('suppressed-reinstated', [record(601)]);
    const phone = '+8613900000601';
    await w.inbound(phone, 'TD');
    const skipped = await sendDueReminders(w.deps, FIRST_DUE);
    const removed = await w.suppressions.reinstate(phone);
    const uploaded = await uploadCertificates(w.deps, [record(602, { phone: '13900000601' })], FIRST_DUE);
    expect(uploaded.rejected).toEqual([]);

    // Act
    const scan = await sendDueReminders(w.deps, FIRST_DUE.plus({ minutes: 15 }));
    const help = await w.inbound(phone, '你好', FIRST_DUE);

    // Assess
    expect(skipped).toMatchObject({ sent: 0, suppressed: 1 });
    expect(removed).toMatchObject({ phone, source: 'sms-keyword' });
    expect(scan).toMatchObject({ sent: 1, suppressed: 0 });
    expect(help).toEqual({ action: 'help', reason: 'notUnderstood', reply: 'sent' });
    expect(w.to(phone).map((m) => (m.reminder !== undefined ? m.reminder.number : m.body.includes('您已退订') ? 'opt-out confirmation' : 'help'))).toEqual([
      'opt-out confirmation',
      'TEST-000602',
      'help',
    ]);
  });
});
