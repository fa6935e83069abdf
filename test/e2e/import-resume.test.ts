import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { usccCheckCharacter } from '../../functions/core/holder-id.js';
import { eventually, freePort, processesMentioning, startServe, type ServeProcess } from '../support/e2e-cli.js';

const TOKEN = 'resume-operator-token';
const ROWS = 8_000;

interface Status {
  state: string;
  progress: { phase: string; rowsDone: number };
  counts: { rows: number; created: number; accepted: number; rejected: number; unchanged: number };
}

function csv(): string {
  const lines = ['证照类型,证照编号,持证主体,统一社会信用代码,联系电话,所属乡镇,发证日期,有效期至'];
  for (let i = 0; i < ROWS; i += 1) {
    const first17 = `91360732MA${String(i).padStart(7, '0')}`;
    lines.push(`农药经营许可证,RESUME-${i},兴国县测试农资店${i},${first17}${usccCheckCharacter(first17)},1390000${String(i % 10000).padStart(4, '0')},潋江镇,2022-01-01,2027-01-01`);
  }
  return `${lines.join('\n')}\n`;
}

async function call<T>(url: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(url, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string> | undefined) } });
  return (await response.json()) as T;
}

const started: ServeProcess[] = [];
let dataDir = '';

afterAll(async () => {
  for (const serve of started) serve.child.kill('SIGKILL');
  if (dataDir !== '') await rm(dataDir, { recursive: true, force: true });
});

describe('Local service: an import interrupted by a killed process', () => {
  it('continues where it stopped when the service restarts, losing no row and storing none twice', async () => {
    // Prepare
    dataDir = await mkdtemp(join(tmpdir(), 'certalarm-resume-'));
    const port = await freePort();
    const env = { CERTALARM_DATA_DIR: dataDir, CERTALARM_ADMIN_TOKEN: TOKEN, CERTALARM_NOW: '2026-06-01T10:00:00+08:00' };
    const first = startServe(['--port', String(port), '--no-demo', '--scan-every', '0'], env);
    started.push(first);
    await first.waitForStdout(/listening on/);
    const base = `http://127.0.0.1:${port}`;
    const submitted = await call<{ id: string }>(`${base}/v1/imports?fileName=resume.csv`, { method: 'POST', body: csv(), headers: { 'content-type': 'text/csv' } });

    // Act: kill -9 once some chunks are stored, then start again on the same data directory.
    const midway = await eventually(
      'the import to store its first chunks',
      async () => {
        const status = await call<Status>(`${base}/v1/imports/${submitted.id}`);
        return status.state === 'storing' && status.progress.rowsDone >= 2000 ? status : undefined;
      },
      60_000,
    );
    first.child.kill('SIGKILL');
    await first.exited;
    await eventually('the killed service’s DynamoDB Local to exit', async () => ((processesMentioning(dataDir) ?? []).length === 0 ? true : undefined), 20_000);
    const second = startServe(['--port', String(port), '--no-demo', '--scan-every', '0'], env);
    started.push(second);
    await second.waitForStdout(/listening on/);
    const finished = await eventually(
      'the resumed import to finish',
      async () => {
        const status = await call<Status>(`${base}/v1/imports/${submitted.id}`);
        return status.state === 'done' || status.state === 'failed' ? status : undefined;
      },
      120_000,
    );

    // Assess
    expect(midway.counts.created).toBeLessThan(ROWS);
    expect(finished.state).toBe('done');
    expect(finished.counts).toMatchObject({ rows: ROWS, accepted: ROWS, created: ROWS, unchanged: 0, rejected: 0 });
    for (const i of [0, 1999, 2000, 7777, ROWS - 1]) {
      const certificate = await call<{ number: string }>(`${base}/v1/certificates/pesticide_business_license/RESUME-${i}`);
      expect(certificate.number).toBe(`RESUME-${i}`);
    }
    second.child.kill('SIGTERM');
    await second.exited;
  }, 240_000);
});
