import { randomBytes } from 'node:crypto';
import type { DateTime } from 'luxon';
import { parse } from 'csv-parse/sync';
import { beforeEach, describe, expect, it } from 'vitest';
import { InProcessScheduleGateway } from '../../functions/adapters/local/in-process-schedule-gateway.js';
import { DynamoDbAuditLog } from '../../functions/adapters/aws/dynamodb/dynamodb-audit-log.js';
import { DynamoDbBookingStore } from '../../functions/adapters/aws/dynamodb/dynamodb-booking-store.js';
import type { DynamoDbCampaignStore } from '../../functions/adapters/aws/dynamodb/dynamodb-campaign-store.js';
import type { DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { CursorSeal } from '../../functions/app/cursors.js';
import { createHttpApp, type HttpApp } from '../../functions/app/http/app.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import type { Principal } from '../../functions/core/access.js';
import { bookingHelpText } from '../../functions/core/campaigns/booking-texts.js';
import { BOOKING_CODE_ALPHABET } from '../../functions/core/campaigns/codes.js';
import { REPORT_CSV_HEADER } from '../../functions/core/campaigns/report.js';
import type { Visit } from '../../functions/core/campaigns/model.js';
import { farmRecord, freshCampaignTable, INSPECTION, lianjiangVisit, springCampaign } from '../support/campaign-fixtures.js';
import { at, RecordingSender, scanDeps, testSettings } from '../support/fixtures.js';

const CAMPAIGN = 'cmp_spring2027';
const VISIT = 'v_lianjiang';
/** Two weeks before the visit of 2027-01-12: the notice has gone out, bookings come in. */
const NOTICE_DAY = at('2026-12-29T10:00:00+08:00');

const CALLERS: Record<string, Principal> = {
  operator: { role: 'operator', subject: 'token:operator' },
  agriculture: { role: 'bureau', authority: 'agriculture_rural', subject: 'token:agri' },
  market: { role: 'bureau', authority: 'market_regulation', subject: 'token:market' },
  viewer: { role: 'viewer', subject: 'token:viewer' },
};

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  body: Record<string, unknown>;
}

/** Codes `2222A2`, `2222A3`…: valid booking codes, distinct per serial. */
function codeOf(serial: number): string {
  const a = BOOKING_CODE_ALPHABET;
  return `2222${a[Math.floor(serial / a.length) % a.length]}${a[serial % a.length]}`;
}

const phoneOf = (serial: number) => `+861390000${String(serial).padStart(4, '0')}`;

let now: DateTime;
let campaigns: DynamoDbCampaignStore;
let store: DynamoDbStore;
let bookings: DynamoDbBookingStore;
let audit: DynamoDbAuditLog;
let sms: RecordingSender;
let app: HttpApp;

