import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, freePort, REPO_ROOT, startServe, type ServeProcess } from '../support/e2e-cli.js';
import { Api, makeTempDir } from '../support/e2e-service.js';

/** The README's quick-start commands, exactly as a new user copies them. */
function quickStartBlock(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const found = /<!-- quick-start:begin -->\s*```sh\n([\s\S]*?)```\s*<!-- quick-start:end -->/.exec(readme);
  if (found?.[1] === undefined) throw new Error('README.md has no ```sh block between <!-- quick-start:begin --> and <!-- quick-start:end -->');
  return found[1];
}

function bash(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Today in Asia/Shanghai: the README computes its dates from the real day, so the service clock stays on it. */
const today = DateTime.now().setZone('Asia/Shanghai').toISODate() ?? '';

describe('README quick start, against `certalarm serve` with the demo data', () => {
  const running: ServeProcess[] = [];
  const dirs: string[] = [];

  afterAll(async () => {
    for (const serve of running) if (serve.child.exitCode === null && serve.child.signalCode === null) serve.child.kill('SIGKILL');
    await Promise.all(running.map((serve) => serve.exited));
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it.for([
    { when: 'in the afternoon, inside the send window', clock: `${today}T14:00:00+08:00`, sentOn: today },
    { when: 'at night, outside the send window', clock: `${today}T23:30:00+08:00`, sentOn: DateTime.fromISO(today).plus({ days: 1 }).toISODate() ?? '' },
  ])('shows a reminder for the example licence $when', { timeout: 180_000 }, async ({ clock, sentOn }) => {
    // Prepare: a fresh data dir and a generated operator token, as on a first `npm start`.
    const dataDir = await makeTempDir('certalarm-e2e-quick-start-');
    dirs.push(dataDir);
    const port = await freePort();
    const serve = startServe(['--port', String(port)], { CERTALARM_DATA_DIR: dataDir, CERTALARM_NOW: clock, CERTALARM_ADMIN_TOKEN: '' });
    running.push(serve);
    await serve.waitForStdout(/try: curl/, 120_000);
    await eventually('GET /healthz answering', async () => ((await new Api(`http://127.0.0.1:${port}`, null).get('/healthz')).status === 200 ? true : undefined), 60_000);
    // The only changes to the commands: this service's port and data dir instead of 3000 and .certalarm/.
    const script = quickStartBlock().replaceAll('localhost:3000', `localhost:${port}`).replaceAll('.certalarm/admin-token', `'${join(dataDir, 'admin-token')}'`);
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), CERTALARM_DATA_DIR: dataDir, NO_COLOR: '1' };
    for (const name of ['CERTALARM_URL', 'CERTALARM_TOKEN', 'CERTALARM_ADMIN_TOKEN', 'CERTALARM_NOW']) delete env[name];

    // Act
    const result = await bash(script, env);

    // Assess: grep, the last command, exits 0 only if the outbox holds the example's reminder.
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/^\[\{"code":"/);
    expect(result.stdout).toMatch(/"accepted":1\b/);
    expect(result.stdout).toMatch(/first\s+\S+\s+pending \(catchUp\)/);
    expect(result.stdout).toMatch(/first\s+pesticide_business_license HX-PEST-0001 → \+86139\*\*\*\*0001 .*\n\s+【兴国县行政审批局】/);
    expect(result.stdout).toMatch(/^sent [1-9]\d* · /m);
    const outboxLine = new RegExp(`\\[短信 ${sentOn} \\d{2}:\\d{2}\\] → \\+86139\\*\\*\\*\\*0001 .*\\n\\s+【兴国县行政审批局】.*HX-PEST-0001`);
    expect(result.stdout).toMatch(outboxLine);
    serve.child.kill('SIGINT');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
  });
});
