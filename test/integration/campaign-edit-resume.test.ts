import { describe, expect, it, vi } from 'vitest';
import { at } from '../support/fixtures.js';
import { campaignHttpService as service, campaignWithVisit, type CampaignHttpService as Service } from '../support/campaign-http.js';

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
