import { afterEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../functions/core/access.js';
import { CursorSeal } from '../../functions/app/cursors.js';
import { createHttpApp } from '../../functions/app/http/app.js';
import type { CertificateKey, RetentionStore } from '../../functions/core/ports.js';
import { DynamoDbAuditLog } from '../../functions/adapters/aws/dynamodb/dynamodb-audit-log.js';
import { DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { silentLogger } from '../../functions/app/logger.js';
import { purgeExpired, type PurgeDeps } from '../../functions/app/purge-expired.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import { handler as dueScan } from '../../functions/handlers/due-scan.js';
import { resetLambdaDeps } from '../../functions/handlers/runtime.js';
import { dynamoTestClient, uniqueTableName } from '../support/dynamo.js';
import { at, fixedClock, record, RecordingSender, scanDeps, testSettings } from '../support/fixtures.js';
import { useLambdaEnvironment } from '../support/lambda-environment.js';

// With the default 5 years, a purge on 2026-12-01 removes certificates that expired before 2021-12-01.
const NOW = at('2026-12-01T03:00:00+08:00');
const PESTICIDE = 'pesticide_business_license';
const FOOD = 'food_business_license';
const reference = loadReferenceData();

async function world(prefix: string) {
  const client = dynamoTestClient();
  const tableName = uniqueTableName(prefix);
  await ensureTable(client, tableName);
  const store = new DynamoDbStore(client, tableName);
  const audit = new DynamoDbAuditLog(client, tableName);
  const deps: PurgeDeps = { retention: store, reference, settings: testSettings(), clock: fixedClock(NOW.toISO() ?? ''), logger: silentLogger, audit };
  return { client, tableName, store, audit, deps };
}

/** Stores certificates as uploaded in `uploadedAt`'s time, and one sent delivery per given stage of each. */
async function seed(store: DynamoDbStore, records: Array<Record<string, unknown>>, uploadedAt = at('2016-01-04T10:00:00+08:00')) {
  const result = await uploadCertificates({ store, reference, settings: testSettings() }, records, uploadedAt);
  expect(result.rejected).toEqual([]);
}

async function sentDelivery(store: DynamoDbStore, key: CertificateKey, expiresOn: string, stage: string) {
  const id = { key, expiresOn, stage };
  await store.claim(id, 'token', Date.now() + 60_000, Date.now());
  await store.recordSent(id, 'token', { messageId: `m-${key.number}-${stage}`, sentAt: '2020-06-01T01:00:00.000Z', to: '+8613900000001', body: '…', segments: 1 });
}

const pesticide = (number: string): CertificateKey => ({ type: PESTICIDE, number });

describe('Use case: purgeExpired', () => {
  it('deletes certificates expired more than five years ago and their deliveries, keeping newer, renewed and undated ones and the audit log', async () => {
    // Prepare
    const w = await world('purge-basic');
    await seed(w.store, [
      record(1, { number: 'OLD-1', issuedOn: '2015-12-01', expiresOn: '2020-11-30' }),
      record(2, { number: 'EDGE-KEPT', issuedOn: '2016-12-01', expiresOn: '2021-12-01' }),
      record(3, { number: 'RENEWED', issuedOn: '2015-12-01', expiresOn: '2020-06-30' }),
      record(4, { type: FOOD, number: 'JY-OLD-4', issuedOn: '2014-01-01', expiresOn: '2019-01-01' }),
      record(5, { type: 'farm_machine_registration', number: 'NJ-DJ-5', expiresOn: undefined }),
    ]);
    await sentDelivery(w.store, pesticide('OLD-1'), '2020-11-30', 'first');
    await sentDelivery(w.store, pesticide('OLD-1'), '2020-11-30', 'final');
    await sentDelivery(w.store, pesticide('RENEWED'), '2020-06-30', 'first');
    // Renewed in 2020: its expiry moved to 2025-06-30, less than five years ago.
    await seed(w.store, [record(3, { number: 'RENEWED', issuedOn: '2020-07-01', expiresOn: '2025-06-30' })], at('2020-07-01T10:00:00+08:00'));
    await w.audit.record({ id: 'a1', at: '2019-01-01T00:00:00.000Z', actor: 'token:x', role: 'operator', action: 'certificates.upload', target: 'certificates', summary: 'old' });

    // Act
    const result = await purgeExpired(w.deps, NOW);

    // Assess
    expect(result).toEqual({ dryRun: false, retentionYears: 5, cutoff: '2021-12-01', state: 'done', certificates: 2, deliveries: 2, keptRenewed: 0 });
    expect(await w.store.getCertificate(pesticide('OLD-1'))).toBeUndefined();
    expect(await w.store.getCertificate({ type: FOOD, number: 'JY-OLD-4' })).toBeUndefined();
    expect(await w.store.get({ key: pesticide('OLD-1'), expiresOn: '2020-11-30', stage: 'first' })).toBeUndefined();
    // The renewed certificate stays, with its history: deliveries of its old expiry leave by their own TTL (two years after the send).
    expect((await w.store.getCertificate(pesticide('RENEWED')))?.certificate.expiresOn).toBe('2025-06-30');
    expect(await w.store.getCertificate(pesticide('EDGE-KEPT'))).toBeDefined();
    expect(await w.store.getCertificate({ type: 'farm_machine_registration', number: 'NJ-DJ-5' })).toBeDefined();
    const trail = await w.audit.list({ limit: 10 });
    expect(trail.items.map((e) => e.action)).toEqual(['retention.purge', 'certificates.upload']);
    expect(trail.items[0]).toMatchObject({ actor: 'system:retention', details: { cutoff: '2021-12-01', certificates: 2, deliveries: 2 } });
  });

  it('counts in a dry run what a purge would delete, and deletes and audits nothing', async () => {
    // Prepare
    const w = await world('purge-dry');
    await seed(w.store, [record(1, { number: 'OLD-1', issuedOn: '2015-12-01', expiresOn: '2020-11-30' }), record(2, { number: 'NEW-2' })]);
    await sentDelivery(w.store, pesticide('OLD-1'), '2020-11-30', 'first');

    // Act
    const result = await purgeExpired(w.deps, NOW, { dryRun: true });

    // Assess
    expect(result).toEqual({ dryRun: true, retentionYears: 5, cutoff: '2021-12-01', state: 'done', certificates: 1, deliveries: 1, keptRenewed: 0, byType: { [PESTICIDE]: 1 } });
    expect(await w.store.getCertificate(pesticide('OLD-1'))).toBeDefined();
    expect((await w.audit.list({ limit: 10 })).items).toEqual([]);
  });

  it('follows CERTALARM_RETENTION_YEARS', async () => {
    // Prepare
    const w = await world('purge-years');
    await seed(w.store, [record(1, { number: 'EXP-2024', issuedOn: '2019-01-01', expiresOn: '2024-01-01' })]);

    // Act
    const kept = await purgeExpired({ ...w.deps, settings: { retentionYears: 5 } }, NOW);
    const purged = await purgeExpired({ ...w.deps, settings: { retentionYears: 2 } }, NOW);

    // Assess
    expect(kept).toMatchObject({ cutoff: '2021-12-01', certificates: 0 });
    expect(purged).toMatchObject({ cutoff: '2024-12-01', certificates: 1 });
  });

  it('continues after a crash from the saved progress, without reading the types already done again', async () => {
    // Prepare
    const w = await world('purge-resume');
    await seed(w.store, [
      record(1, { number: 'OLD-1', issuedOn: '2015-12-01', expiresOn: '2020-11-30' }),
      record(2, { type: FOOD, number: 'JY-OLD-2', issuedOn: '2014-01-01', expiresOn: '2019-01-01' }),
    ]);
    const order = reference.catalogue.all().map((t) => t.code);
    const [firstType, secondType] = [PESTICIDE, FOOD].sort((a, b) => order.indexOf(a) - order.indexOf(b));
    const read: string[] = [];
    const crashing: RetentionStore = Object.assign(Object.create(w.store) as DynamoDbStore, {
      certificatesExpiredBefore: (type: string, cutoff: string, cursor?: string) => {
        read.push(type);
        return w.store.certificatesExpiredBefore(type, cutoff, cursor);
      },
      purgeCertificate: async (key: CertificateKey, cutoff: string) => {
        if (key.type === secondType) throw new Error('the process died');
        return w.store.purgeCertificate(key, cutoff);
      },
    });
    await expect(purgeExpired({ ...w.deps, retention: crashing }, NOW)).rejects.toThrow('the process died');
    const saved = await w.store.getPurgeProgress();
    read.length = 0;

    // Act
    const resumed = await purgeExpired({ ...w.deps, retention: Object.assign(Object.create(w.store) as DynamoDbStore, { certificatesExpiredBefore: crashing.certificatesExpiredBefore }) }, NOW);

    // Assess
    expect(saved).toMatchObject({ state: 'running', certificates: 1 });
    expect(saved?.typesDone).toContain(firstType);
    expect(read).not.toContain(firstType);
    expect(resumed).toMatchObject({ state: 'done', certificates: 2 });
    expect(await w.store.getCertificate({ type: FOOD, number: 'JY-OLD-2' })).toBeUndefined();
  });

  it('stops at its time budget with its progress kept, and the next run finishes', async () => {
    // Prepare
    const w = await world('purge-budget');
    await seed(w.store, [record(1, { number: 'OLD-1', issuedOn: '2015-12-01', expiresOn: '2020-11-30' })]);

    // Act
    const stopped = await purgeExpired(w.deps, NOW, { stopAtMs: NOW.toMillis() });
    const finished = await purgeExpired(w.deps, NOW);

    // Assess
    expect(stopped).toMatchObject({ state: 'running', certificates: 0 });
    expect(finished).toMatchObject({ state: 'done', certificates: 1 });
  });

  it('keeps a certificate renewed between being found and being deleted', async () => {
    // Prepare
    const w = await world('purge-race');
    await seed(w.store, [record(1, { number: 'OLD-1', issuedOn: '2015-12-01', expiresOn: '2020-11-30' })]);
    const racing: RetentionStore = Object.assign(Object.create(w.store) as DynamoDbStore, {
      purgeCertificate: async (key: CertificateKey, cutoff: string) => {
        await seed(w.store, [record(1, { number: 'OLD-1', issuedOn: '2026-11-30', expiresOn: '2031-11-29' })], NOW);
        return w.store.purgeCertificate(key, cutoff);
      },
    });

    // Act
    const result = await purgeExpired({ ...w.deps, retention: racing }, NOW);

    // Assess
    expect(result).toMatchObject({ certificates: 0, keptRenewed: 1 });
    expect((await w.store.getCertificate(pesticide('OLD-1')))?.certificate.expiresOn).toBe('2031-11-29');
  });
});

describe('Handler: due-scan with the retention payload', () => {
  let restore: () => void = () => undefined;
  afterEach(() => {
    restore();
    resetLambdaDeps();
  });

  it('runs the purge for {"kind": "retentionPurge"}', async () => {
    // Prepare
    const w = await world('purge-handler');
    await seed(w.store, [record(1, { number: 'OLD-1', issuedOn: '2015-12-01', expiresOn: '2020-11-30' })]);
    restore = useLambdaEnvironment(w.tableName);
    resetLambdaDeps({ clock: fixedClock(NOW.toISO() ?? '') });

    // Act
    const result = await dueScan({ kind: 'retentionPurge' }, { getRemainingTimeInMillis: () => 300_000 });

    // Assess
    expect(result).toMatchObject({ cutoff: '2021-12-01', state: 'done', certificates: 1 });
    expect(await w.store.getCertificate(pesticide('OLD-1'))).toBeUndefined();
  });
});

describe('Route: POST /v1/purges', () => {
  it('lets an operator run a purge or a dry run, audited under their name, and refuses a bureau', async () => {
    // Prepare
    const w = await world('purge-route');
    await seed(w.store, [record(1, { number: 'OLD-1', issuedOn: '2015-12-01', expiresOn: '2020-11-30' })]);
    const callers: Record<string, Principal> = { operator: { role: 'operator', subject: 'token:ops' }, bureau: { role: 'bureau', authority: 'agriculture_rural', subject: 'token:agri' } };
    const app = createHttpApp({
      ...scanDeps(w.store, new RecordingSender()),
      clock: w.deps.clock,
      audit: w.audit,
      retention: w.store,
      authenticate: async (req) => callers[req.headers.authorization ?? ''],
      cursors: new CursorSeal(async () => Buffer.alloc(32, 1), 3600),
    });
    const post = async (caller: string, body: unknown) => {
      const response = await app({ method: 'POST', path: '/v1/purges', query: {}, headers: { authorization: caller }, body: JSON.stringify(body) });
      return { status: response.status, body: JSON.parse(response.body) as Record<string, unknown> };
    };

    // Act
    const refused = await post('bureau', { dryRun: true });
    const dry = await post('operator', { dryRun: true });
    const real = await post('operator', {});
    const bad = await post('operator', { dryRun: 'yes' });

    // Assess
    expect(refused.status).toBe(403);
    expect(dry).toMatchObject({ status: 200, body: { dryRun: true, certificates: 1 } });
    expect(real).toMatchObject({ status: 200, body: { dryRun: false, state: 'done', certificates: 1 } });
    expect(bad.status).toBe(400);
    expect((await w.audit.list({ limit: 5, action: 'retention' })).items).toMatchObject([{ action: 'retention.purge', actor: 'token:ops' }]);
  });
});
