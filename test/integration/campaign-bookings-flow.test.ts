import { randomBytes } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { DynamoDbAuditLog } from '../../functions/adapters/aws/dynamodb/dynamodb-audit-log.js';
import { DynamoDbBookingStore } from '../../functions/adapters/aws/dynamodb/dynamodb-booking-store.js';
import { DynamoDbCalendarStore } from '../../functions/adapters/aws/dynamodb/dynamodb-calendar-store.js';
import { InProcessScheduleGateway } from '../../functions/adapters/local/in-process-schedule-gateway.js';
import { OutboxSmsSender } from '../../functions/adapters/local/outbox-sms-sender.js';
import { StoredCalendarSource } from '../../functions/app/calendar/stored-calendar.js';
import { CursorSeal } from '../../functions/app/cursors.js';
import { createHttpApp } from '../../functions/app/http/app.js';
import { silentLogger } from '../../functions/app/logger.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import type { Principal } from '../../functions/core/access.js';
import { BOOKING_CODE_ALPHABET } from '../../functions/core/campaigns/codes.js';
import { at, testSettings } from '../support/fixtures.js';
import { farmRecord, freshCampaignTable } from '../support/campaign-fixtures.js';

const CALLERS: Record<string, Principal> = {
  operator: { role: 'operator', subject: 'token:ops' },
  agriculture: { role: 'bureau', authority: 'agriculture_rural', subject: 'token:agri' },
  viewer: { role: 'viewer', subject: 'token:viewer' },
};

const HOLDER_1 = '+8613900000001';
const HOLDER_2 = '+8613900000002';

interface OutboxMessage {
  to: string;
  body: string;
  campaign?: { kind: string };
}

