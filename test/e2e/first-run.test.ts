import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import stringWidth from 'string-width';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, startServe, type ServeProcess } from '../support/e2e-cli.js';
import {
  Api,
  certificateRecord,
  E2E_TOKEN,
  makeTempDir,
  startTestService,
  stagesOf,
  uniqueNumber,
  type TestService,
  type UploadAnswer,
} from '../support/e2e-service.js';

/** What `POST /v1/scans` with `dryRun: true` answers. */
interface DryRunAnswer {
  now: string;
  insideSendWindow: boolean;
  dryRun: true;
  messages: Array<{ type: string; number: string; stage: string; to: string; body: string; segments: number; supersedes: string[] }>;
}

let local: TestService;
let api: Api;
let workDir: string;

beforeAll(async () => {
  local = await startTestService({ inMemory: true, env: { CERTALARM_SMS_RATE: '1000' } });
  api = new Api(local.url);
  workDir = await makeTempDir('certalarm-e2e-first-run-');
});

afterAll(async () => {
  await local?.stop();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

/** Sends bytes exactly as given over a raw TCP connection and collects the whole answer until the server closes. */
function rawExchange(url: string, request: Buffer): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.write(request);
  });
}

/** Runs one line in bash, as a person pasting it would. */
function bash(line: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', line], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const STACK_LINE = /^\s+at /m;

describe('Local service: POST /v1/scans with dryRun', () => {
  it('answers what would be sent, records and sends nothing, and a real scan then sends exactly that', async () => {
    // Prepare: the first reminder of a licence expiring 2026-12-20 is due on 2026-08-21.
    const record = certificateRecord({ number: uniqueNumber('DRY'), expiresOn: '2026-12-20' });
    await api.uploadAll([record]);
    const planBefore = await api.plan(record.type, record.number);
    const outboxBefore = await api.outbox();

    // Act
    const dry = await api.post<DryRunAnswer>('/v1/scans', { now: '2026-08-21T09:30:00+08:00', dryRun: true });
    const planAfterDryRun = await api.plan(record.type, record.number);
    const outboxAfterDryRun = await api.outbox();
    const real = await api.scan('2026-08-21T09:30:00+08:00');

    // Assess
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, insideSendWindow: true });
    const mine = dry.body.messages.filter((m) => m.number === record.number);
    expect(mine).toEqual([
      { type: record.type, number: record.number, stage: 'first', to: `+86${record.phone.slice(0, 3)}****${record.phone.slice(-4)}`, body: expect.stringContaining(record.number), segments: expect.any(Number), supersedes: [] },
    ]);
    expect(planAfterDryRun).toEqual(planBefore);
    expect(outboxAfterDryRun).toEqual(outboxBefore);
    expect(real.sent).toBeGreaterThanOrEqual(1);
    const sent = await api.outboxFor(record.number);
    expect(sent.map(({ stage, body, segments }) => ({ stage, body, segments }))).toEqual([{ stage: 'first', body: mine[0]!.body, segments: mine[0]!.segments }]);
    expect(stagesOf(await api.plan(record.type, record.number)).find((s) => s.stage === 'first')?.status).toBe('sent');
  });

  it('answers that nothing would be sent outside the send window', async () => {
    // Act
    const dry = await api.post<DryRunAnswer>('/v1/scans', { now: '2026-08-21T22:00:00+08:00', dryRun: true });

    // Assess
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual({ now: '2026-08-21T22:00:00.000+08:00', insideSendWindow: false, dryRun: true, messages: [] });
  });

  it('scans as of the next morning with atNextWindow when asked at night', async () => {
    // Prepare: a certificate whose final reminder is due at 09:00 on 2026-09-14.
    const record = certificateRecord({ number: uniqueNumber('NEXT'), expiresOn: '2026-12-20' });
    await api.uploadAll([record]);
    await api.scan('2026-08-21T09:30:00+08:00');

    // Act
    const dry = await api.post<DryRunAnswer>('/v1/scans', { now: '2026-09-13T23:10:00+08:00', atNextWindow: true, dryRun: true });

    // Assess
    expect(dry.status).toBe(200);
    expect(dry.body.now).toBe('2026-09-14T09:00:00.000+08:00');
    expect(dry.body.messages.filter((m) => m.number === record.number).map((m) => m.stage)).toEqual(['final']);
  });
});

