import { rm } from 'node:fs/promises';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalService } from '../../functions/adapters/local/local-service.js';
import { silentLogger } from '../../functions/app/logger.js';
import { settingsFromEnvironment } from '../../functions/app/settings.js';
import { eventually, runCli } from '../support/e2e-cli.js';
import { Api, certificateRecord, E2E_TOKEN, makeTempDir, SERVICE_START, startTestService, uniqueNumber, type TestService } from '../support/e2e-service.js';

// One in-memory service for the file; its clock starts at 2026-06-01, so the purge's cutoff is 2021-06-01.
let local: TestService;
let api: Api;

beforeAll(async () => {
  local = await startTestService({ inMemory: true });
  api = new Api(local.url);
});

afterAll(async () => {
  await local?.stop();
});

describe('CLI: certalarm certificate revoke', () => {
  it('prints its usage with the reason choices and --json', async () => {
    // Act
    const result = await runCli(['certificate', 'revoke', '--help']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: certalarm certificate revoke [options] <type> <number>');
    for (const text of ['--reason', '注销', '吊销', '撤销', '停业', '--comment', '--json']) expect(result.stdout).toContain(text);
  });

  it('revokes a certificate, prints what it stopped, and answers a second time that it was already revoked (--json)', async () => {
    // Prepare
    const record = certificateRecord({ number: uniqueNumber('REVOKE') });
    await api.uploadAll([record]);

    // Act
    const first = await runCli(['certificate', 'revoke', record.type, record.number, '--reason', '吊销', '--comment', '行政处罚决定书 兴农罚〔2026〕12号', '--url', local.url]);
    const second = await runCli(['certificate', 'revoke', record.type, record.number, '--reason', '注销', '--comment', 'again', '--url', local.url, '--json']);

    // Assess
    expect(first.code).toBe(0);
    expect(first.stdout.trim()).toBe(`${record.type} ${record.number} revoked (吊销): its pending reminders are stopped`);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ alreadyRevoked: true, revoked: { reason: '吊销', comment: '行政处罚决定书 兴农罚〔2026〕12号' } });
  });

  it('refuses a missing --comment and an unknown --reason before calling the service', async () => {
    // Act
    const noComment = await runCli(['certificate', 'revoke', 'pesticide_business_license', 'X-1', '--reason', '注销', '--url', local.url]);
    const badReason = await runCli(['certificate', 'revoke', 'pesticide_business_license', 'X-1', '--reason', '过期', '--comment', 'x', '--url', local.url]);

    // Assess
    expect(noComment.code).toBe(1);
    expect(noComment.stderr).toContain('certificate revoke needs --comment');
    expect(badReason.code).not.toBe(0);
    expect(badReason.stderr).toContain('Allowed choices are 注销, 吊销, 撤销, 停业');
  });
});

describe('CLI: certalarm purge', () => {
  it('counts with --dry-run what a purge would delete, then purges it (--json)', async () => {
    // Prepare
    const old = certificateRecord({ number: uniqueNumber('OLD'), issuedOn: '2015-01-01', expiresOn: '2020-12-31' });
    await api.uploadAll([old]);

    // Act
    const dry = await runCli(['purge', '--dry-run', '--url', local.url]);
    const real = await runCli(['purge', '--url', local.url, '--json']);
    const gone = await api.certificate(old.type, old.number);

    // Assess
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('dry run: 1 certificate(s) expired before 2021-06-01 (kept 5 years)');
    expect(real.code).toBe(0);
    expect(JSON.parse(real.stdout)).toMatchObject({ dryRun: false, cutoff: '2021-06-01', state: 'done', certificates: 1 });
    expect(gone.status).toBe(404);
  });
});

describe('Local service: the daily retention purge', () => {
  it('runs on the local scheduler when the service starts with scheduled jobs on', { timeout: 120_000 }, async () => {
    // Prepare: an expired certificate stored by a service with its scheduler off.
    const dataDir = await makeTempDir('certalarm-e2e-purge-');
    const old = certificateRecord({ number: uniqueNumber('OLD'), issuedOn: '2015-01-01', expiresOn: '2020-12-31' });
    const kept = certificateRecord({ number: uniqueNumber('NEW') });
    const quiet = await startTestService({ dataDir });
    try {
      await new Api(quiet.url).uploadAll([old, kept]);
    } finally {
      await quiet.stop();
    }

    // Act: the same data dir, with the scheduler on.
    const service = await startLocalService({
      dataDir,
      port: 0,
      settings: settingsFromEnvironment({}),
      logger: silentLogger,
      demo: false,
      scanEveryMinutes: 15,
      startAt: DateTime.fromISO(SERVICE_START, { setZone: true }),
      adminToken: E2E_TOKEN,
    });
    try {
      const api = new Api(service.url);

      // Assess
      // The run is audited once it is done.
      const trail = await eventually(
        'the purge run at start',
        async () => {
          const page = await api.get<{ items: Array<{ action: string; actor: string; details: Record<string, unknown> }> }>('/v1/audit?action=retention');
          return page.body.items.length > 0 ? page.body.items : undefined;
        },
        60_000,
      );
      expect(trail).toMatchObject([{ action: 'retention.purge', actor: 'system:retention', details: { cutoff: '2021-06-01', certificates: 1 } }]);
      expect((await api.certificate(old.type, old.number)).status).toBe(404);
      expect((await api.certificate(kept.type, kept.number)).status).toBe(200);
    } finally {
      await service.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
