import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type NativeAttributeValue,
} from '@aws-sdk/lib-dynamodb';
import { DateTime } from 'luxon';
import type { BookingCodeRecord, BookingRecord, Campaign, Invitation, RecipientCertificate, Slot, Visit } from '../../../core/campaigns/model.js';
import type {
  CampaignMessageId,
  CampaignMessageListing,
  CampaignMessageLedger,
  CampaignStore,
  ClaimOutcome,
  DeliveryRecord,
  JobStore,
  RecipientSource,
  StoredJob,
} from '../../../core/ports.js';
import { maskPhone } from '../../../core/phone.js';
import { SUPPRESSED_REASON } from '../../../core/suppression.js';
import { isConditionalFailure } from './conditions.js';
import { documentClient } from './dynamodb-store.js';
import { deliveryListingUpdate } from './delivery-listing.js';
import { claimRecordOf, ItemClaims } from './item-claims.js';
import {
  accessPatterns,
  bookingCodeKey,
  campaignIndexKey,
  campaignKey,
  campaignMessageKey,
  invitationKey,
  jobKey,
  visitKey,
} from './keys.js';
import { queryAll } from './versioned-items.js';

type Item = Record<string, NativeAttributeValue>;

/**
 * Campaigns, visits, invitations, booking codes and campaign messages in the service's one table (one
 * partition per campaign), the recipients' index, and the local scheduler's pending jobs.
 */
