import { describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { InvalidCursorError } from '../../functions/core/errors.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import { allDueShards, INDEX } from '../../functions/adapters/aws/dynamodb/keys.js';
import type { DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { dynamoTestClient } from '../support/dynamo.js';
import { at, freshStore, record, testSettings } from '../support/fixtures.js';

const NOW = at('2026-08-01T10:00:00+08:00');

async function seeded(prefix: string, records: Record<string, unknown>[]): Promise<DynamoDbStore> {
  const store = await freshStore(prefix);
  const result = await uploadCertificates({ store, reference: loadReferenceData(), settings: testSettings() }, records, NOW);
  expect(result.rejected).toEqual([]);
  return store;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('Adapter: DynamoDbStore', () => {
  describe('Method: dueCertificates', () => {
    it('finds exactly the certificates whose next alarm has come, across every shard', async () => {
      // Prepare: 30 due on 2026-08-21 (first stage), 10 expiring a year later.
      const store = await seeded('store-due', [
        ...Array.from({ length: 30 }, (_, i) => record(i)),
        ...Array.from({ length: 10 }, (_, i) => record(100 + i, { expiresOn: '2027-12-20' })),
      ]);

      // Act
      const before = await collect(store.dueCertificates(at('2026-08-21T08:59:59+08:00')));
      const due = await collect(store.dueCertificates(at('2026-08-21T09:00:00+08:00')));

      // Assess
      expect(before).toEqual([]);
      expect(due.map((k) => k.number).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `TEST-${String(i).padStart(6, '0')}`));
    });

    it('keeps the due index sparse: a certificate with nothing pending leaves it', async () => {
      // Prepare
      const store = await seeded('store-sparse', [record(1)]);
      const stored = await store.getCertificate({ type: 'pesticide_business_license', number: 'TEST-000001' });
      if (stored === undefined) throw new Error('missing');
      const done = { ...stored.plan, stages: stored.plan.stages.map((s) => ({ ...s, status: 'sent' as const })) };

      // Act
      const updated = await store.updatePlan(stored.certificate, stored.version, done, NOW.toISO() ?? '');

      // Assess
      expect(updated).toBe(true);
      let entries = 0;
      for (const shard of allDueShards()) {
        const result = await dynamoTestClient().send(
          new QueryCommand({
            TableName: store.tableName,
            IndexName: INDEX.due,
            KeyConditionExpression: 'dueShard = :s',
            ExpressionAttributeValues: { ':s': { S: shard } },
          }),
        );
        entries += result.Count ?? 0;
      }
      expect(entries).toBe(0);
    });
  });

  describe('Method: updatePlan', () => {
    it('refuses to overwrite a plan another writer changed since it was read', async () => {
      // Prepare
      const store = await seeded('store-version', [record(2)]);
      const stored = await store.getCertificate({ type: 'pesticide_business_license', number: 'TEST-000002' });
      if (stored === undefined) throw new Error('missing');
      await store.updatePlan(stored.certificate, stored.version, stored.plan, NOW.toISO() ?? '');

      // Act
      const stale = await store.updatePlan(stored.certificate, stored.version, stored.plan, NOW.toISO() ?? '');

      // Assess
      expect(stale).toBe(false);
    });
  });

  describe('Method: claim', () => {
    it('lets exactly one of many simultaneous claimants win', async () => {
      // Prepare
      const store = await freshStore('store-claim');
      const id = { key: { type: 'pesticide_business_license', number: 'X-1' }, expiresOn: '2026-12-20', stage: 'first' as const };
      const now = Date.now();

      // Act
      const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => store.claim(id, `token-${i}`, now + 60_000, now)));

      // Assess
      expect(outcomes.filter((o) => o.claimed)).toHaveLength(1);
    });
  });

  describe('Method: listCertificates', () => {
    it('pages through a township by expiry with a cursor, missing nothing and repeating nothing', async () => {
      // Prepare
      const store = await seeded('store-list', [
        ...Array.from({ length: 23 }, (_, i) => record(i, { township: '360732101', expiresOn: `2027-01-${String(i + 1).padStart(2, '0')}` })),
        ...Array.from({ length: 5 }, (_, i) => record(100 + i, { township: '360732102' })),
      ]);

      // Act
      const seen: Array<string | null> = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.listCertificates({ township: '360732101', limit: 10, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((s) => s.certificate.expiresOn));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== undefined);

      // Assess
      expect(pages).toBe(3);
      expect(seen).toHaveLength(23);
      expect([...seen].sort()).toEqual(seen);
    });

    it('filters by type and by expiringBefore (exclusive)', async () => {
      // Prepare
      const store = await seeded('store-filter', [
        record(1, { expiresOn: '2027-03-01' }),
        record(2, { expiresOn: '2027-03-02' }),
        record(3, { type: 'tobacco_retail_license', expiresOn: '2027-01-01' }),
      ]);

      // Act
      const byType = await store.listCertificates({ type: 'pesticide_business_license', expiringBefore: '2027-03-02', limit: 50 });
      const byTownshipAndType = await store.listCertificates({ township: '360732100', type: 'tobacco_retail_license', limit: 50 });
      const everything = await store.listCertificates({ limit: 2 });

      // Assess
      expect(byType.items.map((s) => s.certificate.number)).toEqual(['TEST-000001']);
      expect(byTownshipAndType.items.map((s) => s.certificate.number)).toEqual(['TEST-000003']);
      expect(everything.items).toHaveLength(2);
      expect(everything.nextCursor).toBeDefined();
    });

    it('rejects a cursor it did not issue', async () => {
      // Prepare
      const store = await freshStore('store-cursor');

      // Act
      const attempt = store.listCertificates({ limit: 5, cursor: 'not-a-cursor' });

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it.each([
      ['a token item', undefined, { pk: 'TOKENS', sk: 'TOKEN#admin' }],
      ['a delivery item', undefined, { pk: 'CERT#pesticide_business_license#TEST-000001', sk: 'DELIVERY#2026-12-20#first' }],
      ['a certificate key with an extra attribute', undefined, { pk: 'CERT#pesticide_business_license#TEST-000001', sk: 'CERT', x: 'y' }],
      ['another township’s index partition', '360732100', { pk: 'CERT#pesticide_business_license#TEST-000001', sk: 'CERT', gsi1pk: 'TWP#360732101', gsi1sk: '2026-12-20#pesticide_business_license#TEST-000001' }],
      ['a table key on an index query', '360732100', { pk: 'CERT#pesticide_business_license#TEST-000001', sk: 'CERT' }],
    ])('refuses a start key naming %s before reading from it', async (_what, township, startKey) => {
      // Prepare
      const store = await seeded('store-crafted-cursor', [record(1)]);
      const cursor = Buffer.from(JSON.stringify(startKey)).toString('base64url');

      // Act
      const attempt = store.listCertificates({ limit: 5, cursor, ...(township !== undefined ? { township } : {}) });

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(InvalidCursorError);
    });
  });
});
