import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { DynamoDbCampaignStore } from '../../functions/adapters/aws/dynamodb/dynamodb-campaign-store.js';
import { DynamoDbDeliveries } from '../../functions/adapters/aws/dynamodb/dynamodb-deliveries.js';
import { documentClient } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { bookingKey } from '../../functions/adapters/aws/dynamodb/keys.js';
import { InProcessScheduleGateway } from '../../functions/adapters/local/in-process-schedule-gateway.js';
import type { CampaignDeps } from '../../functions/app/campaigns/campaign-deps.js';
import { addVisit, cancelVisit, createCampaign, moveVisit } from '../../functions/app/campaigns/manage-campaigns.js';
import { runCampaignJob, runDueCampaignJobs } from '../../functions/app/campaigns/run-campaign-job.js';
import { campaignJobName } from '../../functions/app/campaigns/visit-jobs.js';
import { silentLogger } from '../../functions/app/logger.js';
import { RateLimitedSmsSender } from '../../functions/app/rate-limited-sender.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import type { Principal } from '../../functions/core/access.js';
import { BOOKING_CODE_PATTERN } from '../../functions/core/campaigns/codes.js';
import type { Visit } from '../../functions/core/campaigns/model.js';
import type { SmsMessage, SmsSender } from '../../functions/core/ports.js';
import { at, RecordingSender, testSettings } from '../support/fixtures.js';
import { farmRecord, freshCampaignTable, INSPECTION, JIANGBEI, OPERATOR_LICENSE } from '../support/campaign-fixtures.js';

const OPERATOR: Principal = { role: 'operator', subject: 'token:ops' };
const CREATED = at('2026-12-01T10:00:00+08:00');
const NOTICE_AT = at('2026-12-29T09:00:00+08:00');
const REMINDER_AT = at('2027-01-11T09:00:00+08:00');
const reference = loadReferenceData();

const SPRING = {
  name: '2027年春季农机上门服务',
  types: [INSPECTION, OPERATOR_LICENSE],
  season: { from: '2027-01-04', to: '2027-06-30' },
  blackouts: [{ from: '2027-03-25', to: '2027-04-20', reason: '春季插秧' }],
};
const VISIT = {
  township: '潋江镇',
  date: '2027-01-12',
  place: '潋江镇农机服务站',
  slots: [
    { start: '09:00', end: '10:00', capacity: 20 },
    { start: '10:00', end: '11:00', capacity: 20 },
  ],
};

/** Lianjiang: phone 1 holds an inspection and an operator licence; 2 one expired last autumn; 3 renewed past the season. Jiangbei: phone 4. */
const HOLDERS = [
  farmRecord(1),
  farmRecord(1, { type: OPERATOR_LICENSE, number: 'JS-00001', issuedOn: '2021-03-01', expiresOn: '2027-03-01' }),
  farmRecord(2, { issuedOn: '2025-10-02', expiresOn: '2026-10-01' }),
  farmRecord(3, { issuedOn: '2026-08-01', expiresOn: '2027-07-31' }),
  farmRecord(4, { township: JIANGBEI }),
];

interface World {
  client: DynamoDBClient;
  deps: CampaignDeps;
  campaigns: DynamoDbCampaignStore;
  sms: RecordingSender;
  setNow(instant: DateTime): void;
  wall: { ms: number };
}

async function world(prefix: string, options: { sms?: SmsSender; records?: Record<string, unknown>[] } = {}): Promise<World> {
  const { client, store, campaigns } = await freshCampaignTable(prefix);
  const upload = await uploadCertificates({ store, reference, settings: testSettings() }, options.records ?? HOLDERS, CREATED);
  expect(upload.rejected).toEqual([]);
  let now = CREATED;
  const clock = { now: () => now };
  const gateway = new InProcessScheduleGateway({ clock, jobs: campaigns, run: () => false, onError: () => undefined });
  const recording = new RecordingSender();
  const wall = { ms: 1_000_000 };
  const deps: CampaignDeps = {
    campaigns: { store: campaigns, messages: campaigns, recipients: campaigns, jobs: campaigns, scheduler: { gateway, targetArn: 'local:job', roleArn: 'local:role', group: 'certalarm' } },
    sms: options.sms ?? recording,
    reference,
    settings: testSettings(),
    logger: silentLogger,
    clock,
    wallClock: () => wall.ms,
  };
  return { client, deps, campaigns, sms: recording, setNow: (instant) => (now = instant), wall };
}

