/**
 * The campaign routes' HTTP world for integration tests: the HTTP API composed as the local service composes
 * it (DynamoDB Local, outbox, in-process scheduler) on a clock the test moves, the callers by role, and the
 * spring campaign and visit the tests start from.
 */
import { randomBytes } from 'node:crypto';
import type { DateTime } from 'luxon';
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
import { farmRecord, freshCampaignTable, OPERATOR_LICENSE } from './campaign-fixtures.js';
import { at, testSettings } from './fixtures.js';

export const CALLERS: Record<string, Principal> = {
  operator: { role: 'operator', subject: 'token:ops' },
  viewer: { role: 'viewer', subject: 'token:viewer' },
  agriculture: { role: 'bureau', authority: 'agriculture_rural', subject: 'token:agri' },
  market: { role: 'bureau', authority: 'market_regulation', subject: 'token:market' },
};

export const SPRING = {
  name: '2027年春季农机上门服务',
  types: ['farm_machine_annual_inspection', OPERATOR_LICENSE],
  season: { from: '2027-01-04', to: '2027-06-30' },
  blackouts: [{ from: '2027-03-25', to: '2027-04-20', reason: '春季插秧' }],
};
export const VISIT = {
  township: 'lianjiang',
  date: '2027-01-12',
  place: '潋江镇农机服务站',
  slots: [
    { start: '09:00', end: '10:00', capacity: 20 },
    { start: '10:00', end: '11:00', capacity: 20 },
  ],
};
export interface CampaignHttpService {
  call(who: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  campaigns: DynamoDbCampaignStore;
  setNow(instant: DateTime): void;
}

/** The HTTP API composed as the local service composes it, on a clock the test moves. */
export async function campaignHttpService(prefix: string): Promise<CampaignHttpService> {
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
      const [pathOnly = path, search = ''] = path.split('?');
      const response = await app({
        method,
        path: pathOnly,
        query: Object.fromEntries(new URLSearchParams(search)),
        headers: { authorization: who, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, body: JSON.parse(response.body) as Record<string, unknown> };
    },
  };
}

/** Two holders in 潋江镇 (the first with two machines), a spring campaign and its visit on 12 January. */
export async function campaignWithVisit(api: CampaignHttpService): Promise<{ campaignId: string; visitId: string }> {
  await api.call('operator', 'POST', '/v1/certificates', [
    farmRecord(1),
    farmRecord(1, { type: OPERATOR_LICENSE, number: 'JS-00001', issuedOn: '2021-03-01', expiresOn: '2027-03-01' }),
    farmRecord(2),
  ]);
  const campaignId = (await api.call('operator', 'POST', '/v1/campaigns', SPRING)).body.id as string;
  const visitId = (await api.call('operator', 'POST', `/v1/campaigns/${campaignId}/visits`, VISIT)).body.id as string;
  return { campaignId, visitId };
}
