import { randomBytes } from 'node:crypto';
import type { DateTime } from 'luxon';
import { describe, expect, it, vi } from 'vitest';
import { DynamoDbAuditLog } from '../../functions/adapters/aws/dynamodb/dynamodb-audit-log.js';
import { DynamoDbBookingStore } from '../../functions/adapters/aws/dynamodb/dynamodb-booking-store.js';
import { DynamoDbCalendarStore } from '../../functions/adapters/aws/dynamodb/dynamodb-calendar-store.js';
import type { DynamoDbCampaignStore } from '../../functions/adapters/aws/dynamodb/dynamodb-campaign-store.js';
import { InProcessScheduleGateway } from '../../functions/adapters/local/in-process-schedule-gateway.js';
import { OutboxSmsSender } from '../../functions/adapters/local/outbox-sms-sender.js';
import { StoredCalendarSource } from '../../functions/app/calendar/stored-calendar.js';
import { CursorSeal } from '../../functions/app/cursors.js';
import { createHttpApp, type HttpApp } from '../../functions/app/http/app.js';
import { silentLogger } from '../../functions/app/logger.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import type { Principal } from '../../functions/core/access.js';
import { at, testSettings } from '../support/fixtures.js';
import { farmRecord, freshCampaignTable, OPERATOR_LICENSE } from '../support/campaign-fixtures.js';

const CALLERS: Record<string, Principal> = {
  operator: { role: 'operator', subject: 'token:ops' },
  viewer: { role: 'viewer', subject: 'token:viewer' },
  agriculture: { role: 'bureau', authority: 'agriculture_rural', subject: 'token:agri' },
  market: { role: 'bureau', authority: 'market_regulation', subject: 'token:market' },
};

const SPRING = {
  name: '2027年春季农机上门服务',
  types: ['farm_machine_annual_inspection', OPERATOR_LICENSE],
  season: { from: '2027-01-04', to: '2027-06-30' },
  blackouts: [{ from: '2027-03-25', to: '2027-04-20', reason: '春季插秧' }],
};
const VISIT = {
  township: 'lianjiang',
  date: '2027-01-12',
  place: '潋江镇农机服务站',
  slots: [
    { start: '09:00', end: '10:00', capacity: 20 },
    { start: '10:00', end: '11:00', capacity: 20 },
  ],
};

