import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { DELIVERY_STATUSES, type DeliveryReceipt, type DeliveryStatus, type LedgerStatus } from '../../../core/delivery-status.js';
import { InvalidCursorError } from '../../../core/errors.js';
import type { DeliveryHistory, DeliveryListing, DeliveryQuery, DeliveryReceipts, DeliveryRef, Page } from '../../../core/ports.js';
import { documentClient, isConditionalFailure } from './dynamodb-store.js';
import { accessPatterns, deliverySortBound, deliverySource, deliveryStatusPartition, isDeliverySortKey, messagePointerKey } from './keys.js';

type Item = Record<string, NativeAttributeValue>;

/** Items one listing request may read from one status partition before it answers with a cursor. */
const MAX_READ_PER_PARTITION = 2_000;
const PAGE_READ = 200;

/**
 * Delivery status for every kind of delivery item, by its item key: receipts found through the
 * message-id pointer, and the history read through the `deliveries` index (see keys.ts).
 */
export class DynamoDbDeliveries implements DeliveryReceipts, DeliveryHistory {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  async findByMessageId(messageId: string): Promise<DeliveryRef | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: messagePointerKey(messageId) }));
    if (Item === undefined || typeof Item.deliveryPk !== 'string' || typeof Item.deliverySk !== 'string') return undefined;
    return { pk: Item.deliveryPk, sk: Item.deliverySk };
  }

  async findAllByMessageId(messageId: string): Promise<DeliveryRef[]> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: messagePointerKey(messageId) }));
    if (Item === undefined || typeof Item.deliveryPk !== 'string' || typeof Item.deliverySk !== 'string') return [];
    // A merged reminder's pointer lists every member; any other names its one item.
    const merged = Array.isArray(Item.merged) ? (Item.merged as unknown[]).filter((m): m is DeliveryRef => typeof (m as DeliveryRef).pk === 'string' && typeof (m as DeliveryRef).sk === 'string') : [];
    return merged.length > 0 ? merged : [{ pk: Item.deliveryPk, sk: Item.deliverySk }];
  }

  async deliveryState(ref: DeliveryRef): Promise<{ status: LedgerStatus; messageId?: string | undefined } | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: ref.pk, sk: ref.sk },
        ConsistentRead: true,
        ProjectionExpression: '#status, messageId',
        ExpressionAttributeNames: { '#status': 'status' },
      }),
    );
    if (Item === undefined || typeof Item.status !== 'string') return undefined;
    return { status: Item.status as LedgerStatus, messageId: Item.messageId as string | undefined };
  }

  async applyReceipt(ref: DeliveryRef, receipt: DeliveryReceipt): Promise<boolean> {
    const failed = receipt.status === 'failed';
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: ref.pk, sk: ref.sk },
          // The index partition moves with the status; the sort key (when it was sent) stays.
          UpdateExpression: `SET #status = :status, dlvpk = :dlvpk, statusAt = :at${failed ? ', reason = :reason' : ''}`,
          ConditionExpression: '#status = :sent AND messageId = :messageId',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': receipt.status,
            ':dlvpk': deliveryStatusPartition(receipt.status),
            ':at': receipt.at,
            ':sent': 'sent',
            ':messageId': receipt.messageId,
            ...(failed ? { ':reason': receipt.reason ?? '投递失败 / delivery failed (no reason given)' } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Newest first across the asked statuses: each status partition is read downwards from the cursor,
   * filtered on the query, and the pages merged by sort key. The cursor is the sort key to continue
   * below, the same for every partition, so a page never repeats or skips an item that kept its status.
   */
  async listDeliveries(query: DeliveryQuery): Promise<Page<DeliveryListing>> {
    const cursor = decodeCursor(query.cursor);
    const since = query.since === undefined ? undefined : deliverySortBound(query.since);
    const reads = await Promise.all(
      query.statuses.map((status) => {
        const limit = query.sentBefore?.[status];
        const bounds = [cursor, limit === undefined ? undefined : deliverySortBound(limit)].filter((b): b is string => b !== undefined);
        const before = bounds.length === 0 ? undefined : bounds.reduce((a, b) => (a < b ? a : b));
        return this.readPartition(status, query, since, before);
      }),
    );
    // Every partition is read down to its `stoppedAt` at least; items below the highest such point wait for the next page.
    const stops = reads.map((r) => r.stoppedAt).filter((s): s is string => s !== undefined);
    const boundary = stops.length === 0 ? undefined : stops.reduce((a, b) => (a > b ? a : b));
    const merged = reads
      .flatMap((r) => r.items)
      .filter((item) => boundary === undefined || (item.dlvsk as string) >= boundary)
      .sort((a, b) => ((a.dlvsk as string) < (b.dlvsk as string) ? 1 : -1));
    const page = merged.slice(0, query.limit);
    let next: string | undefined;
    if (merged.length > query.limit) next = page[page.length - 1]?.dlvsk as string;
    else if (boundary !== undefined) next = boundary;
    return { items: page.map(toListing), ...(next !== undefined ? { nextCursor: encodeCursor(next) } : {}) };
  }

  private async readPartition(status: DeliveryStatus, query: DeliveryQuery, since: string | undefined, before: string | undefined): Promise<{ items: Item[]; stoppedAt?: string }> {
    if (since !== undefined && before !== undefined && since >= before) return { items: [] };
    const pattern = accessPatterns.deliveriesWithStatus(status, since, before);
    const { filter, names, values } = filters(query);
    const items: Item[] = [];
    let read = 0;
    let lastKey: Item | undefined;
    do {
      const result = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          ...pattern,
          ExpressionAttributeValues: { ...pattern.ExpressionAttributeValues, ...values },
          ...(filter !== undefined ? { FilterExpression: filter } : {}),
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          Limit: PAGE_READ,
          ExclusiveStartKey: lastKey,
        }),
      );
      read += result.ScannedCount ?? 0;
      for (const item of result.Items ?? []) if (item.dlvsk !== before) items.push(item);
      lastKey = result.LastEvaluatedKey;
    } while (lastKey !== undefined && items.length < query.limit + 1 && read < MAX_READ_PER_PARTITION);
    const stoppedAt = lastKey?.dlvsk as string | undefined;
    return { items, ...(stoppedAt !== undefined ? { stoppedAt } : {}) };
  }
}