describe('Local service: a request the HTTP parser refuses', () => {
  it('gets a JSON 400 that says to percent-encode, not an empty answer', async () => {
    // Prepare: curl sends a typed Chinese file name as raw UTF-8 bytes in the request target.
    const request = Buffer.from(`POST /v1/imports?fileName=名单.csv HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${E2E_TOKEN}\r\nContent-Length: 0\r\n\r\n`, 'utf8');

    // Act
    const answer = await rawExchange(local.url, request);

    // Assess
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(head.toLowerCase()).toContain('content-type: application/json');
    const parsed = JSON.parse(body) as { error: { code: string; message: string } };
    expect(parsed.error.code).toBe('bad_request');
    expect(parsed.error.message).toContain('percent-encoded');
    expect(parsed.error.message).toContain('%E5%90%8D%E5%8D%95.csv');
  });

  it('accepts the same file name percent-encoded, and keeps it in Chinese', async () => {
    // Prepare
    const csv = `type,number,holder.name,holder.id,phone,township,issuedOn,expiresOn\n`;

    // Act
    const response = await fetch(new URL(`/v1/imports?fileName=${encodeURIComponent('名单.csv')}`, local.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${E2E_TOKEN}`, 'content-type': 'text/csv' },
      body: csv,
    });
    const { id } = (await response.json()) as { id: string };
    const status = await api.get<{ fileName: string }>(`/v1/imports/${id}`);

    // Assess
    expect(response.status).toBe(202);
    expect(status.body.fileName).toBe('名单.csv');
  });
});

describe('CLI: certalarm import of a file with a Chinese name', () => {
  it('percent-encodes the name, which the import keeps in Chinese', async () => {
    // Prepare
    const file = join(workDir, '名单.csv');
    const good = certificateRecord({ number: uniqueNumber('NAME') });
    writeFileSync(file, `type,number,holder.name,holder.id,phone,township,issuedOn,expiresOn\n${[good.type, good.number, good.holder.name, good.holder.id, good.phone, good.township, good.issuedOn, good.expiresOn].join(',')}\n`);

    // Act
    const result = await runCli(['import', file, '--url', local.url, '--json']);

    // Assess
    expect(result.code).toBe(0);
    const { importId } = JSON.parse(result.stdout) as { importId: string };
    expect((await api.get<{ fileName: string }>(`/v1/imports/${importId}`)).body.fileName).toBe('名单.csv');
  });
});

describe('Local service: an unknown certificate type', () => {
  it('is refused with the accepted forms and the closest catalogue type', async () => {
    // Act
    const answer = await api.upload(certificateRecord({ number: uniqueNumber('TYPE'), type: '食品经营许可证书' }));

    // Assess
    expect(answer.status).toBe(200);
    const [rejection] = (answer.body as UploadAnswer).rejected;
    expect(rejection?.field).toBe('type');
    expect(rejection?.reason).toContain('中文名称');
    expect(rejection?.reason).toContain('closest match: food_business_license (食品经营许可证)');
  });
});

describe('CLI: certalarm scan --dry-run', () => {
  it('prints the messages a scan would send, and sends none of them', async () => {
    // Prepare: the final reminder of this licence is due at 09:00 on 2026-09-14.
    const record = certificateRecord({ number: uniqueNumber('CLIDRY'), expiresOn: '2026-12-20' });
    await api.uploadAll([record]);
    await api.scan('2026-08-21T09:30:00+08:00');

    // Act
    const text = await runCli(['scan', '--dry-run', '--now', '2026-09-14T09:30:00+08:00', '--url', local.url]);
    const json = await runCli(['scan', '--dry-run', '--now', '2026-09-14T09:30:00+08:00', '--url', local.url, '--json']);

    // Assess
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^dry run as of 2026-09-14T09:30:00\.000\+08:00: \d+ message\(s\) would be sent; nothing was sent or recorded/);
    expect(text.stdout).toMatch(new RegExp(`final\\s+${record.type} ${record.number} → \\+86${record.phone.slice(0, 3)}\\*\\*\\*\\*${record.phone.slice(-4)} \\(\\d 条计费\\)`));
    const answer = JSON.parse(json.stdout) as DryRunAnswer;
    const mine = answer.messages.find((m) => m.number === record.number);
    expect(text.stdout).toContain(mine?.body);
    expect(await api.outboxFor(record.number)).toHaveLength(1);
  });
});

describe('CLI: certalarm import --errors FILE', () => {
  it('writes the rejected rows as UTF-8 with a byte-order mark, as Excel needs', async () => {
    // Prepare
    const file = join(workDir, 'bad-row.csv');
    const bad = certificateRecord({ number: uniqueNumber('BOM'), expiresOn: '2026-02-30' });
    writeFileSync(file, `type,number,holder.name,holder.id,phone,township,issuedOn,expiresOn\n${[bad.type, bad.number, bad.holder.name, bad.holder.id, bad.phone, bad.township, bad.issuedOn, bad.expiresOn].join(',')}\n`);
    const errors = join(workDir, '错误行.csv');

    // Act
    const result = await runCli(['import', file, '--url', local.url, '--errors', errors]);

    // Assess
    expect(result.code).toBe(2);
    const bytes = readFileSync(errors);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3, 4).toString()).toBe('r');
    expect(bytes.toString('utf8')).toContain('2026-02-30');
  });
});

describe('CLI: certalarm import of a file whose headers match no field', () => {
  it('reports the missing columns once, not again as row 1', async () => {
    // Prepare
    const file = join(workDir, 'unknown-headers.csv');
    writeFileSync(file, 'foo,bar\n1,2\n');

    // Act
    const text = await runCli(['import', file, '--url', local.url]);
    const json = await runCli(['import', file, '--url', local.url, '--json']);

    // Assess
    expect(text.code).toBe(2);
    expect(text.stdout.match(/missing required columns/g)).toHaveLength(1);
    expect(text.stdout).not.toMatch(/row 1,/);
    const summary = JSON.parse(json.stdout) as { state: string; failure: { code: string }; rejected: unknown[] };
    expect(summary).toMatchObject({ state: 'failed', failure: { code: 'missing_columns' }, rejected: [] });
  });
});

describe('CLI: certalarm catalogue', () => {
  it('prints a table aligned for Chinese text: code, name, window in words, authority, confidence', async () => {
    // Act
    const result = await runCli(['catalogue']);

    // Assess
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2 + 42);
    expect(lines[0]).toMatch(/^code\s+名称 name\s+申请期限 renewal window\s+发证机关 authority\s+可信度 confidence$/);
    const row = (code: string) => lines.find((line) => line.startsWith(`${code} `)) ?? '';
    expect(row('pesticide_business_license')).toMatch(/农药经营许可证\s+到期前90日\s+agriculture_rural\s+高 high$/);
    expect(row('food_business_license')).toContain('到期前90至15个工作日');
    expect(row('farm_machine_operator_license')).toContain('到期前90日内');
    expect(row('constructor_grade2_registration')).toContain('到期前30日');
    expect(row('food_production_license')).toContain('到期前30个工作日');
    expect(row('contractor_qualification')).toContain('到期前3个月');
    // Each column starts at the same terminal column on every line, counting a Chinese character as two.
    const authorityColumn = (line: string) => stringWidth(line.slice(0, line.search(/ (?:[a-z_]+|发证机关 authority)\s+(?:[高中低] |可信度)/) + 1));
    const starts = new Set(lines.filter((_, i) => i !== 1).map(authorityColumn));
    expect(starts.size).toBe(1);
  });
});

describe('CLI: mistakes a person makes get one plain line, no stack trace', () => {
  it.concurrent('names the missing option of token create', async ({ expect }) => {
    // Act
    const result = await runCli(['token', 'create', '--url', local.url]);

    // Assess
    expect(result.code).not.toBe(0);
    expect(result.stderr).toBe('certalarm: token create needs --role\n');
  });

  it.concurrent.for([
    { variable: 'CERTALARM_SIGNATURE', value: '兴国县行政审批局', fix: '【兴国县行政审批局】' },
    { variable: 'CERTALARM_SEND_WINDOW', value: '9-20', fix: '09:00-20:00' },
  ])('refuses a bad $variable with its name and the fix, and a stack only with LOG_LEVEL=debug', async ({ variable, value, fix }, { expect }) => {
    // Prepare
    const dataDir = join(workDir, `settings-${variable}`);

    // Act
    const plain = await runCli(['serve', '--no-demo', '--data-dir', dataDir], { env: { [variable]: value } });
    const debug = await runCli(['serve', '--no-demo', '--data-dir', dataDir], { env: { [variable]: value, LOG_LEVEL: 'debug' } });

    // Assess
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toContain(variable);
    expect(plain.stderr).toContain(fix);
    expect(plain.stderr.trim().split('\n')).toHaveLength(1);
    expect(plain.stderr).not.toMatch(STACK_LINE);
    expect(debug.code).not.toBe(0);
    expect(debug.stderr).toMatch(STACK_LINE);
  });
});

describe('CLI: certalarm serve, first start', () => {
  const running: ServeProcess[] = [];
  let blocker: Server | undefined;

  afterAll(async () => {
    for (const serve of running) if (serve.child.exitCode === null && serve.child.signalCode === null) serve.child.kill('SIGKILL');
    await Promise.all(running.map((serve) => serve.exited));
    await new Promise<void>((resolve) => (blocker === undefined ? resolve() : blocker.close(() => resolve())));
  });

  it('says which port is taken and how to pick another, without a stack trace', { timeout: 60_000 }, async () => {
    // Prepare
    const port = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(port, '127.0.0.1', resolve));

    // Act
    const serve = startServe(['--port', String(port), '--no-demo'], { CERTALARM_DATA_DIR: join(workDir, 'port-taken') });
    running.push(serve);
    const exit = await serve.exited;

    // Assess
    const { stderr } = serve.output();
    expect(exit.code).not.toBe(0);
    expect(stderr).toContain(`port ${port}`);
    expect(stderr).toContain(`--port ${port + 1}`);
    expect(stderr).not.toMatch(STACK_LINE);
  });

  it('prints a first command that works as printed', { timeout: 60_000 }, async () => {
    // Prepare: no CERTALARM_ADMIN_TOKEN, so the service generates one and keeps it in the data dir.
    const port = await freePort();
    const dataDir = join(workDir, 'first start');
    const serve = startServe(['--port', String(port), '--no-demo'], { CERTALARM_DATA_DIR: dataDir, CERTALARM_ADMIN_TOKEN: '', CERTALARM_SCAN_EVERY_MINUTES: '0' });
    running.push(serve);
    const [, hint = ''] = await serve.waitForStdout(/try: (curl .*)\n/, 60_000);

    // Act
    const env = { ...process.env };
    delete env.CERTALARM_ADMIN_TOKEN;
    delete env.CERTALARM_TOKEN;
    const result = await bash(hint, env);

    // Assess
    expect(hint).toContain(`http://127.0.0.1:${port}/v1/catalogue`);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\[\{"code":"/);
  });
});