export class DynamoDbCampaignStore implements CampaignStore, CampaignMessageLedger, RecipientSource, JobStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly messages: ItemClaims;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = documentClient(client);
    this.messages = new ItemClaims(this.doc, tableName, 'campaignMessage');
  }

  // ---- Campaigns ----------------------------------------------------------------------------

  async createCampaign(campaign: Campaign): Promise<void> {
    const createdAtUtc = utc(campaign.createdAt);
    await this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: this.tableName, Item: { ...campaignKey(campaign.id), entity: 'campaign', ...campaign }, ConditionExpression: 'attribute_not_exists(pk)' } },
          { Put: { TableName: this.tableName, Item: { ...campaignIndexKey(createdAtUtc, campaign.id), entity: 'campaignIndex', id: campaign.id } } },
        ],
      }),
    );
  }

  async getCampaign(id: string): Promise<Campaign | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: campaignKey(id), ConsistentRead: true }));
    return Item === undefined ? undefined : toCampaign(Item);
  }

  async saveCampaign(campaign: Campaign, expectedVersion: number): Promise<boolean> {
    try {
      // A whole Put: a template reset to the default must drop the stored one, not keep it.
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...campaignKey(campaign.id), entity: 'campaign', ...campaign, version: expectedVersion + 1 },
          ConditionExpression: 'version = :expected',
          ExpressionAttributeValues: { ':expected': expectedVersion },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  async listCampaigns(): Promise<Campaign[]> {
    const entries = await queryAll(this.doc, this.tableName, accessPatterns.campaigns());
    const campaigns = await Promise.all(entries.map((entry) => this.getCampaign(entry.id as string)));
    return campaigns.filter((c): c is Campaign => c !== undefined);
  }

  // ---- Visits -------------------------------------------------------------------------------

  async createVisit(visit: Visit): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...visitKey(visit.campaignId, visit.id), entity: 'visit', ...visit },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getVisit(campaignId: string, visitId: string): Promise<Visit | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: visitKey(campaignId, visitId), ConsistentRead: true }));
    return Item === undefined ? undefined : toVisit(Item);
  }

  async listVisits(campaignId: string): Promise<Visit[]> {
    const items = await queryAll(this.doc, this.tableName, accessPatterns.visitsOf(campaignId));
    return items.map(toVisit).sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.id < b.id ? -1 : 1));
  }

  async saveVisit(visit: Visit, expectedVersion: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: visitKey(visit.campaignId, visit.id),
          UpdateExpression: `SET #date = :date, place = :place, slots = :slots, #state = :state, noticeAt = :noticeAt, reminderAt = :reminderAt, moves = :moves, updatedAt = :updatedAt, version = :next${visit.timedFor !== undefined ? ', timedFor = :timedFor' : ''}`,
          ConditionExpression: 'version = :expected',
          ExpressionAttributeNames: { '#date': 'date', '#state': 'state' },
          ExpressionAttributeValues: {
            ':date': visit.date,
            ':place': visit.place,
            ':slots': visit.slots,
            ':state': visit.state,
            ':noticeAt': visit.noticeAt,
            ':reminderAt': visit.reminderAt,
            ':moves': visit.moves ?? 0,
            ':updatedAt': visit.updatedAt,
            ':next': expectedVersion + 1,
            ':expected': expectedVersion,
            ...(visit.timedFor !== undefined ? { ':timedFor': visit.timedFor } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  // ---- Invitations and codes ----------------------------------------------------------------

  async getInvitation(campaignId: string, visitId: string, phone: string): Promise<Invitation | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: invitationKey(campaignId, visitId, phone), ConsistentRead: true }));
    return Item === undefined ? undefined : toInvitation(Item);
  }

  async putInvitation(invitation: Invitation): Promise<Invitation> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...invitationKey(invitation.campaignId, invitation.visitId, invitation.phone), entity: 'invitation', ...invitation },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return invitation;
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
      // Another run invited this phone first: its code is the one the holder gets.
      const stored = await this.getInvitation(invitation.campaignId, invitation.visitId, invitation.phone);
      if (stored === undefined) throw new Error(`invitation of ${maskPhone(invitation.phone)} to ${invitation.visitId} vanished after a conflicting put`, { cause: error });
      return stored;
    }
  }

  async invitationsOf(campaignId: string, visitId: string): Promise<Invitation[]> {
    return (await queryAll(this.doc, this.tableName, accessPatterns.invitationsOf(campaignId, visitId))).map(toInvitation);
  }

  async reserveBookingCode(record: BookingCodeRecord): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...bookingCodeKey(record.campaignId, record.code), entity: 'bookingCode', ...record },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  async getBookingCode(campaignId: string, code: string): Promise<BookingCodeRecord | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: bookingCodeKey(campaignId, code), ConsistentRead: true }));
    return Item === undefined ? undefined : { campaignId: Item.campaignId as string, code: Item.code as string, visitId: Item.visitId as string, phone: Item.phone as string };
  }

  async bookingsOf(campaignId: string): Promise<BookingRecord[]> {
    const items = await queryAll(this.doc, this.tableName, accessPatterns.bookingsOf(campaignId));
    // A cancelled booking keeps its item (its sequence numbers the next booking's messages), but holds no slot.
    return items.filter((item) => item.state !== 'cancelled').map((item) => ({
      campaignId,
      code: item.code as string,
      visitId: item.visitId as string,
      slot: item.slot as number,
      bookingId: item.bookingId as string,
      ...(typeof item.phone === 'string' ? { phone: item.phone } : {}),
      ...(typeof item.attended === 'boolean' ? { attended: item.attended } : {}),
      at: item.at as string,
    }));
  }

  // ---- Campaign messages: the delivery ledger's claim protocol (item-claims.ts) ---------------

  async claimMessage(id: CampaignMessageId, token: string, leaseUntilMs: number, nowMs: number, today?: string): Promise<ClaimOutcome> {
    // The identity is also kept as attributes, so the report reads a visit's messages without parsing keys.
    return this.messages.claim(messageKey(id), token, leaseUntilMs, nowMs, { campaignId: id.campaignId, visitId: id.visitId, phone: id.phone, kind: id.kind }, today);
  }

  async recordMessageDeferred(id: CampaignMessageId, token: string, deferredOn: string, at: string, listing?: CampaignMessageListing): Promise<void> {
    const key = messageKey(id);
    const listed = listing === undefined ? undefined : { to: id.phone, listing: deliveryListingUpdate(key, 'deferred', at, { kind: id.kind, final: false, ...listing }) };
    await this.messages.recordDeferred(key, token, deferredOn, at, () => describeMessage(id), listed);
  }

  async recordMessageSent(
    id: CampaignMessageId,
    token: string,
    sent: { messageId: string; sentAt: string; to: string; body: string; segments: number },
    listing?: CampaignMessageListing,
  ): Promise<void> {
    const key = messageKey(id);
    const listed = listing === undefined ? undefined : deliveryListingUpdate(key, 'sent', sent.sentAt, { kind: id.kind, final: false, ...listing });
    await this.messages.recordSent(key, token, sent, () => describeMessage(id), listed);
  }

  async recordMessageFailed(id: CampaignMessageId, token: string, reason: string, failedAt: string, refused?: { body?: string | undefined; listing: CampaignMessageListing }): Promise<void> {
    const key = messageKey(id);
    const listed =
      refused === undefined ? undefined : { to: id.phone, body: refused.body, listing: deliveryListingUpdate(key, 'failed', failedAt, { kind: id.kind, final: false, ...refused.listing }) };
    await this.messages.recordFailed(key, token, reason, failedAt, () => describeMessage(id), listed);
  }

  async releaseMessage(id: CampaignMessageId, token: string): Promise<void> {
    await this.messages.release(messageKey(id), token);
  }

  async recordMessageSuppressed(id: CampaignMessageId, token: string, at: string, listing?: CampaignMessageListing): Promise<void> {
    const key = messageKey(id);
    const listed = listing === undefined ? undefined : { to: id.phone, listing: deliveryListingUpdate(key, 'suppressed', at, { kind: id.kind, final: false, ...listing }) };
    await this.messages.recordSuppressed(key, token, SUPPRESSED_REASON, at, () => describeMessage(id), listed);
  }

  async getMessage(id: CampaignMessageId): Promise<DeliveryRecord | undefined> {
    return this.messages.get(messageKey(id));
  }

  async messagesOf(campaignId: string, visitId: string): Promise<Array<CampaignMessageId & DeliveryRecord>> {
    const items = await queryAll(this.doc, this.tableName, accessPatterns.campaignMessagesOf(campaignId, visitId));
    return items.map((item) => ({ campaignId, visitId, phone: item.phone as string, kind: item.kind as string, ...claimRecordOf(item) }));
  }

  // ---- Recipients ---------------------------------------------------------------------------

  async *certificatesInTownshipOfType(township: string, type: string, onOrBefore: string): AsyncIterable<RecipientCertificate> {
    let ExclusiveStartKey: Item | undefined;
    do {
      const result = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          ...accessPatterns.certificatesInTownshipOfType(township, type, onOrBefore),
          ProjectionExpression: '#type, #number, phone, township, expiresOn',
          ExpressionAttributeNames: { '#type': 'type', '#number': 'number' },
          ExclusiveStartKey,
        }),
      );
      for (const item of result.Items ?? []) {
        yield { type: item.type as string, number: item.number as string, phone: item.phone as string, township: item.township as string, expiresOn: item.expiresOn as string };
      }
      ExclusiveStartKey = result.LastEvaluatedKey;
    } while (ExclusiveStartKey !== undefined);
  }

  // ---- Jobs of the local scheduler ----------------------------------------------------------

  async putJob(job: StoredJob): Promise<void> {
    // The key holds the instant, so a job that moves is a new item: the old one goes first.
    await this.deleteJob(job.name, job.group);
    const at = utc(job.at);
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...jobKey(at, job.name), entity: 'job', name: job.name, group: job.group, at, payload: job.payload } }));
  }

  /**
   * Pending jobs are few (two per visit, deleted once run), so finding one by name reads the whole
   * jobs partition rather than keeping a second item per job in step.
   */
  async deleteJob(name: string, group: string, at?: string): Promise<void> {
    const only = at === undefined ? undefined : utc(at);
    for (const job of await this.pendingJobs()) {
      if (job.name !== name || job.group !== group || (only !== undefined && utc(job.at) !== only)) continue;
      await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: jobKey(utc(job.at), job.name) }));
    }
  }

  async dueJobs(until: DateTime): Promise<StoredJob[]> {
    return (await queryAll(this.doc, this.tableName, accessPatterns.dueJobs(until.toUTC().toISO() ?? ''))).map(toJob);
  }

  async pendingJobs(): Promise<StoredJob[]> {
    return (await queryAll(this.doc, this.tableName, accessPatterns.pendingJobs())).map(toJob);
  }
}

