import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { InvalidCursorError } from '../../../core/errors.js';
import { maskPhone } from '../../../core/phone.js';
import type { ClaimOutcome, OptOutConfirmations, Page, SuppressionList } from '../../../core/ports.js';
import type { Reinstatement, Suppression, SuppressionSource } from '../../../core/suppression.js';
import { isConditionalFailure } from './conditions.js';
import { documentClient } from './dynamodb-store.js';
import { ItemClaims } from './item-claims.js';
import { accessPatterns, isSuppressionSortKey, optOutConfirmationKey, reinstatementKey, suppressionKey } from './keys.js';

type Item = Record<string, NativeAttributeValue>;

/** The most entries one listing page returns, whatever the caller asks. */
const MAX_PAGE = 1_000;

/**
 * Our suppression list and the opt-out confirmations, in the service's one table (see keys.ts). An
 * entry carries no TTL: a number that opted out stays out until an operator reinstates it.
 */
export class DynamoDbSuppressionList implements SuppressionList, OptOutConfirmations {
  private readonly doc: DynamoDBDocumentClient;
  private readonly confirmations: ItemClaims;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = documentClient(client);
    this.confirmations = new ItemClaims(this.doc, tableName, 'optOutConfirmation');
  }

  async suppress(phone: string, entry: { source: SuppressionSource; at: string; detail?: string | undefined }): Promise<{ added: boolean; suppression: Suppression }> {
    checkPhone(phone);
    const suppression: Suppression = { phone, source: entry.source, at: entry.at, ...(entry.detail !== undefined ? { detail: entry.detail } : {}) };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...suppressionKey(phone), entity: 'suppression', ...suppression },
          // The first entry stands: its instant keys the confirmation, so a repeated opt-out is the same one.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { added: true, suppression };
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
    }
    const existing = await this.get(phone);
    // Reinstated between the put and the read: put again rather than report an entry that is gone.
    return existing === undefined ? this.suppress(phone, entry) : { added: false, suppression: existing };
  }

  async isSuppressed(phone: string): Promise<boolean> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: suppressionKey(phone), ConsistentRead: true, ProjectionExpression: 'pk' }),
    );
    return Item !== undefined;
  }

  async get(phone: string): Promise<Suppression | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: suppressionKey(phone), ConsistentRead: true }));
    return Item === undefined ? undefined : toSuppression(Item);
  }

  async list(query: { limit: number; cursor?: string | undefined }): Promise<Page<Suppression>> {
    const after = decodeCursor(query.cursor);
    const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(query.limit)));
    const result = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        ...accessPatterns.suppressions(),
        Limit: limit,
        ...(after !== undefined ? { ExclusiveStartKey: suppressionKey(after) } : {}),
      }),
    );
    const items = (result.Items ?? []).map(toSuppression);
    const last = result.LastEvaluatedKey?.sk;
    return { items, ...(isSuppressionSortKey(last) ? { nextCursor: encodeCursor(last) } : {}) };
  }

  async reinstate(phone: string, options: { expectedAt?: string } = {}): Promise<Suppression | undefined> {
    try {
      const { Attributes } = await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: suppressionKey(phone),
          ...(options.expectedAt !== undefined
            ? { ConditionExpression: '#at = :at', ExpressionAttributeNames: { '#at': 'at' }, ExpressionAttributeValues: { ':at': options.expectedAt } }
            : {}),
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Attributes === undefined ? undefined : toSuppression(Attributes);
    } catch (error) {
      if (isConditionalFailure(error)) return undefined;
      throw error;
    }
  }

  // ---- Reinstatements the daily copy of SNS's list honours -----------------------------------------

  async rememberReinstatement(reinstatement: Reinstatement): Promise<void> {
    checkPhone(reinstatement.phone);
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...reinstatementKey(reinstatement.phone), entity: 'reinstatement', at: reinstatement.at },
        // Two reinstatements of one number: the later one stands, whichever write lands last.
        ConditionExpression: 'attribute_not_exists(pk) OR #at < :at',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: { ':at': reinstatement.at },
      }),
    ).catch((error: unknown) => {
      if (!isConditionalFailure(error)) throw error;
    });
  }

  async reinstatements(): Promise<Reinstatement[]> {
    const all: Reinstatement[] = [];
    let start: Item | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({ TableName: this.tableName, ...accessPatterns.reinstatements(), ConsistentRead: true, ...(start !== undefined ? { ExclusiveStartKey: start } : {}) }),
      );
      for (const item of page.Items ?? []) all.push({ phone: item.sk as string, at: item.at as string });
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return all;
  }

  async forgetReinstatement(reinstatement: Reinstatement): Promise<void> {
    await this.doc.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: reinstatementKey(reinstatement.phone),
        // A reinstatement made after the daily copy read the list is a new one: it stays.
        ConditionExpression: '#at = :at',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: { ':at': reinstatement.at },
      }),
    ).catch((error: unknown) => {
      if (!isConditionalFailure(error)) throw error;
    });
  }

  // ---- The opt-out confirmation: the delivery ledger's claim protocol (item-claims.ts) ------------

  claimConfirmation(suppression: Suppression, token: string, leaseUntilMs: number, nowMs: number): Promise<ClaimOutcome> {
    return this.confirmations.claim(confirmationKey(suppression), token, leaseUntilMs, nowMs);
  }

  async recordConfirmationSent(suppression: Suppression, token: string, sent: { messageId: string; sentAt: string; body: string; segments: number }): Promise<void> {
    await this.confirmations.recordSent(confirmationKey(suppression), token, { ...sent, to: suppression.phone }, () => describe(suppression));
  }

  async recordConfirmationFailed(suppression: Suppression, token: string, reason: string, failedAt: string): Promise<void> {
    await this.confirmations.recordFailed(confirmationKey(suppression), token, reason, failedAt, () => describe(suppression));
  }

  async releaseConfirmation(suppression: Suppression, token: string): Promise<void> {
    await this.confirmations.release(confirmationKey(suppression), token);
  }
}

function confirmationKey(suppression: Suppression) {
  return optOutConfirmationKey(suppression.phone, suppression.at);
}

function describe(suppression: Suppression): string {
  return `opt-out confirmation to ${maskPhone(suppression.phone)}`;
}

/** A key built from anything but E.164 would be a second entry for the same number that no send ever reads. */
function checkPhone(phone: string): void {
  if (!isSuppressionSortKey(phone)) throw new RangeError(`suppression list: ${maskPhone(phone)} is not an E.164 number (normalise it first)`);
}

function toSuppression(item: Item): Suppression {
  return {
    phone: item.sk as string,
    source: item.source as SuppressionSource,
    at: item.at as string,
    ...(typeof item.detail === 'string' ? { detail: item.detail } : {}),
  };
}

/** Opaque to callers (and sealed by a route that hands it out): the phone to continue after. */
function encodeCursor(phone: string): string {
  return Buffer.from(JSON.stringify({ p: phone })).toString('base64url');
}

function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p?: unknown };
    if (isSuppressionSortKey(parsed.p)) return parsed.p;
  } catch {
    // fall through to the error below
  }
  throw new InvalidCursorError();
}
