import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { describe, expect, it } from 'vitest';
import { documentClient } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { bookingKey, certificateKey, metaKey } from '../../functions/adapters/aws/dynamodb/keys.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import { at, testSettings } from '../support/fixtures.js';
import { farmRecord, freshCampaignTable, INSPECTION, JIANGBEI, LIANJIANG, lianjiangVisit, OPERATOR_LICENSE, springCampaign } from '../support/campaign-fixtures.js';

const NOW = at('2026-12-01T10:00:00+08:00');

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('Adapter: DynamoDbCampaignStore', () => {
  describe('Method: createCampaign / listCampaigns', () => {
    it('stores campaigns and lists them newest first', async () => {
      // Prepare
      const { campaigns } = await freshCampaignTable('campaign-list');

      // Act
      await campaigns.createCampaign(springCampaign({ id: 'cmp_a', createdAt: '2026-12-01T10:00:00.000+08:00' }));
      await campaigns.createCampaign(springCampaign({ id: 'cmp_b', name: '2027年夏季', createdAt: '2026-12-02T10:00:00.000+08:00' }));
      const listed = await campaigns.listCampaigns();

      // Assess
      expect(listed.map((c) => c.id)).toEqual(['cmp_b', 'cmp_a']);
      expect(await campaigns.getCampaign('cmp_a')).toEqual(springCampaign({ id: 'cmp_a' }));
    });
  });

  describe('Method: saveVisit', () => {
    it('writes a move only while the visit is still at the version read', async () => {
      // Prepare
      const { campaigns } = await freshCampaignTable('campaign-visit');
      await campaigns.createVisit(lianjiangVisit());
      const moved = lianjiangVisit({ date: '2027-01-20', state: 'moved', updatedAt: '2026-12-02T10:00:00.000+08:00' });

      // Act
      const first = await campaigns.saveVisit(moved, 1);
      const stale = await campaigns.saveVisit({ ...moved, place: '别处' }, 1);

      // Assess
      expect([first, stale]).toEqual([true, false]);
      expect(await campaigns.getVisit('cmp_spring2027', 'v_lianjiang')).toEqual({ ...moved, version: 2 });
      expect(await campaigns.listVisits('cmp_spring2027')).toHaveLength(1);
    });
  });

  describe('Method: reserveBookingCode / putInvitation', () => {
    it('gives a code to one phone only within a campaign, and keeps the first invitation of a phone', async () => {
      // Prepare
      const { campaigns } = await freshCampaignTable('campaign-codes');
      const invitation = { campaignId: 'cmp_spring2027', visitId: 'v_lianjiang', phone: '+8613900000001', code: 'K7M3QX', certificates: [{ type: INSPECTION, number: 'NJ-1' }], count: 1, createdAt: NOW.toISO() ?? '' };

      // Act
      const taken = await campaigns.reserveBookingCode({ campaignId: 'cmp_spring2027', code: 'K7M3QX', visitId: 'v_lianjiang', phone: '+8613900000001' });
      const again = await campaigns.reserveBookingCode({ campaignId: 'cmp_spring2027', code: 'K7M3QX', visitId: 'v_other', phone: '+8613900000002' });
      const otherCampaign = await campaigns.reserveBookingCode({ campaignId: 'cmp_other', code: 'K7M3QX', visitId: 'v_x', phone: '+8613900000002' });
      const stored = await campaigns.putInvitation(invitation);
      const second = await campaigns.putInvitation({ ...invitation, code: 'ZZZZZZ' });

      // Assess
      expect([taken, again, otherCampaign]).toEqual([true, false, true]);
      expect(await campaigns.getBookingCode('cmp_spring2027', 'K7M3QX')).toEqual({ campaignId: 'cmp_spring2027', code: 'K7M3QX', visitId: 'v_lianjiang', phone: '+8613900000001' });
      expect(stored.code).toBe('K7M3QX');
      expect(second.code).toBe('K7M3QX');
      expect(await campaigns.invitationsOf('cmp_spring2027', 'v_lianjiang')).toEqual([invitation]);
    });
  });

  describe('Method: claimMessage', () => {
    it('lets one claim send a campaign message and records it, as the reminder ledger does', async () => {
      // Prepare
      const { campaigns } = await freshCampaignTable('campaign-claims');
      const id = { campaignId: 'cmp_spring2027', visitId: 'v_lianjiang', phone: '+8613900000001', kind: 'notice' };

      // Act
      const first = await campaigns.claimMessage(id, 'token-a', 2_000, 1_000);
      const second = await campaigns.claimMessage(id, 'token-b', 2_000, 1_500);
      const takeover = await campaigns.claimMessage(id, 'token-c', 9_000, 2_500);
      const lost = campaigns.recordMessageSent(id, 'token-a', { messageId: 'm-a', sentAt: NOW.toISO() ?? '', to: id.phone, body: '通知', segments: 1 });
      await expect(lost).rejects.toThrow(/taken over/);
      await campaigns.recordMessageSent(id, 'token-c', { messageId: 'm-c', sentAt: NOW.toISO() ?? '', to: id.phone, body: '通知', segments: 1 });
      const after = await campaigns.claimMessage(id, 'token-d', 99_000, 98_000);

      // Assess
      expect(first).toEqual({ claimed: true, attempts: 1 });
      expect(second).toMatchObject({ claimed: false, existing: { status: 'claimed' } });
      expect(takeover).toEqual({ claimed: true, attempts: 2 });
      expect(after).toMatchObject({ claimed: false, existing: { status: 'sent', messageId: 'm-c' } });
      expect(await campaigns.messagesOf('cmp_spring2027', 'v_lianjiang')).toEqual([expect.objectContaining({ ...id, status: 'sent', body: '通知' })]);
    });
  });

  describe('Method: certificatesInTownshipOfType', () => {
    it('finds a township’s certificates of one type expiring by a date through the township-and-type index', async () => {
      // Prepare
      const { store, campaigns } = await freshCampaignTable('campaign-recipients');
      const result = await uploadCertificates({ store, reference: loadReferenceData(), settings: testSettings() }, [
        farmRecord(1, { expiresOn: '2027-02-09' }),
        farmRecord(2, { expiresOn: '2027-06-30' }),
        farmRecord(3, { expiresOn: '2027-07-01' }),
        farmRecord(4, { township: JIANGBEI }),
        farmRecord(5, { type: OPERATOR_LICENSE, number: 'JS-00005', issuedOn: '2021-03-01', expiresOn: '2027-03-01' }),
        farmRecord(6, { expiresOn: '2026-10-01' }),
      ], NOW);
      expect(result.rejected).toEqual([]);

      // Act
      const found = await collect(campaigns.certificatesInTownshipOfType(LIANJIANG, INSPECTION, '2027-06-30'));

      // Assess
      expect(found.map((c) => c.number)).toEqual(['NJ-00006', 'NJ-00001', 'NJ-00002']);
      expect(found[0]).toEqual({ type: INSPECTION, number: 'NJ-00006', phone: '+8613900000006', township: LIANJIANG, expiresOn: '2026-10-01' });
    });
  });

  describe('Function: ensureTable after an interrupted upgrade', () => {
    it('finishes giving stored certificates the index keys when a start stopped before marking it done', async () => {
      // Prepare: the index exists, but the start that made it stopped before its backfill was marked done
      const { client, store, campaigns } = await freshCampaignTable('campaign-upgrade-resume');
      await uploadCertificates({ store, reference: loadReferenceData(), settings: testSettings() }, [farmRecord(8)], NOW);
      const doc = documentClient(client);
      await doc.send(new UpdateCommand({ TableName: store.tableName, Key: certificateKey({ type: INSPECTION, number: 'NJ-00008' }), UpdateExpression: 'REMOVE gsi3pk, gsi3sk' }));
      await doc.send(new DeleteCommand({ TableName: store.tableName, Key: metaKey('INDEX#byTownshipType') }));

      // Act
      await ensureTable(client, store.tableName);
      const found = await collect(campaigns.certificatesInTownshipOfType(LIANJIANG, INSPECTION, '2027-06-30'));

      // Assess
      expect(found.map((c) => c.number)).toEqual(['NJ-00008']);
    });
  });

  describe('Method: bookingsOf', () => {
    it('reads the bookings of a campaign from its partition', async () => {
      // Prepare: a booking as the booking use case writes it
      const { client, campaigns } = await freshCampaignTable('campaign-bookings');
      await documentClient(client).send(
        new PutCommand({
          TableName: campaigns.tableName,
          Item: { ...bookingKey('cmp_spring2027', 'K7M3QX'), entity: 'booking', code: 'K7M3QX', visitId: 'v_lianjiang', slot: 2, bookingId: 'b_1', at: NOW.toISO() },
        }),
      );

      // Act
      const bookings = await campaigns.bookingsOf('cmp_spring2027');

      // Assess
      expect(bookings).toEqual([{ campaignId: 'cmp_spring2027', code: 'K7M3QX', visitId: 'v_lianjiang', slot: 2, bookingId: 'b_1', at: NOW.toISO() }]);
    });
  });

  describe('Method: putJob / dueJobs / deleteJob', () => {
    it('leaves a job rescheduled meanwhile when the job that ran at its earlier instant is removed', async () => {
      // Prepare: the notice ran at its instant while a move stored it anew at a later one
      const { campaigns } = await freshCampaignTable('campaign-job-race');
      const payload = { kind: 'campaignJob', campaignId: 'cmp_spring2027', visitId: 'v_lianjiang', job: 'notice' };
      await campaigns.putJob({ name: 'campaign-notice-a', group: 'certalarm', at: '2026-12-29T09:00:00.000+08:00', payload });
      await campaigns.putJob({ name: 'campaign-notice-a', group: 'certalarm', at: '2027-01-05T09:00:00.000+08:00', payload });

      // Act
      await campaigns.deleteJob('campaign-notice-a', 'certalarm', '2026-12-29T01:00:00.000Z');

      // Assess
      expect(await campaigns.pendingJobs()).toEqual([{ name: 'campaign-notice-a', group: 'certalarm', at: '2027-01-05T01:00:00.000Z', payload }]);
    });

    it('keeps one job per name, finds those due by an instant, and forgets a deleted one', async () => {
      // Prepare
      const { campaigns } = await freshCampaignTable('campaign-jobs');
      const payload = { kind: 'campaignJob', campaignId: 'cmp_spring2027', visitId: 'v_lianjiang', job: 'notice' };

      // Act
      await campaigns.putJob({ name: 'campaign-notice-a', group: 'certalarm', at: '2026-12-29T09:00:00.000+08:00', payload });
      await campaigns.putJob({ name: 'campaign-notice-b', group: 'certalarm', at: '2027-01-05T09:00:00.000+08:00', payload });
      await campaigns.putJob({ name: 'campaign-notice-a', group: 'certalarm', at: '2027-01-06T09:00:00.000+08:00', payload });
      const dueEarly = await campaigns.dueJobs(at('2027-01-05T09:00:00+08:00'));
      const dueLate = await campaigns.dueJobs(at('2027-01-06T09:00:00+08:00'));
      await campaigns.deleteJob('campaign-notice-b', 'certalarm');
      const pending = await campaigns.pendingJobs();

      // Assess
      expect(dueEarly).toEqual([{ name: 'campaign-notice-b', group: 'certalarm', at: '2027-01-05T01:00:00.000Z', payload }]);
      expect(dueLate.map((j) => j.name)).toEqual(['campaign-notice-b', 'campaign-notice-a']);
      expect(pending).toEqual([{ name: 'campaign-notice-a', group: 'certalarm', at: '2027-01-06T01:00:00.000Z', payload }]);
    });
  });
});
