import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort, portState, processesMentioning, runCli, startServe, type ServeProcess } from '../support/e2e-cli.js';
import {
  Api,
  certificateRecord,
  enterpriseId,
  makeTempDir,
  residentId,
  startTestService,
  uniqueNumber,
  withBrokenCheck,
  type CertificateRecord,
  type CertificatePage,
  type OutboxMessage,
  type PlanAnswer,
  type TestService,
} from '../support/e2e-service.js';

// The CLI commands run as separate processes against one in-process service for the whole file.
let local: TestService;
let api: Api;
let workDir: string;

beforeAll(async () => {
  local = await startTestService({ inMemory: true, env: { CERTALARM_SMS_RATE: '1000' } });
  api = new Api(local.url);
  workDir = await makeTempDir('certalarm-e2e-cli-');
});

afterAll(async () => {
  await local?.stop();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

const CSV_HEADER = 'type,number,holder.name,holder.id,phone,township,issuedOn,expiresOn';

function csvLine(record: CertificateRecord): string {
  const { type, number, holder, phone, township, issuedOn, expiresOn } = record;
  return [type, number, holder.name, holder.id ?? '', phone, township, issuedOn, expiresOn].join(',');
}

/** A spreadsheet export as Excel writes it: UTF-8 with a byte-order mark, CRLF line ends. */
function writeCsv(name: string, records: CertificateRecord[]): string {
  const file = join(workDir, name);
  writeFileSync(file, `\uFEFF${[CSV_HEADER, ...records.map(csvLine)].join('\r\n')}\r\n`, 'utf8');
  return file;
}

function writeJson(name: string, records: unknown[]): string {
  const file = join(workDir, name);
  writeFileSync(file, JSON.stringify(records, null, 2), 'utf8');
  return file;
}

describe('CLI: certalarm <command> --help', () => {
  // Each command is its own process; they run side by side.
  it.concurrent.for([
    { command: 'serve', options: ['--port', '--data-dir', '--no-demo', '--now', '--scan-every'] },
    { command: 'import', options: ['<file>', '--url', '--json', '--batch-size'] },
    { command: 'plan', options: ['<type>', '<number>', '--url', '--json'] },
    { command: 'scan', options: ['--now', '--url', '--json'] },
    { command: 'outbox', options: ['--url', '--json'] },
    { command: 'deliveries', options: ['--status', '--since', '--phone', '--attention', '--url', '--json'] },
    { command: 'catalogue', options: ['--json'] },
  ])('prints the usage of $command with its options and exits 0', async ({ command, options }, { expect }) => {
    // Act
    const result = await runCli([command, '--help']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: certalarm ${command}`);
    for (const option of options) expect(result.stdout).toContain(option);
  });
});

describe('CLI: certalarm catalogue', () => {
  it('prints the 42 types as JSON with --json', async () => {
    // Act
    const result = await runCli(['catalogue', '--json']);

    // Assess
    expect(result.code).toBe(0);
    const types = JSON.parse(result.stdout) as Array<{ code: string; nameZh: string; renewalWindow: unknown }>;
    expect(types).toHaveLength(42);
    expect(types.find((t) => t.code === 'pesticide_business_license')).toMatchObject({
      nameZh: '农药经营许可证',
      renewalWindow: { days: 90, semantics: 'atLeastBefore' },
    });
  });
});

/** What `certalarm import --json` prints (the summary of a spreadsheet or a JSON file). */
interface ImportSummary {
  state: string;
  counts: { rows: number; accepted: number; created: number; updated: number; renewed: number; unchanged: number; rejected: number };
  rejected: Array<{ row?: number; index?: number; column: string; reason: string }>;
}

describe('CLI: certalarm import', () => {
  it('imports a CSV file and reports each bad row by its spreadsheet row number, exiting non-zero', async () => {
    // Prepare: row 1 is the header, so the bad records are rows 5 and 6.
    const rows = [
      certificateRecord({ number: uniqueNumber('CSV') }),
      certificateRecord({ number: uniqueNumber('CSV'), township: '古龙岗镇', phone: '139 0000 0003' }),
      certificateRecord({ number: uniqueNumber('CSV'), type: '农药经营许可证' }),
      certificateRecord({ number: uniqueNumber('CSV'), holder: { name: '兴国县某农资有限公司', id: withBrokenCheck(enterpriseId(9)) } }),
      certificateRecord({ number: uniqueNumber('CSV'), expiresOn: '2026-02-30' }),
      certificateRecord({ number: uniqueNumber('CSV'), holder: { name: '谢某某', id: residentId('1990-02-28', '123') } }),
    ];
    const file = writeCsv('certificates.csv', rows);

    // Act
    const result = await runCli(['import', file, '--url', local.url]);

    // Assess
    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/\b6 rows\b/);
    expect(result.stdout).toContain('4 accepted');
    expect(result.stdout).toContain('2 rejected');
    expect(result.stdout).toMatch(/row 5, holder\.id\b.*: \S+/);
    expect(result.stdout).toMatch(/row 6, expiresOn\b.*: \S+/);
    expect(result.stdout).not.toMatch(/row [2347],/);
    const stored = await Promise.all(rows.map((r) => api.certificate('pesticide_business_license', r.number)));
    expect(stored.map((s) => s.status)).toEqual([200, 200, 200, 404, 404, 200]);
    expect(stored[1]!.body).toMatchObject({ township: '360732102', phone: '+8613900000003' });
  });

  it('counts blank lines when it names a bad row, as a spreadsheet numbers its rows', async () => {
    // Prepare: the header is row 1, a good record row 2, a blank row 3 and the bad record row 4.
    const good = certificateRecord({ number: uniqueNumber('CSV') });
    const bad = certificateRecord({ number: uniqueNumber('CSV'), holder: { name: '兴国县某农资有限公司', id: withBrokenCheck(enterpriseId(11)) } });
    const file = join(workDir, 'with-blank-row.csv');
    writeFileSync(file, `${[CSV_HEADER, csvLine(good), '', csvLine(bad)].join('\r\n')}\r\n`, 'utf8');

    // Act
    const result = await runCli(['import', file, '--url', local.url, '--json']);

    // Assess
    expect(result.code).not.toBe(0);
    const summary = JSON.parse(result.stdout) as ImportSummary;
    expect(summary.rejected.map(({ row, column }) => ({ row, column }))).toEqual([{ row: 4, column: 'holder.id' }]);
  });

  it('imports a JSON file in batches and prints a machine-readable summary with --json', async () => {
    // Prepare: with two records per request, the bad record (index 2) is the first of the second batch.
    const records = [
      certificateRecord({ number: uniqueNumber('JSON') }),
      certificateRecord({ number: uniqueNumber('JSON') }),
      certificateRecord({ number: uniqueNumber('JSON'), phone: '0797-8321234' }),
      certificateRecord({ number: uniqueNumber('JSON') }),
    ];
    const file = writeJson('certificates.json', records);

    // Act
    const result = await runCli(['import', file, '--url', local.url, '--json', '--batch-size', '2']);

    // Assess
    expect(result.code).not.toBe(0);
    const summary = JSON.parse(result.stdout) as ImportSummary;
    expect(summary.counts).toMatchObject({ rows: 4, accepted: 3, created: 3, updated: 0, renewed: 0, unchanged: 0, rejected: 1 });
    expect(summary.rejected).toEqual([{ index: 2, column: 'phone', reason: expect.any(String) }]);
    expect((await api.certificate(records[2]!.type, records[2]!.number)).status).toBe(404);
    expect((await api.certificate(records[3]!.type, records[3]!.number)).status).toBe(200);
  });

  it('exits 0 when every record is accepted', async () => {
    // Prepare
    const records = [certificateRecord({ number: uniqueNumber('JSON') }), certificateRecord({ number: uniqueNumber('JSON') })];
    const file = writeJson('all-good.json', records);

    // Act
    const result = await runCli(['import', file, '--url', local.url, '--json']);

    // Assess
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as ImportSummary;
    expect(summary.counts).toMatchObject({ rows: 2, accepted: 2, created: 2, rejected: 0 });
    expect(summary.rejected).toEqual([]);
    expect((await api.certificate(records[1]!.type, records[1]!.number)).status).toBe(200);
  });
});

describe('CLI: certalarm plan', () => {
  const record = certificateRecord({ number: uniqueNumber('PLAN'), expiresOn: '2026-12-20' });

  beforeAll(async () => {
    await api.uploadAll([record]);
  });

  it.concurrent("prints a certificate's renewal deadline and reminder stages", async ({ expect }) => {
    // Act
    const result = await runCli(['plan', record.type, record.number, '--url', local.url]);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('renewal deadline: 2026-09-21');
    expect(result.stdout).toMatch(/first\s+2026-08-21T09:00:00(\.000)?\+08:00\s+pending/);
    expect(result.stdout).toMatch(/final\s+2026-09-14T09:00:00(\.000)?\+08:00\s+pending/);
    expect(result.stdout).toMatch(/expired\s+2026-12-21T09:00:00(\.000)?\+08:00\s+pending/);
  });

  it.concurrent('prints the same plan as the API with --json, finding the type by its Chinese name', async ({ expect }) => {
    // Act
    const result = await runCli(['plan', '农药经营许可证', record.number, '--url', local.url, '--json']);

    // Assess
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(await api.plan(record.type, record.number));
    expect((JSON.parse(result.stdout) as PlanAnswer).renewalDeadline).toBe('2026-09-21');
  });

  it.concurrent('says a certificate of a type without an expiry gets no reminders, and why, instead of a deadline', async ({ expect }) => {
    // Prepare
    const { expiresOn: _none, ...registration } = certificateRecord({ type: 'farm_machine_registration', number: uniqueNumber('NJ-DJ'), holder: { name: '演示农机户' } });
    await api.uploadAll([registration]);

    // Act
    const result = await runCli(['plan', '拖拉机和联合收割机登记证书', registration.number, '--url', local.url]);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(
      'no reminders: 拖拉机和联合收割机登记证书没有有效期，本服务不为其安排提醒 / farm_machine_registration (拖拉机和联合收割机登记证书) has no expiry, so certalarm plans no reminders for it',
    );
  });
});

describe('CLI: certalarm scan and outbox', () => {
  it('scans as of --now and the reminder appears in `outbox --json`', async () => {
    // Prepare
    const record = certificateRecord({ number: uniqueNumber('SCAN'), expiresOn: '2026-12-20' });
    await api.upload(record);

    // Act
    const scan = await runCli(['scan', '--now', '2026-08-21T09:30:00+08:00', '--url', local.url, '--json']);
    const outbox = await runCli(['outbox', '--url', local.url, '--json']);

    // Assess
    expect(scan.code).toBe(0);
    expect((JSON.parse(scan.stdout) as { sent: number }).sent).toBeGreaterThanOrEqual(1);
    expect(outbox.code).toBe(0);
    const mine = (JSON.parse(outbox.stdout) as OutboxMessage[]).filter((m) => m.number === record.number);
    expect(mine).toEqual([
      expect.objectContaining({ to: `+86${record.phone}`, type: record.type, stage: 'first', expiresOn: '2026-12-20', renewalDeadline: '2026-09-21' }),
    ]);
    expect(mine[0]!.body).toContain('【兴国县行政审批局】');
  });

  it('prints the count of sent messages as text, and nothing sent a second time', async () => {
    // Prepare
    const record = certificateRecord({ number: uniqueNumber('SCAN'), expiresOn: '2026-12-20' });
    await api.upload(record);
    await api.scan('2026-09-14T09:30:00+08:00');

    // Act
    const again = await runCli(['scan', '--now', '2026-09-14T09:30:00+08:00', '--url', local.url]);

    // Assess
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^sent 0\b/);
    expect((await api.outboxFor(record.number)).map((m) => m.stage)).toEqual(['final']);
  });

  it('says nothing was sent when --now is outside the send window', async () => {
    // Act
    const result = await runCli(['scan', '--now', '2026-09-14T22:00:00+08:00', '--url', local.url]);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('outside the send window');
  });

  it('lists the outbox as text, the last message with --last 1', async () => {
    // Prepare
    const outbox = await api.outbox();
    const last = outbox.at(-1)!;

    // Act
    const result = await runCli(['outbox', '--url', local.url, '--last', '1']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(last.body);
    expect(result.stdout.match(/\[短信 /g)).toHaveLength(1);
  });
});

describe('CLI: failures a person can act on', () => {
  // Independent of each other and of the service's state, so they run side by side.
  it.concurrent('exits non-zero with a clear message when the file does not exist', async ({ expect }) => {
    // Act
    const result = await runCli(['import', join(workDir, 'missing.csv'), '--url', local.url]);

    // Assess
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('missing.csv');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it.concurrent('exits non-zero and says so when the certificate is unknown', async ({ expect }) => {
    // Act
    const result = await runCli(['plan', 'pesticide_business_license', uniqueNumber('NEVER'), '--url', local.url]);

    // Assess
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('404');
    expect(result.stdout).toBe('');
  });

  it.concurrent('refuses a --now that is not an ISO instant', async ({ expect }) => {
    // Act
    const result = await runCli(['scan', '--now', 'next tuesday', '--url', local.url]);

    // Assess
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('next tuesday');
  });

  it.concurrent('exits non-zero with a hint when no service answers at --url', async ({ expect }) => {
    // Prepare
    const port = await freePort();

    // Act
    const result = await runCli(['outbox', '--url', `http://127.0.0.1:${port}`]);

    // Assess
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('cannot reach');
  });
});

describe('CLI: certalarm serve (what `npm start` runs)', () => {
  const running: ServeProcess[] = [];
  const dirs: string[] = [];

  afterAll(async () => {
    for (const serve of running) if (serve.child.exitCode === null && serve.child.signalCode === null) serve.child.kill('SIGKILL');
    await Promise.all(running.map((serve) => serve.exited));
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function serve(env: Record<string, string>): Promise<{ process: ServeProcess; api: Api; dataDir: string; dynamoPort: number }> {
    const dataDir = await makeTempDir('certalarm-e2e-serve-');
    dirs.push(dataDir);
    const port = await freePort();
    const proc = startServe(['--port', String(port), '--no-demo'], { CERTALARM_DATA_DIR: dataDir, ...env });
    running.push(proc);
    const client = new Api(`http://127.0.0.1:${port}`);
    await eventually('GET /healthz answering', async () => ((await client.get('/healthz')).status === 200 ? true : undefined), 60_000);
    const dynamo = await proc.waitForStdout(/DynamoDB Local: http:\/\/127\.0\.0\.1:(\d+)/);
    return { process: proc, api: client, dataDir, dynamoPort: Number(dynamo[1]) };
  }

  it('starts empty with --no-demo, runs the scheduled scan, writes the outbox in the data dir and stops its DynamoDB Local on Ctrl+C', { timeout: 60_000 }, async () => {
    // Prepare: the clock starts 4 s before 10:01, when the one-minute scheduled scan runs.
    const started = await serve({
      CERTALARM_NOW: '2026-06-01T10:00:56+08:00',
      CERTALARM_SCAN_EVERY_MINUTES: '1',
      CERTALARM_MAX_BODY_BYTES: '4096',
    });
    const health = await started.api.get<{ now: string }>('/healthz');
    const empty = await started.api.get<CertificatePage>('/v1/certificates');
    const record = certificateRecord({ number: uniqueNumber('SERVE'), issuedOn: '2021-05-20', expiresOn: '2026-05-20' });
    const upload = await started.api.upload(record);
    const oversized = await started.api.postRaw('/v1/certificates', JSON.stringify([{ ...record, holder: { name: 'x'.repeat(5000) } }]));
    const sent = await eventually('the scheduled scan sending the catch-up', async () => {
      const messages = await started.api.outboxFor(record.number);
      return messages.length > 0 ? messages : undefined;
    });
    const javaBefore = processesMentioning(started.dataDir);

    // Act
    started.process.child.kill('SIGINT');
    const exit = await started.process.exited;

    // Assess
    const drift = Date.parse(health.body.now) - Date.parse('2026-06-01T10:00:56+08:00');
    expect(drift).toBeGreaterThanOrEqual(0);
    expect(drift).toBeLessThan(30_000);
    expect(empty.body.items).toEqual([]);
    expect(started.process.output().stdout).toContain('demo certificates loaded now: 0');
    expect(upload.status).toBe(200);
    expect(upload.body.accepted).toBe(1);
    expect(oversized.status).toBe(413);
    expect(sent.map((m) => m.stage)).toEqual(['expired']);
    expect(started.process.output().stdout).toContain(sent[0]!.body);
    const outboxFile = join(started.dataDir, 'outbox.jsonl');
    expect(existsSync(outboxFile)).toBe(true);
    expect(readFileSync(outboxFile, 'utf8')).toContain(record.number);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await portState(started.dynamoPort)).toBe('ECONNREFUSED');
    // Where /proc exists, the java process itself is looked for too: running before, gone after.
    expect(javaBefore?.length ?? 'no /proc').not.toBe(0);
    expect(processesMentioning(started.dataDir) ?? []).toEqual([]);
  });

  it('leaves no DynamoDB Local behind when the process is killed outright', { timeout: 60_000 }, async () => {
    // Prepare
    const started = await serve({ CERTALARM_NOW: '2026-06-01T10:00:00+08:00', CERTALARM_SCAN_EVERY_MINUTES: '0' });
    const openBefore = await portState(started.dynamoPort);

    // Act
    started.process.child.kill('SIGKILL');
    await started.process.exited;
    const closed = await eventually('DynamoDB Local closing its port', async () => ((await portState(started.dynamoPort)) === 'open' ? undefined : true), 15_000);

    // Assess
    expect(openBefore).toBe('open');
    expect(closed).toBe(true);
    expect(await portState(started.dynamoPort)).toBe('ECONNREFUSED');
    const leftovers = await eventually('the java process ending', async () => {
      const found = processesMentioning(started.dataDir);
      return found === undefined || found.length === 0 ? (found ?? []) : undefined;
    });
    expect(leftovers).toEqual([]);
  });
});