async function campaignWithVisit(w: World): Promise<{ campaignId: string; visit: Visit }> {
  const campaign = await createCampaign(w.deps, OPERATOR, SPRING);
  const visit = await addVisit(w.deps, OPERATOR, campaign.id, VISIT);
  return { campaignId: campaign.id, visit };
}

/** A booking as the booking use case keeps it: the booking item, and the slot's count on the visit. */
async function book(w: World, campaignId: string, visitId: string, phone: string, slot: number): Promise<string> {
  const invitation = await w.campaigns.getInvitation(campaignId, visitId, phone);
  if (invitation === undefined) throw new Error('not invited');
  await documentClient(w.client).send(
    new PutCommand({
      TableName: w.campaigns.tableName,
      Item: { ...bookingKey(campaignId, invitation.code), entity: 'booking', code: invitation.code, visitId, slot, bookingId: `bk_${slot}${phone.slice(-4)}`, at: NOTICE_AT.toISO() },
    }),
  );
  const visit = await w.campaigns.getVisit(campaignId, visitId);
  if (visit === undefined) throw new Error('no visit');
  const slots = visit.slots.map((s) => (s.number === slot ? { ...s, booked: s.booked + 1 } : s));
  expect(await w.campaigns.saveVisit({ ...visit, slots }, visit.version)).toBe(true);
  return invitation.code;
}

function byPhone(messages: readonly SmsMessage[]): Map<string, SmsMessage[]> {
  const map = new Map<string, SmsMessage[]>();
  for (const m of messages) map.set(m.to, [...(map.get(m.to) ?? []), m]);
  return map;
}

