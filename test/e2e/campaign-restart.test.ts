import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, makeTempDir, startTestService, type TestService } from '../support/e2e-service.js';
import { farmRecord } from '../support/campaign-fixtures.js';

const FAST_SMS = { CERTALARM_SMS_RATE: '1000' };

interface CampaignOutboxMessage {
  to: string;
  body: string;
  campaign?: { campaignId: string; visitId: string; kind: string };
}

async function notices(api: Api): Promise<CampaignOutboxMessage[]> {
  const answer = await api.get<CampaignOutboxMessage[]>('/v1/outbox');
  return answer.body.filter((m) => m.campaign?.kind === 'notice');
}

describe('Local service: campaign jobs across a restart', () => {
  const started: TestService[] = [];
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await makeTempDir('certalarm-e2e-campaign-');
  });

  afterAll(async () => {
    for (const service of started.splice(0)) await service.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('re-arms a visit’s notice after a restart and sends it when its instant has passed while the service was down', async () => {
    // Prepare: a visit scheduled on 1 December, then the service stops
    const first = await startTestService({ dataDir, env: FAST_SMS, startAt: '2026-12-01T10:00:00+08:00' });
    started.push(first);
    const firstApi = new Api(first.url);
    await firstApi.uploadAll([farmRecord(1), farmRecord(2)]);
    const campaign = await firstApi.post<{ id: string }>('/v1/campaigns', {
      name: '2027年春季农机上门服务',
      types: ['farm_machine_annual_inspection'],
      season: { from: '2027-01-04', to: '2027-06-30' },
      blackouts: [],
    });
    const visit = await firstApi.post<{ id: string; noticeAt: string }>(`/v1/campaigns/${campaign.body.id}/visits`, {
      township: '潋江镇',
      date: '2027-01-12',
      place: '潋江镇农机服务站',
      slots: [{ start: '09:00', end: '10:00', capacity: 20 }],
    });
    const beforeStop = await notices(firstApi);
    await first.stop();
    started.pop();

    // Act: the service starts again half an hour after the notice instant
    const second = await startTestService({ dataDir, env: FAST_SMS, startAt: '2026-12-29T09:30:00+08:00' });
    started.push(second);
    const secondApi = new Api(second.url);
    let sent: CampaignOutboxMessage[] = [];
    for (let attempt = 0; attempt < 100 && sent.length < 2; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      sent = await notices(secondApi);
    }
    const rescan = await secondApi.post<{ campaigns: { jobs: number } }>('/v1/scans', { now: '2026-12-29T10:00:00+08:00' });

    // Assess
    expect(visit).toMatchObject({ status: 201, body: { noticeAt: '2026-12-29T09:00:00.000+08:00' } });
    expect(beforeStop).toEqual([]);
    expect(sent.map((m) => m.to).sort()).toEqual(['+8613900000001', '+8613900000002']);
    expect(sent.every((m) => m.campaign?.visitId === visit.body.id)).toBe(true);
    expect(rescan.body.campaigns.jobs).toBe(0);
    // Two service starts, each with its own DynamoDB Local: on a shared 2-core machine they take 30 s alone.
  }, 120_000);
});