async function call(caller: string, method: string, path: string, options: { body?: unknown; query?: Record<string, string> } = {}): Promise<Answer> {
  const response = await app({
    method,
    path,
    query: options.query ?? {},
    headers: { authorization: caller, 'content-type': 'application/json' },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const isJson = (response.headers['content-type'] ?? '').startsWith('application/json');
  return { status: response.status, headers: response.headers, text: response.body, body: isJson ? (JSON.parse(response.body) as Record<string, unknown>) : {} };
}

const book = (code: string, slot: number, caller = 'operator') => call(caller, 'POST', `/v1/campaigns/${CAMPAIGN}/bookings`, { body: { code, slot } });
const inbound = (from: string, text: string, receivedAt = now) => call('operator', 'POST', '/v1/inbound-sms', { body: { from, text, receivedAt: receivedAt.toISO() } });

/** A visit with `invited` phones, each with a code and one farm-machine certificate, as the notice job leaves it. */
async function seedVisit(invited: number, visit: Partial<Visit> = {}): Promise<void> {
  await campaigns.createCampaign(springCampaign());
  await campaigns.createVisit(lianjiangVisit(visit));
  const records = Array.from({ length: invited }, (_, i) => farmRecord(i + 1));
  const uploaded = await uploadCertificates({ store, reference: loadReferenceData(), settings: testSettings() }, records, at('2026-12-01T10:00:00+08:00'));
  expect(uploaded.rejected).toEqual([]);
  await Promise.all(
    Array.from({ length: invited }, async (_, i) => {
      const serial = i + 1;
      const phone = phoneOf(serial);
      expect(await campaigns.reserveBookingCode({ campaignId: CAMPAIGN, code: codeOf(serial), visitId: VISIT, phone })).toBe(true);
      await campaigns.putInvitation({
        campaignId: CAMPAIGN, visitId: VISIT, phone, code: codeOf(serial), count: 1, createdAt: NOTICE_DAY.toISO() ?? '',
        certificates: [{ type: INSPECTION, number: `NJ-${String(serial).padStart(5, '0')}`, expiresOn: '2027-02-09' }],
      });
    }),
  );
}

async function slotCounts(): Promise<number[]> {
  return ((await campaigns.getVisit(CAMPAIGN, VISIT))?.slots ?? []).map((s) => s.booked);
}

beforeEach(async () => {
  now = NOTICE_DAY;
  const table = await freshCampaignTable('bookings');
  campaigns = table.campaigns;
  store = table.store;
  bookings = new DynamoDbBookingStore(table.client, table.campaigns.tableName);
  audit = new DynamoDbAuditLog(table.client, table.campaigns.tableName);
  sms = new RecordingSender();
  const key = randomBytes(32);
  // Bookings schedule nothing; the visits in these tests are written straight to the store.
  const gateway = new InProcessScheduleGateway({ clock: { now: () => now }, jobs: campaigns, run: () => false, onError: () => undefined });
  app = createHttpApp({
    ...scanDeps(store, sms),
    clock: { now: () => now },
    authenticate: async (req) => CALLERS[req.headers.authorization ?? ''],
    cursors: new CursorSeal(async () => key, 3600),
    campaigns: { store: campaigns, messages: campaigns, recipients: campaigns, scheduler: { gateway, targetArn: 'local:job', roleArn: 'local:role', group: 'certalarm' } },
    bookings,
    audit,
  });
});

describe('Bookings through the HTTP API against DynamoDB Local', () => {
  it('holds a slot of 20 to exactly 20 bookings when 50 holders book it at once, and names the slots with room', async () => {
    // Prepare
    await seedVisit(50);

    // Act
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => book(codeOf(i + 1), 1)));

    // Assess
    expect(answers.filter((a) => a.status === 201)).toHaveLength(20);
    const refused = answers.filter((a) => a.status === 409);
    expect(refused).toHaveLength(30);
    expect(refused[0]?.body).toMatchObject({ error: { code: 'slot_full', details: { slotsWithRoom: [{ number: 2, start: '10:00', end: '11:00', room: 20 }] } } });
    expect(await slotCounts()).toEqual([20, 0]);
    expect(await campaigns.bookingsOf(CAMPAIGN)).toHaveLength(20);
    expect(sms.sent).toHaveLength(20);
  });

  it('answers 201 with the booking, sends a confirmation naming date, time and place, and audits it', async () => {
    // Prepare
    await seedVisit(1);

    // Act
    const answer = await book(codeOf(1).toLowerCase(), 2, 'agriculture');

    // Assess
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ id: codeOf(1), visit: VISIT, slot: 2, start: '10:00', end: '11:00', confirmation: 'sent' });
    expect(sms.sent.map((m) => m.to)).toEqual([phoneOf(1)]);
    expect(sms.sent[0]?.body).toContain('2027年1月12日 10:00-11:00');
    expect(sms.sent[0]?.body).toContain('潋江镇农机服务站');
    expect(await campaigns.getMessage({ campaignId: CAMPAIGN, visitId: VISIT, phone: phoneOf(1), kind: 'confirmation#1' })).toMatchObject({ status: 'sent' });
    expect((await audit.list({ limit: 10 })).items).toEqual([expect.objectContaining({ actor: 'token:agri', action: 'campaign.booking' })]);
  });

  it('moves a booking booked again with the same code, freeing the old slot, with a confirmation of its own', async () => {
    // Prepare
    await seedVisit(1);
    await book(codeOf(1), 1);

    // Act
    const moved = await book(codeOf(1), 2);
    const again = await book(codeOf(1), 2);

    // Assess
    expect(moved.status).toBe(201);
    expect(moved.body).toMatchObject({ slot: 2, movedFrom: 1 });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ slot: 2, confirmation: 'unchanged' });
    expect(await slotCounts()).toEqual([0, 1]);
    expect(sms.sent.map((m) => m.body.includes('10:00-11:00'))).toEqual([false, true]);
  });

  it('cancels a booking and frees its slot; cancelling again is 404; booking again gets a new confirmation', async () => {
    // Prepare
    await seedVisit(1);
    await book(codeOf(1), 1);

    // Act
    const cancelled = await call('operator', 'DELETE', `/v1/campaigns/${CAMPAIGN}/bookings/${codeOf(1)}`);
    const counts = await slotCounts();
    const heldAfterCancel = await campaigns.bookingsOf(CAMPAIGN);
    const twice = await call('operator', 'DELETE', `/v1/campaigns/${CAMPAIGN}/bookings/${codeOf(1)}`);
    const rebooked = await book(codeOf(1), 1);

    // Assess
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: codeOf(1), state: 'cancelled', confirmation: 'sent' });
    expect(counts).toEqual([0, 0]);
    // The day-before reminder reads bookingsOf: a cancelled booking must not be among them.
    expect(heldAfterCancel).toEqual([]);
    expect(twice.status).toBe(404);
    expect(rebooked.status).toBe(201);
    expect(await slotCounts()).toEqual([1, 0]);
    expect(sms.sent).toHaveLength(3);
    expect(sms.sent[1]?.body).toContain('已取消');
    expect(await campaigns.getMessage({ campaignId: CAMPAIGN, visitId: VISIT, phone: phoneOf(1), kind: 'confirmation#3' })).toMatchObject({ status: 'sent' });
  });

  it('answers 404 for an unknown code and 400 for a slot the visit does not have', async () => {
    // Prepare
    await seedVisit(1);

    // Act
    const unknown = await book('ZZZZZZ', 1);
    const noSlot = await book(codeOf(1), 7);

    // Assess
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { message: expect.stringContaining('ZZZZZZ') } });
    expect(noSlot.status).toBe(400);
    expect(noSlot.body).toMatchObject({ error: { code: 'unknown_slot', details: { slots: [1, 2] } } });
  });

  it('refuses a booking on a cancelled visit and on a past visit, saying why', async () => {
    // Prepare
    await seedVisit(2, { state: 'cancelled' });

    // Act
    const onCancelled = await book(codeOf(1), 1);
    await campaigns.saveVisit(lianjiangVisit({ state: 'scheduled' }), 1);
    now = at('2027-01-13T09:00:00+08:00');
    const onPast = await book(codeOf(2), 1);

    // Assess
    expect(onCancelled.status).toBe(409);
    expect(onCancelled.body).toMatchObject({ error: { code: 'visit_cancelled', message: expect.stringContaining('已取消') } });
    expect(onPast.status).toBe(409);
    expect(onPast.body).toMatchObject({ error: { code: 'visit_past', message: expect.stringContaining('2027-01-12') } });
    expect(await slotCounts()).toEqual([0, 0]);
  });

  it("refuses a viewer and a bureau that does not issue the campaign's types", async () => {
    // Prepare
    await seedVisit(1);

    // Act
    const viewer = await book(codeOf(1), 1, 'viewer');
    const market = await book(codeOf(1), 1, 'market');

    // Assess
    expect(viewer.status).toBe(403);
    expect(market.status).toBe(403);
    expect(market.body).toMatchObject({ error: { message: expect.stringContaining('issued by market_regulation') } });
  });
});

