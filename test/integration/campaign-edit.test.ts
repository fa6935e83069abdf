import { randomBytes } from 'node:crypto';
import type { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
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
import { DEFAULT_SIGNATURE } from '../../functions/core/sms.js';
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
const SHORT_TEMPLATE = '{township}农机上门服务：{date}在{place}，场次{slots}。回复“{code} 场次号”预约，截止{deadline}。';
const REMINDER_TEMPLATE = '明天{date}{township}农机上门服务，第{slot}场{start}-{end}，地点{place}，预约码{code}。';

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

describe('HTTP API: editing a campaign', () => {
  it('re-times the visit’s unsent notice and reminder, moves the stored jobs, audits the change, and sends both at their new instants with the new texts', async () => {
    // Prepare
    const api = await service('campaign-edit');
    const { campaignId, visitId } = await campaignWithVisit(api);
    const read = await api.call('viewer', 'GET', `/v1/campaigns/${campaignId}`);

    // Act
    api.setNow(at('2026-12-02T10:00:00+08:00'));
    const edited = await api.call('agriculture', 'PATCH', `/v1/campaigns/${campaignId}`, {
      expectedVersion: read.body.version,
      comment: '县局要求元旦后再通知',
      noticeDaysBefore: 10,
      reminderDaysBefore: 2,
      template: SHORT_TEMPLATE,
      reminderTemplate: REMINDER_TEMPLATE,
    });
    const jobs = await api.campaigns.pendingJobs();
    const stale = await api.call('operator', 'PATCH', `/v1/campaigns/${campaignId}`, { expectedVersion: read.body.version, comment: '改名', name: '春季上门服务' });
    const after = await api.call('viewer', 'GET', `/v1/campaigns/${campaignId}`);
    const audit = await api.call('operator', 'GET', '/v1/audit');
    const atOldInstant = await api.call('operator', 'POST', '/v1/scans', { now: '2026-12-29T09:05:00+08:00' });
    const noticesBefore = ((await api.call('operator', 'GET', '/v1/outbox')).body as unknown as OutboxMessage[]).filter((m) => m.campaign?.kind === 'notice');
    const atNewInstant = await api.call('operator', 'POST', '/v1/scans', { now: '2027-01-02T09:05:00+08:00' });
    const notices = ((await api.call('operator', 'GET', '/v1/outbox')).body as unknown as OutboxMessage[]).filter((m) => m.campaign?.kind === 'notice');
    const code = /回复“([A-Z2-9]{6}) /.exec(notices.find((n) => n.to === '+8613900000001')?.body ?? '')?.[1] ?? '-';
    api.setNow(at('2027-01-03T10:00:00+08:00'));
    const booked = await api.call('operator', 'POST', `/v1/campaigns/${campaignId}/bookings`, { code, slot: 2 });
    await api.call('operator', 'POST', '/v1/scans', { now: '2027-01-10T09:05:00+08:00' });
    const reminders = ((await api.call('operator', 'GET', '/v1/outbox')).body as unknown as OutboxMessage[]).filter((m) => m.campaign?.kind === 'reminder');

    // Assess
    expect(read.body.version).toBe(1);
    expect(edited).toMatchObject({
      status: 200,
      body: {
        id: campaignId,
        version: 2,
        changes: { noticeDaysBefore: { from: 14, to: 10 }, reminderDaysBefore: { from: 1, to: 2 }, noticeTemplate: { from: null, to: SHORT_TEMPLATE }, reminderTemplate: { from: null, to: REMINDER_TEMPLATE } },
        visits: [{ id: visitId, noticeAt: '2027-01-02T09:00:00.000+08:00', reminderAt: '2027-01-10T09:00:00.000+08:00', retimed: { notice: true, reminder: true } }],
      },
    });
    expect(jobs.map((j) => [j.name.split('-')[1], j.at]).sort()).toEqual([
      ['notice', '2027-01-02T01:00:00.000Z'],
      ['reminder', '2027-01-10T01:00:00.000Z'],
    ]);
    expect(stale).toMatchObject({ status: 409, body: { error: { code: 'conflict', message: expect.stringContaining(`campaign ${campaignId} is at version 2, not the 1 you read`) } } });
    expect(after.body).toMatchObject({ version: 2, noticeDaysBefore: 10, reminderDaysBefore: 2, noticeTemplate: SHORT_TEMPLATE, changedBy: 'token:agri', comment: '县局要求元旦后再通知' });
    expect(after.body.visits).toEqual([expect.objectContaining({ id: visitId, noticeAt: '2027-01-02T09:00:00.000+08:00', reminderAt: '2027-01-10T09:00:00.000+08:00' })]);
    expect((audit.body.items as Array<Record<string, unknown>>)[0]).toMatchObject({ action: 'campaign.edit', actor: 'token:agri', target: `campaign/${campaignId}`, summary: expect.stringContaining('县局要求元旦后再通知') });
    expect(atOldInstant.status).toBe(200);
    expect(noticesBefore).toEqual([]);
    expect(atNewInstant.status).toBe(200);
    expect(notices.map((m) => m.to).sort()).toEqual(['+8613900000001', '+8613900000002']);
    for (const notice of notices) {
      expect(notice.body).toMatch(new RegExp(`^${DEFAULT_SIGNATURE}潋江镇农机上门服务：2027年1月12日在潋江镇农机服务站，场次1）09:00-10:00；2）10:00-11:00。回复“[A-Z2-9]{6} 场次号”预约，截止2027年1月11日。$`));
    }
    expect(booked.status).toBe(201);
    expect(reminders).toEqual([expect.objectContaining({ to: '+8613900000001', body: `${DEFAULT_SIGNATURE}明天2027年1月12日潋江镇农机上门服务，第2场10:00-11:00，地点潋江镇农机服务站，预约码${code}。` })]);
  });

  it('refuses, with each field and its reason, a template that does not fit and days that would put the unsent notice in the past', async () => {
    // Prepare
    const api = await service('campaign-edit-400');
    const { campaignId } = await campaignWithVisit(api);
    api.setNow(at('2026-12-10T10:00:00+08:00'));

    // Act
    const refused = await api.call('operator', 'PATCH', `/v1/campaigns/${campaignId}`, {
      expectedVersion: 1,
      comment: '提前通知',
      noticeDaysBefore: 40,
      template: `${'请注意'.repeat(58)}{code}{slots}`,
    });
    const unknown = await api.call('operator', 'PATCH', `/v1/campaigns/${campaignId}`, { expectedVersion: 1, comment: '改模板', template: '【农机】{holder}请回复{code}' });
    const unchanged = await api.call('viewer', 'GET', `/v1/campaigns/${campaignId}`);

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      { field: 'noticeDaysBefore', reason: expect.stringMatching(/预约通知尚未发出.* \/ the notice of the visit to 潋江镇 on 2027-01-12 .* in the past \(2026-12-03 09:00\)/) },
      { field: 'template', reason: expect.stringContaining('the notice would be 217 characters with the signature, more than 3 SMS parts') },
    ]);
    expect(unknown).toMatchObject({ status: 400, body: { errors: [{ field: 'template', reason: expect.stringContaining('【】') }] } });
    expect(unchanged.body).toMatchObject({ version: 1, noticeDaysBefore: 14 });
  });

  it('lets operators and the issuing bureau edit, and refuses other bureaus and viewers', async () => {
    // Prepare
    const api = await service('campaign-edit-access');
    const { campaignId } = await campaignWithVisit(api);
    const body = { expectedVersion: 1, comment: '改名', name: '2027年春季农机上门服务（调整）' };

    // Act
    const byViewer = await api.call('viewer', 'PATCH', `/v1/campaigns/${campaignId}`, body);
    const byMarket = await api.call('market', 'PATCH', `/v1/campaigns/${campaignId}`, body);
    const previewByViewer = await api.call('viewer', 'POST', `/v1/campaigns/${campaignId}/preview`, body);
    const byOperator = await api.call('operator', 'PATCH', `/v1/campaigns/${campaignId}`, body);

    // Assess
    expect([byViewer.status, byMarket.status, previewByViewer.status, byOperator.status]).toEqual([403, 403, 403, 200]);
    expect(byOperator.body).toMatchObject({ version: 2, changes: { name: { from: SPRING.name, to: body.name } }, visits: [{ retimed: { notice: false, reminder: false } }] });
  });
});

