import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attendanceContract,
  bookingContract,
  campaignCreatedContract,
  campaignDetailContract,
  campaignEditContract,
  campaignEditPreviewContract,
  campaignListContract,
  campaignReportContract,
  visitAddedContract,
  visitContract,
} from '../../functions/contracts/api/campaigns.js';
import { Api, startTestService, type TestService } from '../support/e2e-service.js';
import { answersWith } from '../support/contract-answers.js';

let local: TestService;
let api: Api;

beforeAll(async () => {
  // The demo's spring campaign: four visits, their notices on 2027-01-04.
  local = await startTestService({ inMemory: true, demo: true, startAt: '2026-12-01T10:00:00+08:00' });
  api = new Api(local.url);
}, 120_000);

afterAll(async () => {
  await local?.stop();
});

const sendJson = (method: string, path: string, body: unknown) => api.send(method, path, JSON.stringify(body), { 'content-type': 'application/json' });

describe('the campaign routes answer exactly as functions/contracts/api/campaigns.ts describes', { timeout: 120_000 }, () => {
  it('campaigns, visits, an edit and its preview, bookings, attendance and the report', async () => {
    const list = await answersWith(campaignListContract, api.get('/v1/campaigns'));
    const demo = list.campaigns[0];
    expect(demo).toBeDefined();
    const id = demo?.id ?? '-';
    const detail = await answersWith(campaignDetailContract, api.get(`/v1/campaigns/${id}`));
    const firstVisit = detail.visits[0];
    expect(firstVisit).toBeDefined();

    const edit = { expectedVersion: detail.version, comment: '契约测试', name: `${detail.name}（契约）` };
    const preview = await answersWith(campaignEditPreviewContract, api.post(`/v1/campaigns/${id}/preview`, edit));
    expect(preview.wouldSave).toBe(true);
    const edited = await answersWith(campaignEditContract, sendJson('PATCH', `/v1/campaigns/${id}`, edit));
    expect(edited.version).toBe(detail.version + 1);

    const created = await answersWith(
      campaignCreatedContract,
      api.post('/v1/campaigns', { name: '契约测试活动', types: ['farm_machine_annual_inspection'], season: { from: '2027-03-01', to: '2027-04-30' }, blackouts: [] }),
      201,
    );
    await answersWith(campaignDetailContract, api.get(`/v1/campaigns/${created.id}`));
    const added = await answersWith(
      visitAddedContract,
      api.post(`/v1/campaigns/${created.id}/visits`, { township: '龙口镇', date: '2027-03-16', place: '龙口镇农机站', slots: [{ start: '09:00', end: '11:00', capacity: 20 }] }),
      201,
    );
    const cancelled = await answersWith(visitContract, api.send('DELETE', `/v1/campaigns/${created.id}/visits/${added.id}`, undefined, {}));
    expect(cancelled.state).toBe('cancelled');

    // The notices go out on 2027-01-04; each carries its holder's booking code.
    expect((await api.post('/v1/scans', { now: '2027-01-04T10:00:00+08:00' })).status).toBe(200);
    const outbox = await api.get<Array<{ body: string; campaign?: { visitId: string; kind: string } }>>('/v1/outbox');
    const code = outbox.body.filter((m) => m.campaign?.kind === 'notice' && m.campaign.visitId === firstVisit?.id).map((m) => /回复“([A-Z0-9]{6}) /.exec(m.body)?.[1])[0];
    expect(code).toMatch(/^[A-Z0-9]{6}$/);
    const booked = await answersWith(bookingContract, api.post(`/v1/campaigns/${id}/bookings`, { code, slot: 1 }), 201);
    expect(booked.confirmation).toBe('sent');
    const attended = await answersWith(attendanceContract, api.post(`/v1/campaigns/${id}/visits/${firstVisit?.id ?? '-'}/attendance`, { code, attended: true }));
    expect(attended.attended).toBe(true);
    const report = await answersWith(campaignReportContract, api.get(`/v1/campaigns/${id}/report?format=json`));
    expect(report.visits.length).toBe(detail.visits.length);
    await answersWith(bookingContract, api.send('DELETE', `/v1/campaigns/${id}/bookings/${booked.id}`, undefined, {}));
  });
});
