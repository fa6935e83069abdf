import { writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultStages } from '../../functions/core/rules.js';
import { runCli } from '../support/e2e-cli.js';
import { Api, makeTempDir, startTestService, type ApiResponse, type TestService } from '../support/e2e-service.js';
import { validUscc } from '../support/fixtures.js';

const TYPE = 'pesticide_business_license';

interface RuleAnswer {
  type: string;
  version: number;
  enabled: boolean;
  stages: Array<{ name: string; from: string; days?: number; workingDays?: number; template: string }>;
  changedBy: string | null;
  changedAt: string | null;
  comment: string;
  replan?: { state: string; done: number; total: number };
}

let local: TestService;
let operator: Api;
let bureau: Api;
let viewer: Api;
let workDir: string;

function put<T>(api: Api, path: string, body: unknown): Promise<ApiResponse<T>> {
  return api.send<T>('PUT', path, JSON.stringify(body), { 'content-type': 'application/json' });
}

async function issue(body: object): Promise<Api> {
  const issued = await operator.post<{ token: string }>('/v1/tokens', body);
  if (issued.status !== 201) throw new Error(`token not issued: ${JSON.stringify(issued.body)}`);
  return new Api(local.url, issued.body.token);
}

const EXTRA = { name: 'extra', from: 'deadline', days: -15, template: '提醒：您的{typeName}（编号{number}）请{applyBy}办理{action}。' };

beforeAll(async () => {
  local = await startTestService({ inMemory: true, startAt: '2026-12-01T10:00:00+08:00' });
  operator = new Api(local.url);
  bureau = await issue({ role: 'bureau', authority: 'agriculture_rural', label: 'e2e bureau' });
  viewer = await issue({ role: 'viewer' });
  workDir = await makeTempDir('certalarm-e2e-rules-');
  const uploaded = await operator.post<{ accepted: number }>('/v1/certificates', [
    {
      type: TYPE,
      number: 'E2E-RULE-1',
      holder: { name: '兴国县测试农资有限公司', id: validUscc(931) },
      phone: '13900000931',
      township: '潋江镇',
      issuedOn: '2022-04-21',
      expiresOn: '2027-04-20',
    },
  ]);
  if (uploaded.body.accepted !== 1) throw new Error(`the fixture certificate was not stored: ${JSON.stringify(uploaded.body)}`);
});

