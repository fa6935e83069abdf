import { describe, expect, it } from 'vitest';
import { BOOKING_CODE_ALPHABET } from '../../functions/core/campaigns/codes.js';
import { at } from '../support/fixtures.js';
import { farmRecord, JIANGBEI, OPERATOR_LICENSE } from '../support/campaign-fixtures.js';
import { campaignHttpService as service, SPRING, VISIT } from '../support/campaign-http.js';

describe('HTTP API: a campaign end to end', () => {
  it('creates a campaign and a visit, and a scan past the notice instant sends one notice with a code to each phone', async () => {
    // Prepare: two holders in 潋江镇 (one with two certificates), one in 江背镇
    const api = await service('campaign-e2e');
    const upload = await api.call('operator', 'POST', '/v1/certificates', [
      farmRecord(1),
      farmRecord(1, { type: OPERATOR_LICENSE, number: 'JS-00001', issuedOn: '2021-03-01', expiresOn: '2027-03-01' }),
      farmRecord(2, { issuedOn: '2025-10-02', expiresOn: '2026-10-01' }),
      farmRecord(4, { township: JIANGBEI }),
    ]);
    expect(upload.body).toMatchObject({ accepted: 4 });

    // Act
    const created = await api.call('operator', 'POST', '/v1/campaigns', SPRING);
    const campaignId = created.body.id as string;
    const visit = await api.call('operator', 'POST', `/v1/campaigns/${campaignId}/visits`, VISIT);
    const before = await api.call('viewer', 'GET', `/v1/campaigns/${campaignId}`);
    const scan = await api.call('operator', 'POST', '/v1/scans', { now: '2026-12-29T09:05:00+08:00' });
    const outbox = await api.call('operator', 'GET', '/v1/outbox');

    // Assess
    expect(created.status).toBe(201);
    expect(visit).toMatchObject({ status: 201, body: { id: expect.stringMatching(/^vis_/), noticeAt: '2026-12-29T09:00:00.000+08:00', reminderAt: '2027-01-11T09:00:00.000+08:00' } });
    expect(before.body).toMatchObject({
      id: campaignId,
      name: SPRING.name,
      noticeDaysBefore: 14,
      reminderDaysBefore: 1,
      visits: [{ id: visit.body.id, township: { code: '360732100', nameZh: '潋江镇' }, date: '2027-01-12', state: 'scheduled', noticeAt: '2026-12-29T09:00:00.000+08:00', capacity: 40, booked: 0, slots: [{ number: 1, booked: 0 }, { number: 2, booked: 0 }] }],
    });
    expect(scan).toMatchObject({ status: 200, body: { campaigns: { jobs: 1, done: 1, sent: 2 } } });
    // The expired certificate's own reminder goes out in the same scan; the notices are the campaign's messages.
    const messages = (outbox.body as unknown as Array<{ to: string; body: string; campaign?: { kind: string } }>).filter((m) => m.campaign?.kind === 'notice');
    expect(messages.map((m) => m.to).sort()).toEqual(['+8613900000001', '+8613900000002']);
    const codes = messages.map((m) => new RegExp(`回复“([${BOOKING_CODE_ALPHABET}]{6}) 场次号”`).exec(m.body)?.[1]);
    expect(codes.every((c) => c !== undefined)).toBe(true);
    expect(new Set(codes).size).toBe(2);
  });
});

