import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/e2e-cli.js';
import { Api, certificateRecord, startTestService, uniqueNumber, type TestService } from '../support/e2e-service.js';

interface CliSuppression {
  phone: string;
  source: string;
  at: string;
  detail?: string;
}

// One in-memory service for the file: two holders reply 退订 / TD, as SNS two-way SMS would deliver it.
let local: TestService;
let api: Api;

beforeAll(async () => {
  local = await startTestService({ inMemory: true });
  api = new Api(local.url);
  await api.uploadAll([certificateRecord({ number: uniqueNumber('SUP-A'), phone: '13900000361' }), certificateRecord({ number: uniqueNumber('SUP-B'), phone: '13900000362' })]);
  for (const [from, text] of [
    ['13900000361', '退订'],
    ['13900000362', ' td。'],
  ] as const) {
    const reply = await runCli(['inbound', from, text, '--url', local.url, '--json']);
    if (reply.code !== 0) throw new Error(`the fixture opt-out failed: ${reply.stderr}`);
  }
});

afterAll(async () => {
  await local?.stop();
});

async function listed(): Promise<CliSuppression[]> {
  const result = await runCli(['suppressions', 'list', '--url', local.url, '--json']);
  if (result.code !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as CliSuppression[];
}

describe('CLI: certalarm suppressions', () => {
  it.each([
    { command: ['suppressions', '--help'], options: ['list', 'reinstate'] },
    { command: ['suppressions', 'list', '--help'], options: ['--all', '--limit', '--url', '--json'] },
    { command: ['suppressions', 'reinstate', '--help'], options: ['<phone>', '--comment', '--url', '--json'] },
  ])('prints the usage of $command', async ({ command, options }) => {
    // Act
    const result = await runCli(command);

    // Assess
    expect(result.code).toBe(0);
    for (const option of options) expect(result.stdout).toContain(option);
  });

  it('lists the numbers that opted out, masked, with their source and keyword, as JSON and as text', async () => {
    // Act
    const json = await listed();
    const text = await runCli(['suppressions', 'list', '--url', local.url]);

    // Assess
    expect(json).toEqual([
      expect.objectContaining({ phone: '+86139****0361', source: 'sms-keyword' }),
      expect.objectContaining({ phone: '+86139****0362', source: 'sms-keyword' }),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('+86139****0361  sms-keyword');
    expect(text.stdout).not.toMatch(/1390000036[12]/);
  });

  it('refuses reinstate without --comment before calling the service, and keeps the number suppressed', async () => {
    // Act
    const result = await runCli(['suppressions', 'reinstate', '13900000361', '--url', local.url]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('suppressions reinstate needs --comment');
    expect((await listed()).map((s) => s.phone)).toContain('+86139****0361');
  });

  it('reinstates a number with a comment, masked in its answer, and says 404 for a number not on the list', async () => {
    // Act
    const done = await runCli(['suppressions', 'reinstate', '13900000362', '--comment', '本人来电要求恢复提醒', '--url', local.url]);
    const again = await runCli(['suppressions', 'reinstate', '13900000362', '--comment', '再次', '--url', local.url, '--json']);

    // Assess
    expect(done.code).toBe(0);
    expect(done.stdout.trim()).toMatch(/^\+86139\*\*\*\*0362 reinstated \/ 已恢复发送 \(was sms-keyword since .+\): it receives SMS again$/);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('+86139****0362 不在退订名单上 / +86139****0362 is not on the suppression list');
    expect(`${done.stdout}${again.stderr}`).not.toContain('13900000362');
    expect((await listed()).map((s) => s.phone)).toEqual(['+86139****0361']);
  });
});
