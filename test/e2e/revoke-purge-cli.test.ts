import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/e2e-cli.js';
import { Api, certificateRecord, startTestService, uniqueNumber, type TestService } from '../support/e2e-service.js';

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
