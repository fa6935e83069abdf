import { writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/e2e-cli.js';
import { makeTempDir, startTestService, type TestService } from '../support/e2e-service.js';

let local: TestService;
let workDir: string;

beforeAll(async () => {
  // A first start with the demo, as `npm start` makes it: the spring 2027 campaign is created with it.
  local = await startTestService({ inMemory: true, demo: true, startAt: '2026-12-01T10:00:00+08:00' });
  workDir = await makeTempDir('certalarm-e2e-campaign-cli-');
}, 120_000);

afterAll(async () => {
  await local?.stop();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli([...args, '--url', local.url], { timeoutMs: 60_000 });

interface OutboxEntry {
  to: string;
  body: string;
  campaign?: { campaignId: string; visitId: string; kind: string };
}

describe('CLI: certalarm campaign, booking and inbound --help', () => {
  it.concurrent.for([
    { command: ['campaign', '--help'], options: ['create', 'list', 'show', 'visit', 'report'] },
    { command: ['campaign', 'visit', 'add', '--help'], options: ['<id>', '<file>', '--json'] },
    { command: ['campaign', 'report', '--help'], options: ['<id>', '--csv', '--json'] },
    { command: ['booking', 'add', '--help'], options: ['<id>', '<code>', '<slot>', '--json'] },
    { command: ['inbound', '--help'], options: ['<from>', '<text>', '--json'] },
  ])('prints the usage of $command with its options and exits 0', async ({ command, options }, { expect }) => {
    // Act
    const result = await runCli(command);

    // Assess
    expect(result.code).toBe(0);
    for (const option of options) expect(result.stdout).toContain(option);
  });
});

describe('CLI: a season\'s campaign from the demo to the report', { timeout: 240_000 }, () => {
  it('shows the demo campaign with its four visits and scheduled notices, sends them at their instant, books by SMS and at the desk, and reports', async () => {
    // Act: the demo campaign as a new user finds it
    const list = await cli(['campaign', 'list', '--json']);
    const campaigns = (JSON.parse(list.stdout) as { campaigns: Array<{ id: string; name: string }> }).campaigns;
    const demo = campaigns.find((c) => c.name.includes('2027年春季农机上门服务'));
    const show = await cli(['campaign', 'show', demo?.id ?? '-']);
    const shown = JSON.parse((await cli(['campaign', 'show', demo?.id ?? '-', '--json'])).stdout) as { visits: Array<{ id: string; township: { nameZh: string }; noticeAt: string }> };

    // Assess
    expect(list.code).toBe(0);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('春节假期');
    expect(shown.visits.map((v) => v.township.nameZh)).toEqual(['江背镇', '古龙冈镇', '良村镇', '梅窖镇']);
    expect(show.stdout).toContain('2027-01-04 09:00');

    // Act: the notices go out at their instant (the Monday after New Year's Day, 14 days before the first visit)
    const scan = await cli(['scan', '--now', '2027-01-04T10:00:00+08:00', '--json']);
    const outbox = JSON.parse((await cli(['outbox', '--json'])).stdout) as OutboxEntry[];
    const notices = outbox.filter((e) => e.campaign?.kind === 'notice' && e.campaign.visitId === shown.visits[0]?.id);
    const [first, second] = notices.map((n) => ({ to: n.to, code: /回复“([A-Z0-9]{6}) /.exec(n.body)?.[1] ?? '' }));
    const bySms = await cli(['inbound', first?.to ?? '-', `${first?.code.toLowerCase() ?? ''} 第2场`]);
    const stranger = await cli(['inbound', '13907979999', `${first?.code ?? ''} 1`, '--json']);
    const atDesk = await cli(['booking', 'add', demo?.id ?? '-', second?.code ?? '-', '1', '--json']);
    const report = await cli(['campaign', 'report', demo?.id ?? '-']);
    const csv = await cli(['campaign', 'report', demo?.id ?? '-', '--csv']);

    // Assess
    expect(scan.code).toBe(0);
    expect(notices).toHaveLength(6);
    expect(first?.code).toMatch(/^[A-HJKMNP-Z2-9]{6}$/);
    expect(bySms.code).toBe(0);
    expect(bySms.stdout).toContain('已预约第2场');
    expect(JSON.parse(stranger.stdout)).toMatchObject({ action: 'help', reason: 'notOwner' });
    expect(atDesk.code).toBe(0);
    expect(JSON.parse(atDesk.stdout)).toMatchObject({ slot: 1, confirmation: 'sent' });
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(/江背镇\s+江背镇农机服务站\s+6\s+6\/0\s+2\s/);
    expect(csv.stdout.startsWith('\uFEFF')).toBe(true);
  });

  it('refuses a visit in the Spring Festival blackout, naming the field and saying to fix the file', async () => {
    // Prepare
    const campaignFile = join(workDir, 'campaign.json');
    writeFileSync(campaignFile, JSON.stringify({ name: '2027年春季农机上门服务（南线）', types: ['farm_machine_annual_inspection'], season: { from: '2027-01-04', to: '2027-02-28' }, blackouts: [{ from: '2027-02-05', to: '2027-02-13', reason: '春节假期' }] }));
    const visitFile = join(workDir, 'visit.json');
    writeFileSync(visitFile, JSON.stringify({ township: '龙口镇', date: '2027-02-08', place: '龙口镇农机站', slots: [{ start: '09:00', end: '11:00', capacity: 20 }] }));

    // Act
    const created = await cli(['campaign', 'create', campaignFile, '--json']);
    const id = (JSON.parse(created.stdout) as { id: string }).id;
    const refused = await cli(['campaign', 'visit', 'add', id, visitFile]);

    // Assess
    expect(created.code).toBe(0);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('fix the file');
    expect(refused.stderr).toMatch(/date: .*春节假期/);
  });
});