describe('Inbound SMS against DynamoDB Local', () => {
  it('books from a full-width reply with 第…场 and confirms date, time and place to the sender', async () => {
    // Prepare
    await seedVisit(1);
    const fullWidth = codeOf(1).replace(/[A-Z0-9]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

    // Act
    const answer = await inbound('13900000001', `${fullWidth}\u3000第２场。`);

    // Assess
    expect(answer.body).toMatchObject({ action: 'booked', campaignId: CAMPAIGN, bookingId: codeOf(1), slot: 2, confirmation: 'sent' });
    expect(sms.sent).toHaveLength(1);
    expect(sms.sent[0]).toMatchObject({ to: phoneOf(1), body: expect.stringContaining('2027年1月12日 10:00-11:00') });
    expect(sms.sent[0]?.body).toContain('潋江镇农机服务站');
    expect(await slotCounts()).toEqual([0, 1]);
  });

  it('moves with a second reply and cancels with 取消 and QX, each confirmed once', async () => {
    // Prepare
    await seedVisit(1);

    // Act
    const first = await inbound(phoneOf(1), `${codeOf(1)} 1`);
    const moved = await inbound(phoneOf(1), `${codeOf(1).toLowerCase()} 2`);
    const cancelled = await inbound(phoneOf(1), `取消 ${codeOf(1)}`);
    const again = await inbound(phoneOf(1), `qx ${codeOf(1)}`);

    // Assess
    expect([first.body.action, moved.body.action, cancelled.body.action]).toEqual(['booked', 'moved', 'cancelled']);
    expect(again.body).toMatchObject({ action: 'help', reason: 'refused' });
    expect(await slotCounts()).toEqual([0, 0]);
    expect(sms.sent.map((m) => m.body.slice(10, 14))).toEqual(['预约成功', '预约成功', '已取消您', '预约上门']);
  });

  it("refuses someone else's code with the generic help text and books nothing", async () => {
    // Prepare
    await seedVisit(2);

    // Act
    const answer = await inbound(phoneOf(2), `${codeOf(1)} 1`);

    // Assess
    expect(answer.body).toMatchObject({ action: 'help', reason: 'notOwner', reply: 'sent' });
    expect(await slotCounts()).toEqual([0, 0]);
    expect(sms.sent).toHaveLength(1);
    expect(sms.sent[0]?.to).toBe(phoneOf(2));
    // Nothing in the reply about the code's visit or holder.
    expect(sms.sent[0]?.body).not.toMatch(/潋江|2027年|1390000|0001/u);
    expect(sms.sent[0]?.body).toBe(bookingHelpText().body);
  });

  it('answers anything else with at most one help reply per phone and day, even for two messages at once', async () => {
    // Prepare
    await seedVisit(1);

    // Act
    const together = await Promise.all([inbound(phoneOf(1), '你好'), inbound(phoneOf(1), '什么时候来？')]);
    const later = await inbound(phoneOf(1), 'ZZZZZZ 1', now.plus({ hours: 5 }));
    const nextDay = await inbound(phoneOf(1), '在吗', now.plus({ days: 1 }));

    // Assess
    expect(together.map((a) => a.body.reply).sort()).toEqual(['sent', 'skipped']);
    expect(later.body).toMatchObject({ action: 'help', reason: 'unknownCode', reply: 'skipped' });
    expect(nextDay.body).toMatchObject({ reply: 'sent' });
    expect(sms.sent).toHaveLength(2);
    expect(sms.sent[0]?.body).toContain('预约码 场次号');
  });

  it('lets only operators feed in an SMS by hand', async () => {
    // Act
    const answer = await call('viewer', 'POST', '/v1/inbound-sms', { body: { from: phoneOf(1), text: 'x' } });

    // Assess
    expect(answer.status).toBe(403);
  });
});

describe('Attendance and the report against DynamoDB Local', () => {
  it('records attendance on the booking and audits it; refuses another visit, an unknown code and a viewer', async () => {
    // Prepare
    await seedVisit(1);
    await book(codeOf(1), 1);
    now = at('2027-01-12T09:30:00+08:00');

    // Act
    const recorded = await call('agriculture', 'POST', `/v1/campaigns/${CAMPAIGN}/visits/${VISIT}/attendance`, { body: { code: codeOf(1), attended: true } });
    const otherVisit = await call('operator', 'POST', `/v1/campaigns/${CAMPAIGN}/visits/v_other/attendance`, { body: { code: codeOf(1), attended: true } });
    const unknown = await call('operator', 'POST', `/v1/campaigns/${CAMPAIGN}/visits/${VISIT}/attendance`, { body: { code: 'ZZZZZZ', attended: true } });
    const viewer = await call('viewer', 'POST', `/v1/campaigns/${CAMPAIGN}/visits/${VISIT}/attendance`, { body: { code: codeOf(1), attended: false } });

    // Assess
    expect(recorded.status).toBe(200);
    expect(recorded.body).toMatchObject({ id: codeOf(1), attended: true, recordedBy: 'token:agri' });
    expect(await bookings.getBooking(CAMPAIGN, codeOf(1))).toMatchObject({ attended: true, attendanceBy: 'token:agri' });
    expect(otherVisit.status).toBe(409);
    expect(unknown.status).toBe(404);
    expect(viewer.status).toBe(403);
    expect((await audit.list({ limit: 10 })).items.map((e) => e.action)).toContain('campaign.attendance');
  });

  it('reports invited phones, notices, bookings per slot, attendance and renewals, as JSON and as CSV for Excel', async () => {
    // Prepare: 4 invited; notices 3 sent and 1 failed; 3 bookings (2 in slot 1); 1 attended; 1 renewed
    await seedVisit(4);
    for (const serial of [1, 2, 3, 4]) {
      const id = { campaignId: CAMPAIGN, visitId: VISIT, phone: phoneOf(serial), kind: 'notice' };
      await campaigns.claimMessage(id, 't', Date.now() + 60_000, Date.now());
      if (serial === 4) await campaigns.recordMessageFailed(id, 't', 'opted out', NOTICE_DAY.toISO() ?? '');
      else await campaigns.recordMessageSent(id, 't', { messageId: `m${serial}`, sentAt: NOTICE_DAY.toISO() ?? '', to: phoneOf(serial), body: '通知', segments: 2 });
    }
    await book(codeOf(1), 1);
    await book(codeOf(2), 1);
    await book(codeOf(3), 2);
    now = at('2027-01-12T09:30:00+08:00');
    await call('operator', 'POST', `/v1/campaigns/${CAMPAIGN}/visits/${VISIT}/attendance`, { body: { code: codeOf(1), attended: true } });
    const renewal = await uploadCertificates({ store, reference: loadReferenceData(), settings: testSettings() }, [farmRecord(1, { issuedOn: '2027-01-12', expiresOn: '2028-01-11' })], now);
    expect(renewal.renewed).toBe(1);

    // Act
    const report = await call('viewer', 'GET', `/v1/campaigns/${CAMPAIGN}/report`);
    const csv = await call('viewer', 'GET', `/v1/campaigns/${CAMPAIGN}/report`, { query: { format: 'csv' } });

    // Assess
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({
      campaignId: CAMPAIGN,
      visits: [
        {
          visitId: VISIT, townshipName: '潋江镇', invitedPhones: 4, notices: { sent: 3, failed: 1 },
          slots: [{ number: 1, booked: 2, capacity: 20 }, { number: 2, booked: 1, capacity: 20 }],
          booked: 3, attended: 1, renewedAfter: 1,
        },
      ],
    });
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toBe(`attachment; filename="campaign-${CAMPAIGN}-report.csv"`);
    expect(csv.text.startsWith('\uFEFF')).toBe(true);
    expect(csv.text.includes('\r\n')).toBe(true);
    expect(parse(csv.text, { bom: true })).toEqual([
      [...REPORT_CSV_HEADER],
      ['潋江镇', '2027-01-12', '潋江镇农机服务站', '已安排', '4', '3', '1', '3', '第1场 09:00-10:00：2/20；第2场 10:00-11:00：1/20', '1', '1'],
    ]);
  });

  it('answers 404 for a report of a campaign that does not exist', async () => {
    // Act & Assess
    expect((await call('operator', 'GET', '/v1/campaigns/cmp_none/report')).status).toBe(404);
  });
});
