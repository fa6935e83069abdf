import { describe, expect, it } from 'vitest';
import { DEFAULT_SIGNATURE } from '../../functions/core/sms.js';
import { at } from '../support/fixtures.js';
import { campaignHttpService as service, campaignWithVisit, SPRING } from '../support/campaign-http.js';

const SHORT_TEMPLATE = '{township}农机上门服务：{date}在{place}，场次{slots}。回复“{code} 场次号”预约，截止{deadline}。';
const REMINDER_TEMPLATE = '明天{date}{township}农机上门服务，第{slot}场{start}-{end}，地点{place}，预约码{code}。';

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