describe('HTTP API: campaign and visit refusals', () => {
  it('answers 400 with each field and its reason, like the rules routes', async () => {
    // Prepare
    const api = await service('campaign-400');
    const campaignId = (await api.call('operator', 'POST', '/v1/campaigns', SPRING)).body.id as string;

    // Act
    const badCampaign = await api.call('operator', 'POST', '/v1/campaigns', { ...SPRING, types: ['no_such_type'], season: { from: '2027-06-30', to: '2027-01-04' } });
    const badVisit = await api.call('operator', 'POST', `/v1/campaigns/${campaignId}/visits`, {
      township: '不存在镇',
      date: '2026-11-30',
      place: '某地',
      slots: [
        { start: '09:00', end: '10:30', capacity: 0 },
        { start: '10:00', end: '11:00', capacity: 5 },
      ],
    });
    const blackout = await api.call('operator', 'POST', `/v1/campaigns/${campaignId}/visits`, { ...VISIT, date: '2027-04-01' });

    // Assess
    expect(badCampaign.status).toBe(400);
    expect((badCampaign.body.errors as Array<{ field: string }>).map((e) => e.field)).toEqual(['types[0]', 'season.to']);
    expect(badVisit.status).toBe(400);
    expect((badVisit.body.errors as Array<{ field: string }>).map((e) => e.field).sort()).toEqual(['date', 'date', 'slots[0].capacity', 'slots[1]', 'township']);
    expect(blackout.body.errors).toEqual([{ field: 'date', reason: expect.stringContaining('春季插秧') }]);
  });

  it('lets operators and the issuing bureau manage, refuses other bureaus and viewers, and lets everyone read', async () => {
    // Prepare
    const api = await service('campaign-access');

    // Act
    const byViewer = await api.call('viewer', 'POST', '/v1/campaigns', SPRING);
    const byMarket = await api.call('market', 'POST', '/v1/campaigns', SPRING);
    const byAgriculture = await api.call('agriculture', 'POST', '/v1/campaigns', SPRING);
    const campaignId = byAgriculture.body.id as string;
    const visitByMarket = await api.call('market', 'POST', `/v1/campaigns/${campaignId}/visits`, VISIT);
    const visitByOperator = await api.call('operator', 'POST', `/v1/campaigns/${campaignId}/visits`, VISIT);
    const listedByViewer = await api.call('viewer', 'GET', '/v1/campaigns');
    const unknown = await api.call('viewer', 'GET', '/v1/campaigns/cmp_000000000000');

    // Assess
    expect([byViewer.status, byMarket.status, byAgriculture.status]).toEqual([403, 403, 201]);
    expect([visitByMarket.status, visitByOperator.status]).toEqual([403, 201]);
    expect(listedByViewer.body.campaigns).toEqual([expect.objectContaining({ id: campaignId, createdBy: 'token:agri' })]);
    expect(unknown.status).toBe(404);
  });
});

describe('HTTP API: moving and cancelling a visit', () => {
  it('moves a visit, re-timing its jobs, then cancels it, deleting them, and audits each change', async () => {
    // Prepare
    const api = await service('campaign-move-http');
    const campaignId = (await api.call('operator', 'POST', '/v1/campaigns', SPRING)).body.id as string;
    api.setNow(at('2026-12-01T11:00:00+08:00'));
    const visitId = (await api.call('operator', 'POST', `/v1/campaigns/${campaignId}/visits`, VISIT)).body.id as string;

    // Act
    api.setNow(at('2026-12-02T10:00:00+08:00'));
    const moved = await api.call('operator', 'PATCH', `/v1/campaigns/${campaignId}/visits/${visitId}`, { date: '2027-01-19' });
    const jobsAfterMove = await api.campaigns.pendingJobs();
    const refused = await api.call('operator', 'PATCH', `/v1/campaigns/${campaignId}/visits/${visitId}`, { date: '2027-04-02' });
    api.setNow(at('2026-12-03T10:00:00+08:00'));
    const cancelled = await api.call('operator', 'DELETE', `/v1/campaigns/${campaignId}/visits/${visitId}`);
    const jobsAfterCancel = await api.campaigns.pendingJobs();
    const moveCancelled = await api.call('operator', 'PATCH', `/v1/campaigns/${campaignId}/visits/${visitId}`, { date: '2027-01-26' });
    const audit = await api.call('operator', 'GET', '/v1/audit');

    // Assess
    expect(moved).toMatchObject({ status: 200, body: { date: '2027-01-19', state: 'moved', noticeAt: '2027-01-05T09:00:00.000+08:00', reminderAt: '2027-01-18T09:00:00.000+08:00' } });
    expect(jobsAfterMove.map((j) => j.at).sort()).toEqual(['2027-01-05T01:00:00.000Z', '2027-01-18T01:00:00.000Z']);
    expect(refused.status).toBe(400);
    expect(cancelled).toMatchObject({ status: 200, body: { state: 'cancelled' } });
    expect(jobsAfterCancel).toEqual([]);
    expect(moveCancelled.status).toBe(409);
    expect((audit.body.items as Array<{ action: string; target: string }>).map((e) => e.action)).toEqual([
      'campaign.visit.cancel',
      'campaign.visit.move',
      'campaign.visit.add',
      'campaign.create',
    ]);
  });
});