describe('HTTP API: previewing a campaign edit', () => {
  it('answers per visit the new instants, a real recipient’s notice with the phone masked and its segments, and what would be refused, storing nothing', async () => {
    // Prepare
    const api = await service('campaign-edit-preview');
    const { campaignId, visitId } = await campaignWithVisit(api);
    const jobsBefore = await api.campaigns.pendingJobs();
    api.setNow(at('2026-12-10T10:00:00+08:00'));

    // Act
    const good = await api.call('operator', 'POST', `/v1/campaigns/${campaignId}/preview`, { expectedVersion: 1, comment: '改模板', noticeDaysBefore: 20, template: SHORT_TEMPLATE });
    const bad = await api.call('operator', 'POST', `/v1/campaigns/${campaignId}/preview`, { expectedVersion: 1, comment: '提前', noticeDaysBefore: 40 });
    const stale = await api.call('operator', 'POST', `/v1/campaigns/${campaignId}/preview`, { expectedVersion: 7, comment: '改名', name: '新名称' });
    const campaign = await api.call('viewer', 'GET', `/v1/campaigns/${campaignId}`);
    const jobsAfter = await api.campaigns.pendingJobs();
    const audit = await api.call('operator', 'GET', '/v1/audit');

    // Assess
    expect(good).toMatchObject({
      status: 200,
      body: {
        wouldSave: true,
        errors: [],
        version: 1,
        visits: [
          {
            id: visitId,
            noticeAt: '2026-12-23T09:00:00.000+08:00',
            reminderAt: '2027-01-11T09:00:00.000+08:00',
            noticeSent: false,
            retimed: { notice: true, reminder: false },
            // The holder with two machines; no code is drawn before the notice is sent.
            sample: { to: '+86139****0001', code: null, body: `${DEFAULT_SIGNATURE}潋江镇农机上门服务：2027年1月12日在潋江镇农机服务站，场次1）09:00-10:00；2）10:00-11:00。回复“XXXXXX 场次号”预约，截止2027年1月11日。`, segments: 2 },
            refused: [],
          },
        ],
      },
    });
    expect(bad).toMatchObject({ status: 200, body: { wouldSave: false, errors: [{ field: 'noticeDaysBefore' }], visits: [{ noticeAt: '2026-12-29T09:00:00.000+08:00', retimed: { notice: false }, refused: [{ field: 'noticeDaysBefore' }] }] } });
    expect(stale).toMatchObject({ status: 200, body: { wouldSave: false, stale: true, errors: [{ field: 'expectedVersion', reason: expect.stringContaining('not the 7 you read') }] } });
    expect(campaign.body).toMatchObject({ version: 1, noticeDaysBefore: 14 });
    expect(jobsAfter).toEqual(jobsBefore);
    expect((audit.body.items as Array<{ action: string }>).map((e) => e.action)).not.toContain('campaign.edit');
  });
});