describe('Use case: runDueCampaignJobs — the booking notice', () => {
  it('sends one notice per phone of the township holding a covered certificate due by the season’s end, with its own code and count', async () => {
    // Prepare
    const w = await world('campaign-notice');
    const { campaignId, visit } = await campaignWithVisit(w);

    // Act
    const early = await runDueCampaignJobs(w.deps, NOTICE_AT.minus({ minutes: 1 }));
    const due = await runDueCampaignJobs(w.deps, NOTICE_AT);
    const again = await runCampaignJob(w.deps, { kind: 'campaignJob', campaignId, visitId: visit.id, job: 'notice' }, NOTICE_AT.plus({ hours: 1 }));

    // Assess
    expect(early.jobs).toBe(0);
    expect(due).toMatchObject({ jobs: 1, done: 1, kept: 0, sent: 2, failed: 0 });
    expect(again).toMatchObject({ outcome: 'done', sent: 0, alreadySent: 2 });
    const sent = byPhone(w.sms.sent);
    expect([...sent.keys()].sort()).toEqual(['+8613900000001', '+8613900000002']);
    const invitations = await w.campaigns.invitationsOf(campaignId, visit.id);
    expect(invitations.map((i) => [i.phone, i.count])).toEqual([['+8613900000001', 2], ['+8613900000002', 1]]);
    for (const invitation of invitations) {
      expect(invitation.code).toMatch(BOOKING_CODE_PATTERN);
      const [notice] = sent.get(invitation.phone) ?? [];
      expect(notice?.body).toContain(`回复“${invitation.code} 场次号”`);
      expect(notice?.body).toContain(`您有${invitation.count}项证照需办理`);
      expect(notice?.body).toContain('潋江镇农机上门服务：2027年1月12日在潋江镇农机服务站');
      expect(await w.campaigns.getBookingCode(campaignId, invitation.code)).toEqual({ campaignId, code: invitation.code, visitId: visit.id, phone: invitation.phone });
    }
    expect(new Set(invitations.map((i) => i.code)).size).toBe(2);
    expect((await w.campaigns.pendingJobs()).map((j) => j.name)).toEqual([campaignJobName(campaignId, visit.id, 'reminder')]);
  });

  it('counts a notice whose receipt already said delivered as sent when the job runs again, and finishes', async () => {
    // Prepare: both notices out, and the carrier confirmed the first one
    const w = await world('campaign-notice-delivered');
    const { campaignId, visit } = await campaignWithVisit(w);
    await runDueCampaignJobs(w.deps, NOTICE_AT);
    const deliveries = new DynamoDbDeliveries(w.client, w.campaigns.tableName);
    const ref = await deliveries.findByMessageId('msg-1');
    expect(ref).toBeDefined();
    expect(await deliveries.applyReceipt(ref ?? { pk: '', sk: '' }, { messageId: 'msg-1', status: 'delivered', at: NOTICE_AT.plus({ seconds: 5 }).toISO() ?? '' })).toBe(true);

    // Act
    const again = await runCampaignJob(w.deps, { kind: 'campaignJob', campaignId, visitId: visit.id, job: 'notice' }, NOTICE_AT.plus({ hours: 1 }));

    // Assess
    expect(again).toMatchObject({ outcome: 'done', sent: 0, alreadySent: 2, inFlightElsewhere: 0 });
  });

  it('draws again when a code is already taken in the campaign', async () => {
    // Prepare: the first draw gives a code another phone holds
    const w = await world('campaign-code-clash');
    const { campaignId, visit } = await campaignWithVisit(w);
    await w.campaigns.reserveBookingCode({ campaignId, code: '222222', visitId: 'vis_other', phone: '+8613999999999' });
    const draws = [new Uint8Array(6), new Uint8Array(6), Uint8Array.from([1, 1, 1, 1, 1, 1]), Uint8Array.from([2, 2, 2, 2, 2, 2])];
    w.deps.randomBytes = () => draws.shift() ?? Uint8Array.from([3, 3, 3, 3, 3, 3]);

    // Act
    await runCampaignJob(w.deps, { kind: 'campaignJob', campaignId, visitId: visit.id, job: 'notice' }, NOTICE_AT);

    // Assess
    const codes = (await w.campaigns.invitationsOf(campaignId, visit.id)).map((i) => i.code).sort();
    expect(codes).toEqual(['333333', '444444']);
  });

  it('resumes a notice that died mid-way without sending any phone a second notice', async () => {
    // Prepare: 30 phones; the sender dies (an unknown outcome) after 12 sends
    const records = Array.from({ length: 30 }, (_, i) => farmRecord(100 + i));
    const first = new RecordingSender({ fail: (_m, call) => (call >= 12 ? new Error('process killed') : undefined) });
    const w = await world('campaign-crash', { sms: first, records });
    const { campaignId, visit } = await campaignWithVisit(w);

    // Act: the crashed run, a rerun within the lease, and a rerun after it with a working sender
    const crashed = await runDueCampaignJobs(w.deps, NOTICE_AT);
    const withinLease = await runDueCampaignJobs(w.deps, NOTICE_AT.plus({ minutes: 1 }));
    const second = new RecordingSender();
    w.deps.sms = second;
    w.wall.ms += testSettings().claimLeaseMs + 1;
    const resumed = await runDueCampaignJobs(w.deps, NOTICE_AT.plus({ minutes: 10 }));

    // Assess
    expect(crashed).toMatchObject({ done: 0, kept: 1, sent: 12, retryLater: 18 });
    expect(withinLease).toMatchObject({ sent: 0, kept: 1 });
    expect(resumed).toMatchObject({ done: 1, sent: 18, alreadySent: 12 });
    const all = [...first.sent, ...second.sent];
    expect(all).toHaveLength(30);
    expect([...byPhone(all).values()].every((messages) => messages.length === 1)).toBe(true);
    expect((await w.campaigns.messagesOf(campaignId, visit.id)).filter((m) => m.status === 'sent')).toHaveLength(30);
  });

  it('keeps the job and sends nothing outside the send window', async () => {
    // Prepare
    const w = await world('campaign-window');
    await campaignWithVisit(w);

    // Act
    const night = await runDueCampaignJobs(w.deps, NOTICE_AT.set({ hour: 21 }));
    const morning = await runDueCampaignJobs(w.deps, NOTICE_AT.plus({ days: 1 }));

    // Assess
    expect(night).toMatchObject({ jobs: 1, kept: 1, sent: 0 });
    expect(morning).toMatchObject({ jobs: 1, done: 1, sent: 2 });
  });

  it('sends through the rate-limited sender at the configured rate', async () => {
    // Prepare: 5 SMS per second on a simulated clock; 20 phones
    const records = Array.from({ length: 20 }, (_, i) => farmRecord(200 + i));
    const recording = new RecordingSender();
    const clock = { ms: 0 };
    const paced = new RateLimitedSmsSender(recording, 5, () => clock.ms, async (ms) => {
      clock.ms += ms;
    });
    const w = await world('campaign-rate', { sms: paced, records });
    await campaignWithVisit(w);

    // Act
    await runDueCampaignJobs(w.deps, NOTICE_AT);

    // Assess: 20 sends, 200 ms apart, take 3.8 s of the simulated clock
    expect(recording.sent).toHaveLength(20);
    expect(clock.ms).toBeCloseTo(3800, 0);
  });
});

