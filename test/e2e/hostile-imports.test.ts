import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort, processesMentioning, startServe, type ServeProcess } from '../support/e2e-cli.js';
import { billionLaughs, GiB, MiB, oneCellBomb, sharedStringsBomb, zerosBomb } from '../support/xlsx-bombs.js';

const TOKEN = 'hostile-operator-token';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const HEALTH_TIMEOUT_MS = 2_000;

interface ImportStatus {
  state: string;
  failure: { code: string; message: string } | null;
}

async function call<T>(url: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(url, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string> | undefined) } });
  return (await response.json()) as T;
}

const started: ServeProcess[] = [];
const dataDirs: string[] = [];

async function serve(options: { dataDir?: string; port?: number; env?: Record<string, string> } = {}): Promise<{ process: ServeProcess; base: string; dataDir: string }> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'certalarm-hostile-')));
  if (options.dataDir === undefined) dataDirs.push(dataDir);
  const port = options.port ?? (await freePort());
  const process = startServe(['--port', String(port), '--no-demo', '--scan-every', '0'], {
    CERTALARM_DATA_DIR: dataDir,
    CERTALARM_ADMIN_TOKEN: TOKEN,
    CERTALARM_NOW: '2026-06-01T10:00:00+08:00',
    ...options.env,
  });
  started.push(process);
  await process.waitForStdout(/listening on/);
  return { process, base: `http://127.0.0.1:${port}`, dataDir };
}