function utc(iso: string): string {
  const instant = DateTime.fromISO(iso, { setZone: true });
  if (!instant.isValid) throw new RangeError(`not an ISO-8601 instant: ${JSON.stringify(iso)}`);
  return instant.toUTC().toISO() ?? '';
}

function messageKey(id: CampaignMessageId) {
  return campaignMessageKey(id.campaignId, id.visitId, id.phone, id.kind);
}

function describeMessage(id: CampaignMessageId): string {
  return `campaign ${id.campaignId} visit ${id.visitId} ${maskPhone(id.phone)} ${id.kind}`;
}

function toCampaign(item: Item): Campaign {
  return {
    id: item.id as string,
    name: item.name as string,
    types: item.types as string[],
    season: item.season as Campaign['season'],
    blackouts: (item.blackouts ?? []) as Campaign['blackouts'],
    noticeDaysBefore: item.noticeDaysBefore as number,
    reminderDaysBefore: item.reminderDaysBefore as number,
    ...(typeof item.noticeTemplate === 'string' ? { noticeTemplate: item.noticeTemplate } : {}),
    ...(typeof item.reminderTemplate === 'string' ? { reminderTemplate: item.reminderTemplate } : {}),
    createdBy: item.createdBy as string,
    createdAt: item.createdAt as string,
    version: item.version as number,
    ...(typeof item.changedBy === 'string' ? { changedBy: item.changedBy } : {}),
    ...(typeof item.changedAt === 'string' ? { changedAt: item.changedAt } : {}),
    ...(typeof item.comment === 'string' ? { comment: item.comment } : {}),
    ...(typeof item.timingVersion === 'number' ? { timingVersion: item.timingVersion } : {}),
    ...(typeof item.lastChanges === 'object' && item.lastChanges !== null ? { lastChanges: item.lastChanges as Campaign['lastChanges'] } : {}),
  };
}

function toVisit(item: Item): Visit {
  return {
    campaignId: item.campaignId as string,
    id: item.id as string,
    township: item.township as string,
    date: item.date as string,
    place: item.place as string,
    slots: (item.slots ?? []) as Slot[],
    state: item.state as Visit['state'],
    noticeAt: item.noticeAt as string,
    reminderAt: item.reminderAt as string,
    ...(typeof item.moves === 'number' && item.moves > 0 ? { moves: item.moves } : {}),
    ...(typeof item.timedFor === 'number' ? { timedFor: item.timedFor } : {}),
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
    version: item.version as number,
  };
}

function toInvitation(item: Item): Invitation {
  return {
    campaignId: item.campaignId as string,
    visitId: item.visitId as string,
    phone: item.phone as string,
    code: item.code as string,
    certificates: (item.certificates ?? []) as Invitation['certificates'],
    count: item.count as number,
    createdAt: item.createdAt as string,
  };
}

function toJob(item: Item): StoredJob {
  return { name: item.name as string, group: item.group as string, at: item.at as string, payload: item.payload as unknown };
}
