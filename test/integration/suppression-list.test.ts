import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidCursorError } from '../../functions/core/errors.js';
import { DynamoDbSuppressionList } from '../../functions/adapters/aws/dynamodb/dynamodb-suppression-list.js';
import { optOutConfirmationKey, suppressionKey, TTL_ATTRIBUTE } from '../../functions/adapters/aws/dynamodb/keys.js';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { DynamoDbAuditLog } from '../../functions/adapters/aws/dynamodb/dynamodb-audit-log.js';
import { documentClient, DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { silentLogger } from '../../functions/app/logger.js';
import { purgeExpired } from '../../functions/app/purge-expired.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import { dynamoTestClient, uniqueTableName } from '../support/dynamo.js';
import { at, fixedClock, record, testSettings } from '../support/fixtures.js';

const OPTED_OUT_AT = '2026-12-01T10:15:00.000+08:00';
const LATER = '2026-12-02T09:00:00.000+08:00';

async function freshList(prefix: string) {
  const client = dynamoTestClient();
  const tableName = uniqueTableName(prefix);
  await ensureTable(client, tableName);
  return { list: new DynamoDbSuppressionList(client, tableName), doc: documentClient(client), tableName, client };
}

describe('Class: DynamoDbSuppressionList', () => {
  describe('Method: suppress', () => {
    it('adds a number once: a second opt-out keeps the first entry and says it was not new', async () => {
      // Prepare
      const { list } = await freshList('suppress-once');

      // Act
      const first = await list.suppress('+8613900000101', { source: 'sms-keyword', at: OPTED_OUT_AT, detail: 'TD' });
      const second = await list.suppress('+8613900000101', { source: 'sns-opted-out', at: LATER });

      // Assess
      expect(first).toEqual({ added: true, suppression: { phone: '+8613900000101', source: 'sms-keyword', at: OPTED_OUT_AT, detail: 'TD' } });
      expect(second).toEqual({ added: false, suppression: first.suppression });
      expect(await list.get('+8613900000101')).toEqual(first.suppression);
    });

    it('adds a number exactly once when several opt-outs arrive at the same moment', async () => {
      // Prepare
      const { list } = await freshList('suppress-race');

      // Act
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) => list.suppress('+8613900000102', { source: 'sms-keyword', at: `2026-12-01T10:15:0${i}.000+08:00` })),
      );

      // Assess
      expect(answers.filter((a) => a.added)).toHaveLength(1);
      const stored = await list.get('+8613900000102');
      expect(answers.every((a) => a.suppression.at === stored?.at)).toBe(true);
    });

    it('stores the entry with no TTL, so DynamoDB never expires an opt-out', async () => {
      // Prepare
      const { list, doc, tableName } = await freshList('suppress-no-ttl');

      // Act
      await list.suppress('+8613900000103', { source: 'sns-publish-error', at: OPTED_OUT_AT, detail: 'OptedOut' });

      // Assess
      const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: suppressionKey('+8613900000103') }));
      expect(Item).toMatchObject({ entity: 'suppression', source: 'sns-publish-error' });
      expect(Item?.[TTL_ATTRIBUTE]).toBeUndefined();
    });

    it('refuses a number that is not E.164, naming it masked', async () => {
      // Prepare
      const { list } = await freshList('suppress-e164');

      // Act
      const attempt = list.suppress('13900000104', { source: 'sms-keyword', at: OPTED_OUT_AT });

      // Assess
      await expect(attempt).rejects.toThrow(/\*{7}0104 is not an E\.164 number/);
    });
  });

  describe('Method: isSuppressed', () => {
    it('answers true for a listed number and false for any other', async () => {
      // Prepare
      const { list } = await freshList('is-suppressed');
      await list.suppress('+8613900000105', { source: 'sms-keyword', at: OPTED_OUT_AT });

      // Act
      const listed = await list.isSuppressed('+8613900000105');
      const other = await list.isSuppressed('+8613900000106');

      // Assess
      expect(listed).toBe(true);
      expect(other).toBe(false);
    });
  });

  describe('Method: list', () => {
    let list: DynamoDbSuppressionList;
    const phones = ['+8613900000117', '+8613900000111', '+8613900000115', '+8613900000113', '+8613900000119'];

    beforeAll(async () => {
      ({ list } = await freshList('list'));
      for (const phone of phones) await list.suppress(phone, { source: 'sns-opted-out', at: OPTED_OUT_AT });
    });

    it('pages through every entry in phone-number order, without repeats', async () => {
      // Act
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await list.list({ limit: 2, cursor });
        seen.push(...page.items.map((s) => s.phone));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== undefined && pages < 10);

      // Assess
      expect(seen).toEqual([...phones].sort());
    });

    it('refuses a cursor it did not hand out', async () => {
      // Act
      const attempt = list.list({ limit: 2, cursor: Buffer.from(JSON.stringify({ p: 'CERT#x' })).toString('base64url') });

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(InvalidCursorError);
    });
  });

  describe('Method: reinstate', () => {
    it('removes the entry and returns it, so the caller can audit what was removed', async () => {
      // Prepare
      const { list } = await freshList('reinstate');
      const { suppression } = await list.suppress('+8613900000121', { source: 'sms-keyword', at: OPTED_OUT_AT, detail: '退订' });

      // Act
      const removed = await list.reinstate('+8613900000121');

      // Assess
      expect(removed).toEqual(suppression);
      expect(await list.isSuppressed('+8613900000121')).toBe(false);
      expect(await list.reinstate('+8613900000121')).toBeUndefined();
    });

    it('with expectedAt, leaves a newer suppression of the same number alone', async () => {
      // Prepare
      const { list } = await freshList('reinstate-expected');
      await list.suppress('+8613900000122', { source: 'sms-keyword', at: OPTED_OUT_AT });
      await list.reinstate('+8613900000122');
      await list.suppress('+8613900000122', { source: 'sms-keyword', at: LATER });

      // Act
      const removed = await list.reinstate('+8613900000122', { expectedAt: OPTED_OUT_AT });

      // Assess
      expect(removed).toBeUndefined();
      expect((await list.get('+8613900000122'))?.at).toBe(LATER);
    });
  });

  describe('Method: claimConfirmation', () => {
    it('lets one claim win per suppression, and a new suppression after reinstatement claim again', async () => {
      // Prepare
      const { list, doc, tableName } = await freshList('confirmation');
      const { suppression } = await list.suppress('+8613900000131', { source: 'sms-keyword', at: OPTED_OUT_AT });
      const now = Date.parse(OPTED_OUT_AT);

      // Act
      const claims = await Promise.all(['a', 'b', 'c'].map((token) => list.claimConfirmation(suppression, token, now + 300_000, now)));
      const winner = ['a', 'b', 'c'][claims.findIndex((c) => c.claimed)] ?? '';
      await list.recordConfirmationSent(suppression, winner, { messageId: 'm-1', sentAt: OPTED_OUT_AT, body: '【兴国县行政审批局】您已退订', segments: 1 });
      const again = await list.claimConfirmation(suppression, 'd', now + 300_000, now);
      await list.reinstate(suppression.phone);
      const { suppression: renewed } = await list.suppress(suppression.phone, { source: 'sms-keyword', at: LATER });
      const afterReinstatement = await list.claimConfirmation(renewed, 'e', now + 300_000, now);

      // Assess
      expect(claims.filter((c) => c.claimed)).toHaveLength(1);
      expect(again).toEqual({ claimed: false, existing: expect.objectContaining({ status: 'sent', messageId: 'm-1' }) });
      expect(afterReinstatement.claimed).toBe(true);
      const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: optOutConfirmationKey(suppression.phone, suppression.at) }));
      expect(Item).toMatchObject({ entity: 'optOutConfirmation', status: 'sent', sentTo: '+8613900000131' });
    });
  });

  describe('Retention', () => {
    it('keeps the suppression when the retention purge removes the holder’s expired certificate and its deliveries', async () => {
      // Prepare: a licence that expired in 2020, and its holder opted out
      const { list, client, tableName } = await freshList('suppress-purge');
      const store = new DynamoDbStore(client, tableName);
      const reference = loadReferenceData();
      const upload = await uploadCertificates({ store, reference, settings: testSettings() }, [record(141, { issuedOn: '2015-12-01', expiresOn: '2020-11-30' })], at('2016-01-04T10:00:00+08:00'));
      expect(upload.rejected).toEqual([]);
      const { suppression } = await list.suppress('+8613900000141', { source: 'sms-keyword', at: '2020-06-01T10:00:00.000+08:00', detail: '退订' });
      const now = '2026-12-01T03:00:00.000+08:00';

      // Act
      const purge = await purgeExpired({ retention: store, reference, settings: testSettings(), clock: fixedClock(now), logger: silentLogger, audit: new DynamoDbAuditLog(client, tableName) }, at(now));

      // Assess
      expect(purge).toMatchObject({ state: 'done', certificates: 1 });
      expect(await store.getCertificate({ type: 'pesticide_business_license', number: 'TEST-000141' })).toBeUndefined();
      expect(await list.get('+8613900000141')).toEqual(suppression);
    });
  });
});