function filters(query: DeliveryQuery): { filter?: string; names: Record<string, string>; values: Record<string, NativeAttributeValue> } {
  const parts: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, NativeAttributeValue> = {};
  if (query.type !== undefined) {
    parts.push('dlvType = :type');
    values[':type'] = query.type;
  } else if (query.types !== undefined) {
    // A bureau's scope: reminders of its types, and campaign messages (which have no type) of campaigns
    // whose every type it issues, marked with its authority when recorded.
    const ofTypes = `dlvType IN (${query.types.map((_, i) => `:t${i}`).join(', ')})`;
    parts.push(query.authority === undefined ? ofTypes : `(${ofTypes} OR dlvAuthority = :authority)`);
    query.types.forEach((code, i) => (values[`:t${i}`] = code));
    if (query.authority !== undefined) values[':authority'] = query.authority;
  }
  if (query.number !== undefined) {
    parts.push('dlvNumber = :number');
    values[':number'] = query.number;
  }
  if (query.phoneHash !== undefined) {
    parts.push('phoneHash = :phoneHash');
    values[':phoneHash'] = query.phoneHash;
  }
  if (query.finalOnly === true) {
    parts.push('#final = :final');
    names['#final'] = 'final';
    values[':final'] = true;
  }
  return parts.length === 0 ? { names, values } : { filter: parts.join(' AND '), names, values };
}

function toListing(item: Item): DeliveryListing {
  const status = DELIVERY_STATUSES.includes(item.status as DeliveryStatus) ? (item.status as DeliveryStatus) : 'sent';
  return {
    source: deliverySource(item.pk as string),
    type: item.dlvType as string | undefined,
    number: item.dlvNumber as string | undefined,
    kind: (item.dlvKind as string | undefined) ?? '',
    to: item.sentTo as string | undefined,
    status,
    reason: item.reason as string | undefined,
    body: item.body as string | undefined,
    messageId: item.messageId as string | undefined,
    sentAt: (item.sentAt as string | undefined) ?? (item.dlvsk as string).slice(0, 24),
    statusAt: item.statusAt as string | undefined,
    final: item.final === true,
  };
}

/** Opaque to callers (and sealed by the route): the sort key to continue below. */
function encodeCursor(sortKey: string): string {
  return Buffer.from(JSON.stringify({ s: sortKey })).toString('base64url');
}

function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { s?: unknown };
    if (isDeliverySortKey(parsed.s)) return parsed.s;
  } catch {
    // fall through to the error below
  }
  throw new InvalidCursorError();
}