afterAll(async () => {
  for (const serveProcess of started) serveProcess.child.kill('SIGKILL');
  await Promise.all(started.map((serveProcess) => serveProcess.exited));
  await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('Local service: hostile spreadsheets, with the default limits', () => {
  let service: { process: ServeProcess; base: string };

  beforeAll(async () => {
    service = await serve();
  }, 60_000);

  /** Uploads the file, then polls /healthz (2 s timeout each) until the import ends; the slowest answer in ms and the import's end. */
  async function importWhileProbing(file: Buffer, fileName: string): Promise<{ slowestHealthMs: number; probes: number; status: ImportStatus }> {
    const submitted = await call<{ id: string }>(`${service.base}/v1/imports?fileName=${fileName}`, { method: 'POST', body: file, headers: { 'content-type': XLSX } });
    let slowestHealthMs = 0;
    let probes = 0;
    const deadline = Date.now() + 90_000;
    for (;;) {
      const startedAt = Date.now();
      const health = await fetch(`${service.base}/healthz`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
      expect(health.status).toBe(200);
      slowestHealthMs = Math.max(slowestHealthMs, Date.now() - startedAt);
      probes += 1;
      const status = await call<ImportStatus>(`${service.base}/v1/imports/${submitted.id}`);
      if (status.state === 'done' || status.state === 'failed') return { slowestHealthMs, probes, status };
      if (Date.now() > deadline) throw new Error(`import ${submitted.id} still ${status.state} after 90 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('fails an xlsx whose shared strings inflate to 2 GiB, answering /healthz within 2 s throughout', async () => {
    // Act
    const result = await importWhileProbing(sharedStringsBomb(2 * GiB), 'shared-strings-bomb.xlsx');

    // Assess
    expect(result.status.state).toBe('failed');
    expect(result.status.failure?.code).toBe('too_large_unpacked');
    expect(result.status.failure?.message).toMatch(/^文件解压后过大.* \/ file too large when unpacked/);
    expect(result.slowestHealthMs).toBeLessThan(HEALTH_TIMEOUT_MS);
    expect(service.process.child.exitCode).toBeNull();
  }, 120_000);

  it('fails an xlsx with one cell inflating to 400 MB, and the service stays up', async () => {
    // Act
    const result = await importWhileProbing(oneCellBomb(400 * MiB), 'one-cell-bomb.xlsx');

    // Assess
    expect(result.status.state).toBe('failed');
    expect(result.status.failure?.code).toBe('cell_too_long');
    expect(result.status.failure?.message).toMatch(/超过 32767 个字符的上限.* \/ .*longer than the limit of 32767 characters/);
    expect(result.slowestHealthMs).toBeLessThan(HEALTH_TIMEOUT_MS);
    expect(service.process.child.exitCode).toBeNull();
  }, 120_000);

  it('fails an xlsx whose first sheet is 2 GiB of zeros instead of copying it to the temporary directory', async () => {
    // Act
    const result = await importWhileProbing(zerosBomb(2 * GiB), 'zeros-bomb.xlsx');

    // Assess
    expect(result.status.state).toBe('failed');
    expect(result.status.failure?.message).toMatch(/^文件解压后过大.* \/ file too large when unpacked/);
    expect(result.slowestHealthMs).toBeLessThan(HEALTH_TIMEOUT_MS);
  }, 120_000);

  it('fails a billion-laughs sheet for its DTD without expanding an entity', async () => {
    // Act
    const result = await importWhileProbing(billionLaughs(), 'billion-laughs.xlsx');

    // Assess
    expect(result.status.state).toBe('failed');
    expect(result.status.failure?.code).toBe('dtd_refused');
    expect(result.status.failure?.message).toMatch(/含有 DTD.* \/ .*holds a DTD/);
    expect(result.slowestHealthMs).toBeLessThan(HEALTH_TIMEOUT_MS);
    expect(service.process.child.exitCode).toBeNull();
  }, 60_000);
});

describe('Local service: DynamoDB Local dies under it', () => {
  it('logs which child died and exits with a message saying so, with no unhandled error', async () => {
    // Prepare
    const { process: serveProcess, dataDir } = await serve();
    const java = processesMentioning(dataDir) ?? [];
    expect(java).toHaveLength(1);

    // Act
    globalThis.process.kill(java[0]!, 'SIGKILL');
    const exit = await eventually('certalarm serve to exit', async () => (serveProcess.child.exitCode !== null ? serveProcess.exited : undefined), 20_000);

    // Assess
    const { stderr } = serveProcess.output();
    expect(exit.code).toBe(1);
    expect(stderr).toContain(`certalarm stopped: DynamoDB Local (java, pid ${java[0]}) exited unexpectedly (SIGKILL)`);
    expect(stderr).not.toMatch(/Unhandled 'error' event|EPIPE|uncaught/i);
  }, 90_000);
});

describe('Local service: a file that kills the process on every start', () => {
  it('is marked failed on the start after it crashed two starts, and the service then stays up', async () => {
    // Prepare: bounds lifted and a small heap, so the shared-strings bomb kills the process as it did before the bounds.
    const unbounded = {
      NODE_OPTIONS: '--max-old-space-size=192',
      CERTALARM_IMPORT_MAX_INFLATION_RATIO: '1000000',
      CERTALARM_IMPORT_MAX_SHARED_STRINGS: '1000000000',
      CERTALARM_IMPORT_MAX_SHARED_STRING_CHARS: '100000000000',
      CERTALARM_IMPORT_MAX_INFLATED_BYTES: '100000000000',
      CERTALARM_IMPORT_MAX_PART_BYTES: '100000000000',
    };
    const first = await serve({ env: unbounded });
    const port = Number(new URL(first.base).port);
    const submitted = await call<{ id: string }>(`${first.base}/v1/imports?fileName=poison.xlsx`, { method: 'POST', body: sharedStringsBomb(2 * GiB), headers: { 'content-type': XLSX } });
    const crashes: Array<number | null> = [];
    const crashed = async (serveProcess: ServeProcess) => {
      crashes.push((await serveProcess.exited).code);
      await eventually('the crashed service’s DynamoDB Local to exit', async () => ((processesMentioning(first.dataDir) ?? []).length === 0 ? true : undefined), 30_000);
    };
    await crashed(first.process);
    const second = await serve({ dataDir: first.dataDir, port, env: unbounded });
    await crashed(second.process);

    // Act
    const third = await serve({ dataDir: first.dataDir, port, env: unbounded });
    const status = await eventually('the import to be failed', async () => {
      const answer = await call<ImportStatus>(`${third.base}/v1/imports/${submitted.id}`);
      return answer.state === 'failed' ? answer : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    // Assess
    expect(crashes.every((code) => code !== 0)).toBe(true);
    expect(status.failure?.code).toBe('interrupted_repeatedly');
    expect(status.failure?.message).toMatch(/^导入在连续两次启动中都在同一处.* \/ the import stopped at the same point/);
    expect(third.process.child.exitCode).toBeNull();
    expect((await fetch(`${third.base}/healthz`)).status).toBe(200);
  }, 240_000);
});