interface Service {
  call(who: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  campaigns: DynamoDbCampaignStore;
  setNow(instant: DateTime): void;
}

/** The HTTP API composed as the local service composes it, on a clock the test moves. */
async function service(prefix: string): Promise<Service> {
  const { client, store, campaigns } = await freshCampaignTable(prefix);
  let now = at('2026-12-01T10:00:00+08:00');
  const clock = { now: () => now };
  const reference = loadReferenceData();
  const calendars = new DynamoDbCalendarStore(client, store.tableName);
  const sms = new OutboxSmsSender(undefined, clock);
  const gateway = new InProcessScheduleGateway({ clock, jobs: campaigns, run: () => false, onError: () => undefined });
  const key = randomBytes(32);
  const app: HttpApp = createHttpApp({
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
  return {
    campaigns,
    setNow: (instant) => (now = instant),
    async call(who, method, path, body) {
      const response = await app({ method, path, query: {}, headers: { authorization: who, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      return { status: response.status, body: JSON.parse(response.body) as Record<string, unknown> };
    },
  };
}

/** Two holders in 潋江镇 (the first with two machines), a spring campaign and its visit on 12 January. */
async function campaignWithVisit(api: Service): Promise<{ campaignId: string; visitId: string }> {
  await api.call('operator', 'POST', '/v1/certificates', [
    farmRecord(1),
    farmRecord(1, { type: OPERATOR_LICENSE, number: 'JS-00001', issuedOn: '2021-03-01', expiresOn: '2027-03-01' }),
    farmRecord(2),
  ]);
  const campaignId = (await api.call('operator', 'POST', '/v1/campaigns', SPRING)).body.id as string;
  const visitId = (await api.call('operator', 'POST', `/v1/campaigns/${campaignId}/visits`, VISIT)).body.id as string;
  return { campaignId, visitId };
}

type OutboxMessage = { to: string; body: string; campaign?: { kind: string } };

const EDIT = { expectedVersion: 1, comment: '县局要求元旦后再通知', noticeDaysBefore: 10, reminderDaysBefore: 2 };
// 14 and 1 days before 12 January at 09:00, and after the edit 10 and 2 days before.
const OLD_NOTICE = '2026-12-29T09:00:00.000+08:00';
const NEW_NOTICE = '2027-01-02T09:00:00.000+08:00';
const NEW_REMINDER = '2027-01-10T09:00:00.000+08:00';

/** The edit saves the campaign, then the process dies before the first visit is re-timed. */
async function crashedEdit(api: Service, campaignId: string): Promise<void> {
  api.setNow(at('2026-12-02T10:00:00+08:00'));
  const saveVisit = vi.spyOn(api.campaigns, 'saveVisit').mockRejectedValueOnce(new Error('process died'));
  const crashed = await api.call('operator', 'PATCH', `/v1/campaigns/${campaignId}`, EDIT);
  saveVisit.mockRestore();
  expect(crashed.status).toBe(500);
  const read = await api.call('viewer', 'GET', `/v1/campaigns/${campaignId}`);
  expect(read.body).toMatchObject({ version: 2, noticeDaysBefore: 10, reminderDaysBefore: 2 });
  expect(read.body.visits).toEqual([expect.objectContaining({ noticeAt: OLD_NOTICE })]);
}

async function notices(api: Service): Promise<OutboxMessage[]> {
  return ((await api.call('operator', 'GET', '/v1/outbox')).body as unknown as OutboxMessage[]).filter((m) => m.campaign?.kind === 'notice');
}

describe('HTTP API: a campaign edit that crashed after saving the campaign', () => {
  it('re-times the visits when the same edit is retried, and answers the retry as the edit would have', async () => {
    // Prepare
    const api = await service('campaign-edit-crash-retry');
    const { campaignId, visitId } = await campaignWithVisit(api);
    await crashedEdit(api, campaignId);

    // Act
    const retried = await api.call('operator', 'PATCH', `/v1/campaigns/${campaignId}`, EDIT);
    const jobs = await api.campaigns.pendingJobs();
    const read = await api.call('viewer', 'GET', `/v1/campaigns/${campaignId}`);

    // Assess
    expect(retried).toMatchObject({
      status: 200,
      body: { id: campaignId, version: 2, visits: [{ id: visitId, noticeAt: NEW_NOTICE, reminderAt: NEW_REMINDER, retimed: { notice: true, reminder: true } }] },
    });
    expect(jobs.map((j) => [j.name.split('-')[1], j.at]).sort()).toEqual([
      ['notice', '2027-01-02T01:00:00.000Z'],
      ['reminder', '2027-01-10T01:00:00.000Z'],
    ]);
    expect(read.body).toMatchObject({ version: 2 });
    expect(read.body.visits).toEqual([expect.objectContaining({ noticeAt: NEW_NOTICE, reminderAt: NEW_REMINDER })]);
  });

  it('re-times the visits when their old notice job comes due, sending nothing then and the notices at the new instant', async () => {
    // Prepare
    const api = await service('campaign-edit-crash-job');
    const { campaignId } = await campaignWithVisit(api);
    await crashedEdit(api, campaignId);

    // Act
    const atOldInstant = await api.call('operator', 'POST', '/v1/scans', { now: '2026-12-29T09:05:00+08:00' });
    const sentAtOld = await notices(api);
    const read = await api.call('viewer', 'GET', `/v1/campaigns/${campaignId}`);
    const jobs = await api.campaigns.pendingJobs();
    await api.call('operator', 'POST', '/v1/scans', { now: '2027-01-02T09:05:00+08:00' });
    const sentAtNew = await notices(api);

    // Assess
    expect(atOldInstant.status).toBe(200);
    expect(sentAtOld).toEqual([]);
    expect(read.body.visits).toEqual([expect.objectContaining({ noticeAt: NEW_NOTICE, reminderAt: NEW_REMINDER })]);
    expect(jobs.map((j) => [j.name.split('-')[1], j.at]).sort()).toEqual([
      ['notice', '2027-01-02T01:00:00.000Z'],
      ['reminder', '2027-01-10T01:00:00.000Z'],
    ]);
    expect(sentAtNew.map((m) => m.to).sort()).toEqual(['+8613900000001', '+8613900000002']);
  });

  it('finishes the crashed edit’s re-timing before the next edit plans on the visits', async () => {
    // Prepare
    const api = await service('campaign-edit-crash-next');
    const { campaignId } = await campaignWithVisit(api);
    await crashedEdit(api, campaignId);

    // Act
    const next = await api.call('operator', 'PATCH', `/v1/campaigns/${campaignId}`, { expectedVersion: 2, comment: '改名', name: '春季上门服务' });
    const read = await api.call('viewer', 'GET', `/v1/campaigns/${campaignId}`);

    // Assess
    expect(next).toMatchObject({ status: 200, body: { version: 3 } });
    expect(read.body.visits).toEqual([expect.objectContaining({ noticeAt: NEW_NOTICE, reminderAt: NEW_REMINDER })]);
  });
});