afterAll(async () => {
  await local?.stop();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

describe('Local service: reminder rules over HTTP', () => {
  it('shows a type never changed as version 0, the default, with an empty history', async () => {
    // Act
    const list = await viewer.get<{ rules: Array<{ type: string; version: number; enabled: boolean; stages: number }> }>('/v1/rules');
    const rule = await viewer.get<RuleAnswer>(`/v1/rules/${TYPE}`);
    const history = await viewer.get<{ versions: unknown[] }>(`/v1/rules/${TYPE}/history`);

    // Assess
    expect(list.status).toBe(200);
    expect(list.body.rules.find((r) => r.type === TYPE)).toMatchObject({ version: 0, enabled: true, stages: 3 });
    expect(rule.body).toMatchObject({ type: TYPE, version: 0, enabled: true, changedBy: null });
    expect(rule.body.stages.map((s) => s.name)).toEqual(['first', 'final', 'expired']);
    expect(history.body.versions).toEqual([]);
  });

  it('refuses a change from a bureau or a viewer with 403', async () => {
    // Act
    const body = { comment: 'x', enabled: true, stages: defaultStages(), expectedVersion: 0 };
    const answers = await Promise.all([put(bureau, `/v1/rules/${TYPE}`, body), put(viewer, `/v1/rules/${TYPE}`, body), bureau.post(`/v1/rules/${TYPE}/restore`, { version: 0, comment: 'x' })]);

    // Assess
    expect(answers.map((a) => a.status)).toEqual([403, 403, 403]);
  });

  it('answers 400 with every error and its field path', async () => {
    // Act
    const answer = await put<{ errors: Array<{ field: string; reason: string }> }>(operator, `/v1/rules/${TYPE}`, {
      comment: '',
      enabled: true,
      stages: [...defaultStages(), { ...EXTRA, template: '【签名】{typName}', days: 120 }, { ...EXTRA }],
      expectedVersion: 0,
    });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((e) => e.field)).toEqual(['comment', 'stages[3].days', 'stages[3].template', 'stages[4].name']);
  });

  it('previews a draft over the stored certificate, saves it, answers 409 to a stale edit, lists the history and restores', async () => {
    // Act: preview
    const preview = await operator.post<{ current: Array<{ count: number }>; draft: Array<{ count: number }>; samples: Array<{ stage: string; to: string }>; affected: number }>(
      `/v1/rules/${TYPE}/preview`,
      { enabled: true, stages: [...defaultStages(), EXTRA], days: 90 },
    );

    // Assess: deadline 2027-01-20: first (2026-12-21) and final (2027-01-13) today, plus extra (2027-01-05) in the draft.
    expect(preview.status).toBe(200);
    expect(preview.body.current.reduce((n, d) => n + d.count, 0)).toBe(2);
    expect(preview.body.draft.reduce((n, d) => n + d.count, 0)).toBe(3);
    expect(preview.body.affected).toBe(1);
    expect(preview.body.samples.map((s) => s.stage)).toEqual(['first', 'extra', 'final']);

    // Act: save, then a second edit based on the same version
    const saved = await put<RuleAnswer & { replan: { state: string; done: number; total: number } }>(operator, `/v1/rules/${TYPE}`, {
      comment: '增加截止前 15 天的提醒',
      enabled: true,
      stages: [...defaultStages(), EXTRA],
      expectedVersion: 0,
    });
    const stale = await put(operator, `/v1/rules/${TYPE}`, { comment: '另一次修改', enabled: false, stages: defaultStages(), expectedVersion: 0 });
    const got = await viewer.get<RuleAnswer>(`/v1/rules/${TYPE}`);

    // Assess
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ version: 1, replan: { state: 'done', done: 1, total: 1 } });
    expect(stale.status).toBe(409);
    expect(got.body).toMatchObject({ version: 1, comment: '增加截止前 15 天的提醒', replan: { state: 'done', done: 1, total: 1 } });
    const plan = await viewer.get<{ stages: Array<{ stage: string }> }>(`/v1/certificates/${TYPE}/E2E-RULE-1/plan`);
    expect(plan.body.stages.map((s) => s.stage)).toEqual(['first', 'extra', 'final', 'expired']);

    // Act: restore the default
    const restored = await operator.post<RuleAnswer>(`/v1/rules/${TYPE}/restore`, { version: 0, comment: '撤回' });
    const history = await viewer.get<{ versions: Array<{ version: number; comment: string; diff: string[] }> }>(`/v1/rules/${TYPE}/history`);
    const audit = await operator.get<{ items: Array<{ action: string; target: string }> }>('/v1/audit?action=rules');

    // Assess
    expect(restored.status).toBe(200);
    expect(restored.body.version).toBe(2);
    expect(history.body.versions.map((v) => [v.version, v.comment])).toEqual([
      [2, '撤回'],
      [1, '增加截止前 15 天的提醒'],
    ]);
    expect(history.body.versions[1]?.diff).toEqual(['+ extra: deadline -15 days']);
    expect(audit.body.items.map((e) => e.action).sort()).toEqual(['rules.change', 'rules.restore']);
  });
});

describe('CLI: certalarm rules', () => {
  it('lists, shows, previews side by side, sets, shows the history and restores', async () => {
    // Prepare
    const file = join(workDir, 'rule.json');
    writeFileSync(file, JSON.stringify({ enabled: true, stages: [...defaultStages(), { ...EXTRA, name: 'cli_extra', days: -20 }] }, null, 2));
    const url = ['--url', local.url];
    const type = 'drug_retail_license';

    // Act
    const list = await runCli(['rules', 'list', ...url]);
    const get = await runCli(['rules', 'get', type, ...url, '--json']);
    const preview = await runCli(['rules', 'preview', type, file, ...url]);
    const set = await runCli(['rules', 'set', type, file, '--comment', '命令行修改', ...url]);
    const noComment = await runCli(['rules', 'set', type, file, ...url]);
    const history = await runCli(['rules', 'history', type, ...url, '--json']);
    const restore = await runCli(['rules', 'restore', type, '0', '--comment', '命令行撤回', ...url]);

    // Assess
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${type}\\s+v0`));
    expect(get.code).toBe(0);
    expect((JSON.parse(get.stdout) as RuleAnswer).version).toBe(0);
    expect(preview.code).toBe(0);
    expect(preview.stdout).toContain('date        current    draft');
    expect(set.code).toBe(0);
    expect(set.stdout).toContain(`${type} rule saved as version 1`);
    expect(set.stdout).toContain('+ cli_extra: deadline -20 days');
    expect(noComment.code).toBe(1);
    expect(noComment.stderr).toContain('--comment');
    expect((JSON.parse(history.stdout) as { versions: Array<{ version: number }> }).versions.map((v) => v.version)).toEqual([1]);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain('restored as version 2');
  });
});
