import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDbCampaignStore } from '../../functions/adapters/aws/dynamodb/dynamodb-campaign-store.js';
import { documentClient, DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { certificateKey, townshipTypeBackfillKey } from '../../functions/adapters/aws/dynamodb/keys.js';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { DynamoDbTownshipTypeBackfill } from '../../functions/adapters/aws/dynamodb/township-type-backfill.js';
import { backfillTownshipTypeIndex, type IndexBackfillDeps } from '../../functions/app/backfill-township-type-index.js';
import { silentLogger } from '../../functions/app/logger.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import type { CertificateIndexSnapshot } from '../../functions/core/index-backfill.js';
import type { Page, TownshipTypeBackfillStore } from '../../functions/core/ports.js';
import { handler as dueScan } from '../../functions/handlers/due-scan.js';
import { resetLambdaDeps } from '../../functions/handlers/runtime.js';
import { farmRecord, INSPECTION, LIANJIANG, OPERATOR_LICENSE } from '../support/campaign-fixtures.js';
import { dynamoTestClient, uniqueTableName } from '../support/dynamo.js';
import { at, fixedClock, testSettings } from '../support/fixtures.js';
import { useLambdaEnvironment } from '../support/lambda-environment.js';

const NOW = at('2026-12-02T00:15:00+08:00');
const SEASON_END = '2027-06-30';
const reference = loadReferenceData();

/**
 * A table as deployed before campaigns: the index exists (CloudFormation added it), but the certificates
 * stored earlier carry none of its keys and no start-up backfill ever ran (that is local mode's).
 */
async function deployedTableWithOldCertificates(prefix: string, serials: number[], overrides: (serial: number) => Record<string, unknown> = () => ({})) {
  const client = dynamoTestClient();
  const tableName = uniqueTableName(prefix);
  await ensureTable(client, tableName);
  const doc = documentClient(client);
  // ensureTable marks a new table done; a deployed table has no such marker.
  await doc.send(new DeleteCommand({ TableName: tableName, Key: townshipTypeBackfillKey() }));
  const store = new DynamoDbStore(client, tableName);
  const upload = await uploadCertificates({ store, reference, settings: testSettings() }, serials.map((n) => farmRecord(n, overrides(n))), at('2026-03-01T10:00:00+08:00'));
  expect(upload.rejected).toEqual([]);
  for (const n of serials) {
    const type = (overrides(n).type as string | undefined) ?? INSPECTION;
    await doc.send(new UpdateCommand({ TableName: tableName, Key: certificateKey({ type, number: `NJ-${String(n).padStart(5, '0')}` }), UpdateExpression: 'REMOVE gsi3pk, gsi3sk' }));
  }
  const campaigns = new DynamoDbCampaignStore(client, tableName);
  return { client, tableName, store, campaigns };
}

async function recipients(campaigns: DynamoDbCampaignStore, type = INSPECTION, onOrBefore = SEASON_END): Promise<string[]> {
  const found: string[] = [];
  for await (const c of campaigns.certificatesInTownshipOfType(LIANJIANG, type, onOrBefore)) found.push(c.number);
  return found.sort();
}

/** The backfill store, counting its page reads: a resumed run must not read again what an earlier run walked. */
class CountingBackfill implements TownshipTypeBackfillStore {
  pagesRead = 0;
  constructor(
    private readonly inner: TownshipTypeBackfillStore,
    private readonly afterRead: (page: Page<CertificateIndexSnapshot>) => Promise<void> = async () => undefined,
  ) {}
  async certificatesLackingTownshipTypeKeys(type: string, cursor?: string): Promise<Page<CertificateIndexSnapshot>> {
    const page = await this.inner.certificatesLackingTownshipTypeKeys(type, cursor);
    if (page.items.length > 0) this.pagesRead += 1;
    await this.afterRead(page);
    return page;
  }
  setTownshipTypeKeys(snapshot: CertificateIndexSnapshot) {
    return this.inner.setTownshipTypeKeys(snapshot);
  }
  getTownshipTypeBackfill() {
    return this.inner.getTownshipTypeBackfill();
  }
  saveTownshipTypeBackfill(progress: Parameters<TownshipTypeBackfillStore['saveTownshipTypeBackfill']>[0]) {
    return this.inner.saveTownshipTypeBackfill(progress);
  }
}

function deps(backfill: TownshipTypeBackfillStore, wallClock?: () => number): IndexBackfillDeps {
  return { backfill, reference, clock: fixedClock(NOW.toISO() ?? ''), logger: silentLogger, ...(wallClock !== undefined ? { wallClock } : {}) };
}

describe('Use case: backfillTownshipTypeIndex', () => {
  it('gives certificates stored without the township-and-type keys those keys, so a campaign finds them as recipients', async () => {
    // Prepare
    const w = await deployedTableWithOldCertificates('bfill-basic', [1, 2, 3, 4], (n) => (n === 4 ? { type: OPERATOR_LICENSE, expiresOn: '2030-05-01', issuedOn: '2024-05-02' } : {}));
    const before = await recipients(w.campaigns);

    // Act
    const result = await backfillTownshipTypeIndex(deps(new DynamoDbTownshipTypeBackfill(w.client, w.tableName)), NOW);

    // Assess
    expect(before).toEqual([]);
    expect(result).toEqual({ state: 'done', updated: 4, skipped: 0, typesLeft: 0 });
    expect(await recipients(w.campaigns)).toEqual(['NJ-00001', 'NJ-00002', 'NJ-00003']);
    // The operator licence expires after the season: it is indexed under its own expiry, not found for this season.
    expect(await recipients(w.campaigns, OPERATOR_LICENSE)).toEqual([]);
    expect(await recipients(w.campaigns, OPERATOR_LICENSE, '2030-05-01')).toEqual(['NJ-00004']);
  }, 60_000);

  it('stops at its budget with its progress saved, resumes where it stopped without reading a page twice, and is a no-op once done', async () => {
    // Prepare: 7 certificates, pages of 2, and a budget that runs out once 2 pages of certificates are walked
    const w = await deployedTableWithOldCertificates('bfill-resume', [1, 2, 3, 4, 5, 6, 7]);
    const first = new CountingBackfill(new DynamoDbTownshipTypeBackfill(w.client, w.tableName, { pageSize: 2 }));
    const elapsedPages = () => first.pagesRead;

    // Act
    const stopped = await backfillTownshipTypeIndex(deps(first, elapsedPages), NOW, { stopAtMs: 2 });
    const foundWhenStopped = await recipients(w.campaigns);
    const second = new CountingBackfill(new DynamoDbTownshipTypeBackfill(w.client, w.tableName, { pageSize: 2 }));
    const resumed = await backfillTownshipTypeIndex(deps(second), NOW, { stopAtMs: Number.MAX_SAFE_INTEGER });
    const third = new CountingBackfill(new DynamoDbTownshipTypeBackfill(w.client, w.tableName, { pageSize: 2 }));
    const again = await backfillTownshipTypeIndex(deps(third), NOW);

    // Assess
    expect(stopped).toMatchObject({ state: 'running', updated: 4, skipped: 0 });
    expect(stopped.typesLeft).toBeGreaterThan(0);
    expect(foundWhenStopped).toHaveLength(4);
    expect(first.pagesRead).toBe(2);
    expect(resumed).toEqual({ state: 'done', updated: 7, skipped: 0, typesLeft: 0 });
    expect(second.pagesRead).toBe(2);
    expect(await recipients(w.campaigns)).toEqual(['NJ-00001', 'NJ-00002', 'NJ-00003', 'NJ-00004', 'NJ-00005', 'NJ-00006', 'NJ-00007']);
    expect(again).toEqual({ state: 'done', updated: 7, skipped: 0, typesLeft: 0 });
    expect(third.pagesRead).toBe(0);
  }, 60_000);

  it('leaves a certificate renewed between its read and its update with its new expiry, found under it and not under the old one', async () => {
    // Prepare: the backfill reads certificate 2 with its old expiry; before the update, it is renewed
    const w = await deployedTableWithOldCertificates('bfill-renewed', [1, 2]);
    let renewed = false;
    const backfill = new CountingBackfill(new DynamoDbTownshipTypeBackfill(w.client, w.tableName), async (page) => {
      if (renewed || !page.items.some((c) => c.number === 'NJ-00002')) return;
      renewed = true;
      const upload = await uploadCertificates({ store: w.store, reference, settings: testSettings() }, [farmRecord(2, { issuedOn: '2027-02-01', expiresOn: '2028-01-31' })], at('2026-12-02T00:15:30+08:00'));
      expect(upload.rejected).toEqual([]);
    });

    // Act
    const result = await backfillTownshipTypeIndex(deps(backfill), NOW);

    // Assess
    expect(renewed).toBe(true);
    expect(result).toEqual({ state: 'done', updated: 1, skipped: 1, typesLeft: 0 });
    expect((await w.store.getCertificate({ type: INSPECTION, number: 'NJ-00002' }))?.certificate.expiresOn).toBe('2028-01-31');
    expect(await recipients(w.campaigns)).toEqual(['NJ-00001']);
    expect(await recipients(w.campaigns, INSPECTION, '2028-01-31')).toEqual(['NJ-00001', 'NJ-00002']);
  }, 60_000);

  it('does not set keys of an older expiry on a certificate changed since it was read by a writer that sets no keys', async () => {
    // Prepare: a function of the earlier release, still running during the deploy, moves the expiry without the keys
    const w = await deployedTableWithOldCertificates('bfill-old-writer', [1]);
    const adapter = new DynamoDbTownshipTypeBackfill(w.client, w.tableName);
    const stale = (await adapter.certificatesLackingTownshipTypeKeys(INSPECTION)).items;
    await documentClient(w.client).send(
      new UpdateCommand({ TableName: w.tableName, Key: certificateKey({ type: INSPECTION, number: 'NJ-00001' }), UpdateExpression: 'SET expiresOn = :e, version = version + :one', ExpressionAttributeValues: { ':e': '2028-02-01', ':one': 1 } }),
    );

    // Act
    const set = await Promise.all(stale.map((s) => adapter.setTownshipTypeKeys(s)));
    const result = await backfillTownshipTypeIndex(deps(adapter), NOW);

    // Assess
    expect(set).toEqual([false]);
    expect(result).toMatchObject({ state: 'done', updated: 1 });
    expect(await recipients(w.campaigns)).toEqual([]);
    expect(await recipients(w.campaigns, INSPECTION, '2028-02-01')).toEqual(['NJ-00001']);
  }, 60_000);
});

describe('Handler: due scan with {"kind": "indexBackfill"}', () => {
  let restore: () => void = () => undefined;
  afterEach(() => {
    restore();
    resetLambdaDeps();
  });

  it('runs the backfill within the invocation and answers with its progress', async () => {
    // Prepare
    const w = await deployedTableWithOldCertificates('bfill-handler', [1, 2]);
    restore = useLambdaEnvironment(w.tableName);
    resetLambdaDeps({ clock: fixedClock(NOW.toISO() ?? '') });

    // Act
    const result = await dueScan({ kind: 'indexBackfill' }, { getRemainingTimeInMillis: () => 300_000 });

    // Assess
    expect(result).toEqual({ state: 'done', updated: 2, skipped: 0, typesLeft: 0 });
    expect(await recipients(w.campaigns)).toEqual(['NJ-00001', 'NJ-00002']);
  }, 60_000);
});
