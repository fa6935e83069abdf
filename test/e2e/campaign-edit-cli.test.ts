import { writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/e2e-cli.js';
import { makeTempDir, startTestService, type TestService } from '../support/e2e-service.js';

let local: TestService;
let workDir: string;

beforeAll(async () => {
  // The demo's spring 2027 campaign: visits on 18–21 January, notices 14 days before.
  local = await startTestService({ inMemory: true, demo: true, startAt: '2026-12-01T10:00:00+08:00' });
  workDir = await makeTempDir('certalarm-e2e-campaign-edit-cli-');
}, 120_000);

afterAll(async () => {
  await local?.stop();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli([...args, '--url', local.url], { timeoutMs: 60_000 });
const SHORT_TEMPLATE = '{township}农机上门服务：{date}在{place}，场次{slots}。回复“{code} 场次号”预约，截止{deadline}。';

function file(name: string, body: unknown): string {
  const path = join(workDir, name);
  writeFileSync(path, JSON.stringify(body));
  return path;
}

interface Shown {
  version: number;
  noticeDaysBefore: number;
  noticeTemplate: string;
  visits: Array<{ id: string; township: { nameZh: string }; noticeAt: string }>;
}

describe('CLI: certalarm campaign edit --help', () => {
  it('prints the usage with the campaign, the file, --preview and --json, and exits 0', async () => {
    // Act
    const result = await runCli(['campaign', 'edit', '--help']);

    // Assess
    expect(result.code).toBe(0);
    for (const option of ['<id>', '<file>', '--preview', '--json']) expect(result.stdout).toContain(option);
  });
});

describe('CLI: editing the demo campaign', { timeout: 240_000 }, () => {
  it('previews an edit without changing anything, then saves it: the notices move and the new template is in force', async () => {
    // Prepare
    const campaigns = JSON.parse((await cli(['campaign', 'list', '--json'])).stdout) as { campaigns: Array<{ id: string; name: string }> };
    const id = campaigns.campaigns.find((c) => c.name.includes('2027年春季农机上门服务'))?.id ?? '-';
    const edit = file('edit.json', { comment: '春节前多留一周预约', noticeDaysBefore: 21, template: SHORT_TEMPLATE });
    const tooEarly = file('too-early.json', { comment: '提前两个月', noticeDaysBefore: 60 });

    // Act
    const preview = await cli(['campaign', 'edit', id, edit, '--preview']);
    const previewJson = JSON.parse((await cli(['campaign', 'edit', id, edit, '--preview', '--json'])).stdout) as { wouldSave: boolean; visits: Array<{ noticeAt: string; sample: { to: string; segments: number } | null }> };
    const refusedPreview = await cli(['campaign', 'edit', id, tooEarly, '--preview']);
    const untouched = JSON.parse((await cli(['campaign', 'show', id, '--json'])).stdout) as Shown;
    const saved = await cli(['campaign', 'edit', id, edit]);
    const after = JSON.parse((await cli(['campaign', 'show', id, '--json'])).stdout) as Shown;

    // Assess
    expect(preview.code).toBe(0);
    expect(preview.stdout).toContain('预览：可以保存 / preview: this edit can be saved');
    expect(preview.stdout).toMatch(/江背镇农机上门服务：2027年1月18日在江背镇农机服务站/);
    expect(previewJson.wouldSave).toBe(true);
    expect(previewJson.visits[0]).toMatchObject({ noticeAt: '2026-12-28T09:00:00.000+08:00', sample: { to: expect.stringMatching(/^\+86\d{3}\*{4}\d{4}$/), segments: 2 } });
    expect(refusedPreview.code).toBe(0);
    expect(refusedPreview.stdout).toContain('会被拒绝 / preview: this edit would be refused');
    expect(refusedPreview.stdout).toMatch(/✗ noticeDaysBefore: 江背镇 2027-01-18/);
    expect(untouched).toMatchObject({ version: 1, noticeDaysBefore: 14 });
    expect(saved.code).toBe(0);
    expect(saved.stdout).toContain('已修改活动 / campaign edited');
    expect(saved.stdout).toContain('noticeDaysBefore: 14 → 21');
    expect(after).toMatchObject({ version: 2, noticeDaysBefore: 21, noticeTemplate: SHORT_TEMPLATE });
    expect(after.visits.map((v) => v.noticeAt)).toEqual(['2026-12-28T09:00:00.000+08:00', '2026-12-29T09:00:00.000+08:00', '2026-12-30T09:00:00.000+08:00', '2026-12-31T09:00:00.000+08:00']);
  });

  it('refuses a template with an unknown placeholder, naming the field and saying to fix the file', async () => {
    // Prepare
    const campaigns = JSON.parse((await cli(['campaign', 'list', '--json'])).stdout) as { campaigns: Array<{ id: string; name: string }> };
    const id = campaigns.campaigns.find((c) => c.name.includes('2027年春季农机上门服务'))?.id ?? '-';
    const bad = file('bad.json', { comment: '改模板', template: '{holder}您好，请回复{code}' });

    // Act
    const refused = await cli(['campaign', 'edit', id, bad]);

    // Assess
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('fix the file');
    expect(refused.stderr).toMatch(/template: .*unknown placeholder \{holder\}/);
  });
});
