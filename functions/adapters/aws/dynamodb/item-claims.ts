import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import type { ClaimOutcome, DeliveryRecord } from '../../../core/ports.js';
import { isConditionalFailure } from './conditions.js';
import { putMessagePointer, type ListingUpdate } from './delivery-listing.js';
import { messagePointerKey, TTL_ATTRIBUTE, type ItemKey } from './keys.js';

/** Finished send records stay two years for audit, then DynamoDB TTL removes them. */
export const SEND_RECORD_RETENTION_SECONDS = 2 * 365 * 24 * 3600;

export interface SentRecord {
  messageId: string;
  sentAt: string;
  to: string;
  body: string;
  segments: number;
  ruleVersion?: number;
}

/**
 * claim → send → record on one item, whatever the item records: a reminder's delivery or a campaign's
 * message. SNS has no idempotency key, so the claim (a conditional write with a lease) is the only
 * guard against a second send; the lease lets another run take over a claim whose holder died before
 * recording anything, and every record is conditional on the claim token, so a holder whose lease was
 * taken over records nothing.
 */
export class ItemClaims {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** The `entity` attribute written on the item: `delivery`, `campaignMessage` … */
    private readonly entity: string,
  ) {}

  /**
   * `today` (Asia/Shanghai): a record the daily cap deferred on an earlier day is claimed like a new one; it
   * leaves the deferred listing, and a release afterwards deletes it as it would a new claim.
   */
  async claim(key: ItemKey, token: string, leaseUntilMs: number, nowMs: number, attributes: Record<string, NativeAttributeValue> = {}, today?: string): Promise<ClaimOutcome> {
    const extra = Object.keys(attributes);
    const deferredEnded = today === undefined ? '' : ' OR (#status = :deferred AND deferredOn < :today)';
    try {
      const result = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          // A new claim, or the takeover of a claim whose holder died before recording anything.
          UpdateExpression: `SET #status = :claimed, claimToken = :token, leaseUntil = :lease, entity = :entity${extra.map((name, i) => `, #a${i} = :a${i}`).join('')}${today === undefined ? '' : ' REMOVE deferredOn, dlvpk, dlvsk'} ADD attempts :one`,
          ConditionExpression: `attribute_not_exists(pk) OR (#status = :claimed AND leaseUntil < :now)${deferredEnded}`,
          ExpressionAttributeNames: { '#status': 'status', ...Object.fromEntries(extra.map((name, i) => [`#a${i}`, name])) },
          ExpressionAttributeValues: {
            ':claimed': 'claimed',
            ':token': token,
            ':lease': leaseUntilMs,
            ':now': nowMs,
            ':one': 1,
            ':entity': this.entity,
            ...Object.fromEntries(extra.map((name, i) => [`:a${i}`, attributes[name]])),
            ...(today === undefined ? {} : { ':deferred': 'deferred', ':today': today }),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { claimed: true, attempts: (result.Attributes?.attempts as number | undefined) ?? 1 };
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
      return { claimed: false, existing: await this.get(key) };
    }
  }

  /**
   * Marks the item `sent` and, side by side in one round trip, points the message id at it: a receipt that
   * finds the pointer before the record reads the item as still `claimed` and is retried; one that finds a
   * record of another message (a lost claim) is ignored. `listing` puts the item on the deliveries index.
   */
  async recordSent(key: ItemKey, token: string, sent: SentRecord, describe: () => string, listing?: ListingUpdate): Promise<void> {
    const pointer = putMessagePointer(this.doc, this.tableName, sent.messageId, key, sent.sentAt);
    const record = this.finish(
      key,
      token,
      `SET #status = :sent, messageId = :messageId, sentAt = :sentAt, sentTo = :to, #body = :body, #segments = :segments, ruleVersion = :ruleVersion, #ttl = :ttl${listing === undefined ? '' : `, ${listing.set}`} REMOVE leaseUntil`,
      {
        ':ruleVersion': sent.ruleVersion ?? 0,
        ':sent': 'sent',
        ':messageId': sent.messageId,
        ':sentAt': sent.sentAt,
        ':to': sent.to,
        ':body': sent.body,
        ':segments': sent.segments,
        ':ttl': Math.floor(Date.parse(sent.sentAt) / 1000) + SEND_RECORD_RETENTION_SECONDS,
        ...(listing?.values ?? {}),
      },
      describe,
      { '#body': 'body', '#segments': 'segments', ...(listing?.names ?? {}) },
    );
    await Promise.all([pointer, record]);
  }

  /**
   * One SMS for several items (a merged reminder): every item marked `sent` with the same message id and text,
   * each conditional on its own claim token, and the message-id pointer put, in one TransactWriteItems: a crash
   * leaves all of them recorded or none, and a member whose claim was taken over fails the whole write.
   */
  async recordSentTogether(
    members: ReadonlyArray<{ key: ItemKey; token: string; ruleVersion?: number | undefined; listing?: ListingUpdate | undefined }>,
    sent: Omit<SentRecord, 'ruleVersion'>,
    describe: () => string,
  ): Promise<void> {
    const [first] = members;
    if (first === undefined) return;
    const ttl = Math.floor(Date.parse(sent.sentAt) / 1000) + SEND_RECORD_RETENTION_SECONDS;
    const updates = members.map((member) => ({
      Update: {
        TableName: this.tableName,
        Key: member.key,
        UpdateExpression: `SET #status = :sent, messageId = :messageId, sentAt = :sentAt, sentTo = :to, #body = :body, #segments = :segments, ruleVersion = :ruleVersion, #ttl = :ttl${member.listing === undefined ? '' : `, ${member.listing.set}`} REMOVE leaseUntil`,
        ConditionExpression: 'claimToken = :token',
        ExpressionAttributeNames: { '#status': 'status', '#ttl': TTL_ATTRIBUTE, '#body': 'body', '#segments': 'segments', ...(member.listing?.names ?? {}) },
        ExpressionAttributeValues: {
          ':sent': 'sent',
          ':messageId': sent.messageId,
          ':sentAt': sent.sentAt,
          ':to': sent.to,
          ':body': sent.body,
          ':segments': sent.segments,
          ':ruleVersion': member.ruleVersion ?? 0,
          ':ttl': ttl,
          ':token': member.token,
          ...(member.listing?.values ?? {}),
        },
      },
    }));
    // A receipt finds the first member; the others carry the same message id (see README, "Delivery status").
    const pointer = {
      Put: {
        TableName: this.tableName,
        Item: {
          ...messagePointerKey(sent.messageId),
          entity: 'messagePointer',
          deliveryPk: first.key.pk,
          deliverySk: first.key.sk,
          merged: members.map((m) => ({ pk: m.key.pk, sk: m.key.sk })),
          [TTL_ATTRIBUTE]: Math.floor(Date.parse(sent.sentAt) / 1000) + 30 * 24 * 3600,
        },
      },
    };
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: [...updates, pointer] }));
    } catch (error) {
      if (error instanceof TransactionCanceledException && (error.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed')) {
        throw new LostClaimError(describe());
      }
      throw error;
    }
  }

  /**
   * `refused`: a message refused at send is listed as failed at the instant of the attempt, with the phone it
   * was meant for and the text, when the caller gives them.
   */
  async recordFailed(
    key: ItemKey,
    token: string,
    reason: string,
    failedAt: string,
    describe: () => string,
    refused?: { to: string; body?: string | undefined; listing: ListingUpdate },
  ): Promise<void> {
    const listed = refused === undefined ? '' : `, sentAt = :failedAt, sentTo = :to, ${refused.listing.set}`;
    const body = refused?.body !== undefined ? ', #body = :body' : '';
    await this.finish(
      key,
      token,
      `SET #status = :failed, reason = :reason, #ttl = :ttl${listed}${body} REMOVE leaseUntil`,
      {
        ':failed': 'failed',
        ':reason': reason,
        ':ttl': Math.floor(Date.parse(failedAt) / 1000) + SEND_RECORD_RETENTION_SECONDS,
        ...(refused === undefined ? {} : { ':failedAt': failedAt, ':to': refused.to, ...refused.listing.values }),
        ...(refused?.body !== undefined ? { ':body': refused.body } : {}),
      },
      describe,
      { ...(refused?.listing.names ?? {}), ...(refused?.body !== undefined ? { '#body': 'body' } : {}) },
    );
  }

  /**
   * The daily cap held the message back: `deferred` on `deferredOn`, with no lease, so it is neither sent nor
   * taken over today; a claim with a later `today` takes it again. `listing` puts it on the deferred listing.
   */
  async recordDeferred(key: ItemKey, token: string, deferredOn: string, at: string, describe: () => string, listing?: { to: string; listing: ListingUpdate }): Promise<void> {
    await this.finish(
      key,
      token,
      `SET #status = :deferred, deferredOn = :deferredOn, #ttl = :ttl${listing === undefined ? '' : `, sentTo = :to, ${listing.listing.set}`} REMOVE leaseUntil`,
      {
        ':deferred': 'deferred',
        ':deferredOn': deferredOn,
        // Kept like any record, should it never be claimed again (the certificate revoked or renewed meanwhile).
        ':ttl': Math.floor(Date.parse(at) / 1000) + SEND_RECORD_RETENTION_SECONDS,
        ...(listing === undefined ? {} : { ':to': listing.to, ...listing.listing.values }),
      },
      describe,
      listing?.listing.names ?? {},
    );
  }

  /**
   * Marks the item `suppressed`, a finished status no run claims again: nothing was sent, because the
   * number is on our suppression list. `listed`: put on the deliveries index at the instant of the skip,
   * with the phone it was meant for, like a refused message.
   */
  async recordSuppressed(key: ItemKey, token: string, reason: string, at: string, describe: () => string, listed?: { to: string; listing: ListingUpdate }): Promise<void> {
    await this.finish(
      key,
      token,
      `SET #status = :suppressed, reason = :reason, #ttl = :ttl${listed === undefined ? '' : `, sentAt = :at, sentTo = :to, ${listed.listing.set}`} REMOVE leaseUntil`,
      {
        ':suppressed': 'suppressed',
        ':reason': reason,
        ':ttl': Math.floor(Date.parse(at) / 1000) + SEND_RECORD_RETENTION_SECONDS,
        ...(listed === undefined ? {} : { ':at': at, ':to': listed.to, ...listed.listing.values }),
      },
      describe,
      listed?.listing.names ?? {},
    );
  }

  private async finish(
    key: ItemKey,
    token: string,
    update: string,
    values: Record<string, NativeAttributeValue>,
    describe: () => string,
    names: Record<string, string> = {},
  ): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: update,
          ConditionExpression: 'claimToken = :token',
          // Many plain words (status, segments, body, ttl) are DynamoDB reserved words: always alias them.
          ExpressionAttributeNames: { '#status': 'status', '#ttl': TTL_ATTRIBUTE, ...names },
          ExpressionAttributeValues: { ...values, ':token': token },
        }),
      );
    } catch (error) {
      if (isConditionalFailure(error)) throw new LostClaimError(describe());
      throw error;
    }
  }

  /** Give a claim back so the next run retries at once (a retryable failure before anything was sent). */
  async release(key: ItemKey, token: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: key,
          ConditionExpression: 'claimToken = :token AND #status = :claimed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':token': token, ':claimed': 'claimed' },
        }),
      );
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
    }
  }

  async get(key: ItemKey): Promise<DeliveryRecord | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    return Item === undefined ? undefined : claimRecordOf(Item);
  }
}

export function claimRecordOf(item: Record<string, NativeAttributeValue>): DeliveryRecord {
  return {
    status: item.status as DeliveryRecord['status'],
    claimToken: item.claimToken as string | undefined,
    leaseUntil: item.leaseUntil as number | undefined,
    messageId: item.messageId as string | undefined,
    sentAt: item.sentAt as string | undefined,
    attempts: (item.attempts as number | undefined) ?? 0,
    reason: item.reason as string | undefined,
    body: item.body as string | undefined,
    ruleVersion: item.ruleVersion as number | undefined,
    deferredOn: item.deferredOn as string | undefined,
  };
}

/** The claim was taken over (its lease ran out): this holder must not record anything. */
export class LostClaimError extends Error {
  override readonly name = 'LostClaimError';
  constructor(what: string) {
    super(`claim on ${what} was taken over`);
  }
}
