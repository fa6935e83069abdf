import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runCli } from '../support/e2e-cli.js';
import { Api, certificateRecord, startTestService, uniqueNumber, type TestService } from '../support/e2e-service.js';

interface CliDelivery {
  number?: string;
  kind: string;
  to: string | null;
  status: string;
  reason?: string;
  why?: string;
}

let local: TestService;
let api: Api;
const failing = certificateRecord({ number: uniqueNumber('DLV-FAIL'), phone: '13900000900' });
const delivered = certificateRecord({ number: uniqueNumber('DLV-OK'), phone: '13900000002' });

beforeAll(async () => {
  local = await startTestService({ inMemory: true, sandboxReceiptMs: 0, env: { CERTALARM_SMS_RATE: '1000' } });
  api = new Api(local.url);
  await api.upload(failing);
  await api.upload(delivered);
  // As of the final reminder's day: each licence gets one catch-up message, its final reminder.
  const scan = await runCli(['scan', '--now', '2026-09-14T09:30:00+08:00', '--url', local.url, '--json']);
  if (scan.code !== 0) throw new Error(`the fixture scan failed: ${scan.stderr}`);
});

afterAll(async () => {
  await local?.stop();
});

async function deliveries(args: string[]): Promise<CliDelivery[]> {
  const result = await runCli(['deliveries', ...args, '--url', local.url, '--json']);
  if (result.code !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as CliDelivery[];
}

describe('CLI: certalarm deliveries', () => {
  it('shows the sandbox receipts: a failure with its reason, a delivery, phones masked', async () => {
    // Act
    const failed = await eventually('the sandbox failure receipt', async () => {
      const items = await deliveries(['--status', 'failed', '--number', failing.number]);
      return items.length > 0 ? items : undefined;
    });
    const ok = await eventually('the sandbox delivery receipt', async () => {
      const items = await deliveries(['--number', delivered.number, '--status', 'delivered']);
      return items.length > 0 ? items : undefined;
    });

    // Assess
    expect(failed).toEqual([expect.objectContaining({ number: failing.number, kind: 'final', to: '+86139****0900', status: 'failed', reason: '空号 / number does not exist' })]);
    expect(ok).toEqual([expect.objectContaining({ number: delivered.number, to: '+86139****0002', status: 'delivered' })]);
  });

  it('lists the failed final reminder with --attention', async () => {
    // Act
    const attention = await eventually('the attention entry', async () => {
      const items = (await deliveries(['--attention'])).filter((d) => d.number === failing.number);
      return items.length > 0 ? items : undefined;
    });

    // Assess
    expect(attention).toEqual([expect.objectContaining({ number: failing.number, why: 'failed', kind: 'final' })]);
  });

  it('prints one line per message as text', async () => {
    // Act
    const result = await runCli(['deliveries', '--phone', '13900000900', '--url', local.url]);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(failing.number);
    expect(result.stdout).toContain('+86139****0900');
    expect(result.stdout).not.toContain('13900000900');
  });
});