describe('A campaign from notice to report, through the HTTP API against DynamoDB Local', () => {
  it('books by SMS reply and by API after real notices, reminds only the holder still booked, records attendance and reports renewals', async () => {
    // Prepare: the API composed as the local service composes it, on a clock the test moves
    const { client, store, campaigns } = await freshCampaignTable('campaign-bookings-flow');
    let now = at('2026-12-01T10:00:00+08:00');
    const clock = { now: () => now };
    const reference = loadReferenceData();
    const calendars = new DynamoDbCalendarStore(client, store.tableName);
    const sms = new OutboxSmsSender(undefined, clock);
    const gateway = new InProcessScheduleGateway({ clock, jobs: campaigns, run: () => false, onError: () => undefined });
    const key = randomBytes(32);
    const app = createHttpApp({
      store,
      ledger: store,
      sms,
      reference,
      settings: testSettings(),
      logger: silentLogger,
      clock,
      calendars,
      calendarSource: new StoredCalendarSource({ calendars, bundled: reference.calendarYears, clock, logger: silentLogger }),
      replanSource: store,
      audit: new DynamoDbAuditLog(client, store.tableName),
      outbox: sms,
      authenticate: async (req) => CALLERS[req.headers.authorization ?? ''],
      cursors: new CursorSeal(async () => key, 3600),
      campaigns: { store: campaigns, messages: campaigns, recipients: campaigns, jobs: campaigns, scheduler: { gateway, targetArn: 'local:job', roleArn: 'local:role', group: 'certalarm' } },
      bookings: new DynamoDbBookingStore(client, store.tableName),
    });
    const call = async (who: string, method: string, path: string, body?: unknown, query: Record<string, string> = {}) => {
      const response = await app({ method, path, query, headers: { authorization: who, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      return { status: response.status, text: response.body, body: response.headers['content-type']?.startsWith('application/json') ? (JSON.parse(response.body) as Record<string, unknown>) : {} };
    };
    const campaignSms = () => (sms.list() as unknown as OutboxMessage[]).filter((m) => m.campaign !== undefined);
    expect((await call('operator', 'POST', '/v1/certificates', [farmRecord(1), farmRecord(2)])).body).toMatchObject({ accepted: 2 });
    const created = await call('operator', 'POST', '/v1/campaigns', {
      name: '2027年春季农机上门服务',
      types: ['farm_machine_annual_inspection', 'farm_machine_operator_license'],
      season: { from: '2027-01-04', to: '2027-06-30' },
      blackouts: [{ from: '2027-03-25', to: '2027-04-20', reason: '春季插秧' }],
    });
    const campaignId = created.body.id as string;
    const visit = await call('operator', 'POST', `/v1/campaigns/${campaignId}/visits`, {
      township: '潋江镇',
      date: '2027-01-12',
      place: '潋江镇农机服务站',
      slots: [
        { start: '09:00', end: '10:00', capacity: 20 },
        { start: '10:00', end: '11:00', capacity: 20 },
      ],
    });
    const visitId = visit.body.id as string;
    await call('operator', 'POST', '/v1/scans', { now: '2026-12-29T09:05:00+08:00' });
    const codeOf = (phone: string) =>
      new RegExp(`回复“([${BOOKING_CODE_ALPHABET}]{6}) 场次号”`).exec(campaignSms().find((m) => m.to === phone && m.campaign?.kind === 'notice')?.body ?? '')?.[1] ?? '';
    const [code1, code2] = [codeOf(HOLDER_1), codeOf(HOLDER_2)];
    expect(code1).toMatch(/^[2-9A-Z]{6}$/);

    // Act: holder 1 replies in full width; holder 2 is booked at the desk, tries holder 1's code, then cancels by SMS
    now = at('2026-12-30T20:15:00+08:00');
    const fullWidth = (text: string) => text.replace(/[A-Z0-9]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
    const byReply = await call('operator', 'POST', '/v1/inbound-sms', { from: '139 0000 0001', text: `${fullWidth(code1).toLowerCase()} 第２场`, receivedAt: now.toISO() });
    const atDesk = await call('agriculture', 'POST', `/v1/campaigns/${campaignId}/bookings`, { code: code2, slot: 1 });
    const foreign = await call('operator', 'POST', '/v1/inbound-sms', { from: HOLDER_2, text: `取消 ${code1}`, receivedAt: now.toISO() });
    const cancelled = await call('operator', 'POST', '/v1/inbound-sms', { from: HOLDER_2, text: `QX ${code2}`, receivedAt: now.toISO() });
    const reminders = await call('operator', 'POST', '/v1/scans', { now: '2027-01-11T09:05:00+08:00' });
    now = at('2027-01-12T10:20:00+08:00');
    const attendance = await call('agriculture', 'POST', `/v1/campaigns/${campaignId}/visits/${visitId}/attendance`, { code: code1, attended: true });
    await call('operator', 'POST', '/v1/certificates', [farmRecord(1, { issuedOn: '2027-01-12', expiresOn: '2028-01-11' })]);
    const report = await call('viewer', 'GET', `/v1/campaigns/${campaignId}/report`);
    const csv = await call('viewer', 'GET', `/v1/campaigns/${campaignId}/report`, undefined, { format: 'csv' });
    const view = await call('viewer', 'GET', `/v1/campaigns/${campaignId}`);

    // Assess
    expect(byReply.body).toMatchObject({ action: 'booked', bookingId: code1, slot: 2, confirmation: 'sent' });
    expect(atDesk).toMatchObject({ status: 201, body: { id: code2, slot: 1, start: '09:00', end: '10:00' } });
    expect(foreign.body).toMatchObject({ action: 'help', reason: 'notOwner' });
    expect(cancelled.body).toMatchObject({ action: 'cancelled', bookingId: code2 });
    expect(reminders.status).toBe(200);
    const sent = campaignSms().map((m) => `${m.to === HOLDER_1 ? 1 : 2}:${m.campaign?.kind ?? ''}`);
    // One of each, and no reminder for the booking cancelled before the day-before scan.
    expect([...sent].sort()).toEqual(['1:confirmation#1', '1:notice', '1:reminder', '2:cancellation#2', '2:confirmation#1', '2:notice']);
    expect(attendance.status).toBe(200);
    expect(report.body).toMatchObject({
      visits: [{ visitId, invitedPhones: 2, notices: { sent: 2, failed: 0 }, slots: [{ number: 1, booked: 0 }, { number: 2, booked: 1 }], booked: 1, attended: 1, renewedAfter: 1 }],
    });
    const rows = parse(csv.text, { bom: true }) as string[][];
    expect(rows[1]?.slice(0, 8)).toEqual(['潋江镇', '2027-01-12', '潋江镇农机服务站', '已安排', '2', '2', '0', '1']);
    expect(view.body).toMatchObject({ visits: [{ booked: 1, slots: [{ number: 1, booked: 0 }, { number: 2, booked: 1 }] }] });
  });
});