describe('Use case: runDueCampaignJobs — booked holders', () => {
  it('reminds only holders who booked, the day before, with their slot', async () => {
    // Prepare
    const w = await world('campaign-reminder');
    const { campaignId, visit } = await campaignWithVisit(w);
    await runDueCampaignJobs(w.deps, NOTICE_AT);
    const code = await book(w, campaignId, visit.id, '+8613900000002', 2);
    w.sms.sent.length = 0;

    // Act
    const result = await runDueCampaignJobs(w.deps, REMINDER_AT);

    // Assess
    expect(result).toMatchObject({ jobs: 1, done: 1, sent: 1 });
    expect(w.sms.sent).toEqual([expect.objectContaining({ to: '+8613900000002', body: expect.stringContaining(`第2场（10:00-11:00），地点：潋江镇农机服务站，预约码${code}`) })]);
    expect(await w.campaigns.pendingJobs()).toEqual([]);
  });

  it('re-times the notice and reminder when a visit moves, and tells holders who booked', async () => {
    // Prepare: notices out, one booking, then the visit moves a week later
    const w = await world('campaign-move');
    const { campaignId, visit } = await campaignWithVisit(w);
    await runDueCampaignJobs(w.deps, NOTICE_AT);
    await book(w, campaignId, visit.id, '+8613900000001', 1);
    const movedAt = at('2026-12-30T10:00:00+08:00');
    w.setNow(movedAt);
    w.sms.sent.length = 0;

    // Act
    const moved = await moveVisit(w.deps, OPERATOR, campaignId, visit.id, { date: '2027-01-19', place: '潋江镇文化广场' });
    const jobs = await w.campaigns.pendingJobs();
    const told = await runDueCampaignJobs(w.deps, movedAt);
    const oldReminder = await runDueCampaignJobs(w.deps, REMINDER_AT);

    // Assess
    expect(moved).toMatchObject({ state: 'moved', date: '2027-01-19', noticeAt: '2027-01-05T09:00:00.000+08:00', reminderAt: '2027-01-18T09:00:00.000+08:00', slots: [expect.objectContaining({ number: 1, booked: 1 }), expect.objectContaining({ number: 2, booked: 0 })] });
    expect(jobs.map((j) => [j.name.split('-')[1], j.at]).sort()).toEqual([
      ['moved', '2026-12-30T02:00:00.000Z'],
      ['notice', '2027-01-05T01:00:00.000Z'],
      ['reminder', '2027-01-18T01:00:00.000Z'],
    ]);
    expect(told).toMatchObject({ done: 1, sent: 1 });
    expect(w.sms.sent).toEqual([expect.objectContaining({ to: '+8613900000001', body: expect.stringContaining('已改到2027年1月19日，地点：潋江镇文化广场，第1场09:00-10:00') })]);
    // By the old reminder's day only the re-timed notice is due; the holders notified before get nothing new.
    expect(oldReminder).toMatchObject({ jobs: 1, done: 1, sent: 0, alreadySent: 2 });
    expect((await w.campaigns.pendingJobs()).map((j) => j.at)).toEqual(['2027-01-18T01:00:00.000Z']);
  });

  it('refuses a move that would drop a slot holding bookings', async () => {
    // Prepare
    const w = await world('campaign-move-slots');
    const { campaignId, visit } = await campaignWithVisit(w);
    await runDueCampaignJobs(w.deps, NOTICE_AT);
    await book(w, campaignId, visit.id, '+8613900000001', 2);

    // Act
    const move = moveVisit(w.deps, OPERATOR, campaignId, visit.id, { slots: [{ start: '09:00', end: '10:00', capacity: 10 }] });

    // Assess
    await expect(move).rejects.toThrow(/slot 2 holds 1 bookings/);
  });

  it('deletes the schedules of a cancelled visit and tells holders who booked', async () => {
    // Prepare
    const w = await world('campaign-cancel');
    const { campaignId, visit } = await campaignWithVisit(w);
    await runDueCampaignJobs(w.deps, NOTICE_AT);
    await book(w, campaignId, visit.id, '+8613900000002', 1);
    const cancelledAt = at('2027-01-02T11:00:00+08:00');
    w.setNow(cancelledAt);
    w.sms.sent.length = 0;

    // Act
    const cancelled = await cancelVisit(w.deps, OPERATOR, campaignId, visit.id);
    const jobs = await w.campaigns.pendingJobs();
    const told = await runDueCampaignJobs(w.deps, cancelledAt);

    // Assess
    expect(cancelled.state).toBe('cancelled');
    expect(jobs.map((j) => j.name)).toEqual([campaignJobName(campaignId, visit.id, 'cancelled')]);
    expect(told).toMatchObject({ done: 1, sent: 1 });
    expect(w.sms.sent).toEqual([expect.objectContaining({ to: '+8613900000002', body: expect.stringContaining('2027年1月12日潋江镇农机上门服务已取消') })]);
    expect(await w.campaigns.pendingJobs()).toEqual([]);
  });
});

describe('Adapter: InProcessScheduleGateway with a job store', () => {
  it('re-arms stored jobs after a restart and runs one whose instant passed while the service was down', async () => {
    // Prepare: a visit scheduled by one service process
    const w = await world('campaign-restart');
    const { campaignId, visit } = await campaignWithVisit(w);
    const ran: unknown[] = [];
    let finished: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finished = resolve));

    // Act: a new process starts after the notice instant
    const restarted = new InProcessScheduleGateway({
      clock: { now: () => NOTICE_AT.plus({ minutes: 5 }) },
      jobs: w.campaigns,
      run: async (payload) => {
        ran.push(payload);
        finished();
        return true;
      },
      onError: () => undefined,
    });
    const rearmed = await restarted.restore();
    await done;

    // Assess
    expect(rearmed).toBe(2);
    expect(restarted.pending()).toEqual([`certalarm/${campaignJobName(campaignId, visit.id, 'reminder')}`]);
    expect(ran).toEqual([{ kind: 'campaignJob', campaignId, visitId: visit.id, job: 'notice' }]);
    restarted.stop();
  });
});
