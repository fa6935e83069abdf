import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { isConditionalFailure } from './conditions.js';
import { ItemClaims, type SentRecord } from './item-claims.js';
import {
  ExecuteStatementCommand,
  type ExecuteStatementCommandOutput,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type NativeAttributeValue,
} from '@aws-sdk/lib-dynamodb';
import type { DateTime } from 'luxon';
import { InvalidCursorError } from '../../../core/errors.js';
import type { Certificate, Plan, PlannedStage } from '../../../core/model.js';
import type {
  CertificateKey,
  CertificateQuery,
  CertificateStore,
  ClaimOutcome,
  DeliveryId,
  DeliveryLedger,
  DeliveryRecord,
  Page,
  ReplanSource,
  StoredCertificate,
  TypeCertificateSource,
} from '../../../core/ports.js';
import {
  accessPatterns,
  allDueShards,
  certificateKey,
  deliveryKey,
  dueShardOf,
  isCertificatePageStart,
  metaKey,
  parseCertificatePk,
  townshipIndexKeys,
  townshipTypeIndexKeys,
  typeIndexKeys,
} from './keys.js';

type Item = Record<string, NativeAttributeValue>;

const BATCH_WRITE_SIZE = 25;
/** PartiQL allows at most 50 values in an IN list on the partition key. */
const BATCH_GET_SIZE = 50;
const MAX_BATCH_ATTEMPTS = 12;
/** Batch requests in flight at once, for reads and writes alike. */
const BATCH_CONCURRENCY = 4;

export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
}

export function certificateId(key: CertificateKey): string {
  return `${key.type}#${key.number}`;
}

/** The earliest pending stage drives the sparse due index; no pending stage, no index entry. */
function nextAlarm(plan: Plan): PlannedStage | undefined {
  let next: PlannedStage | undefined;
  for (const stage of plan.stages) {
    if (stage.status !== 'pending') continue;
    if (next === undefined || stage.sendAt < next.sendAt || Date.parse(stage.sendAt) < Date.parse(next.sendAt)) next = stage;
  }
  return next;
}

function alarmAttributes(key: CertificateKey, plan: Plan): { dueShard: string; nextAlarmAt: string; nextStage: string } | undefined {
  const next = nextAlarm(plan);
  if (next === undefined) return undefined;
  return { dueShard: dueShardOf(key), nextAlarmAt: new Date(next.sendAt).toISOString(), nextStage: next.stage };
}

export function toItem(stored: StoredCertificate): Item {
  const { certificate: c, plan } = stored;
  const key = { type: c.type, number: c.number };
  const { pk, sk } = certificateKey(key);
  const alarm = alarmAttributes(key, plan);
  const { gsi1pk, gsi1sk } = townshipIndexKeys(c.township, c.expiresOn, key);
  const { gsi2pk, gsi2sk } = typeIndexKeys(c.expiresOn, key);
  const { gsi3pk, gsi3sk } = townshipTypeIndexKeys(c.township, c.expiresOn, key);
  // Named properties, not spreads: spreading four objects into this literal made V8 build every
  // item through its slow generic path, 25–50 µs per certificate instead of about 2 on a bulk
  // import. An absent alarm is undefined, which the marshaller drops (removeUndefinedValues).
  return {
    pk,
    sk,
    entity: 'certificate',
    type: c.type,
    number: c.number,
    holderName: c.holder.name,
    holderId: c.holder.id,
    phone: c.phone,
    township: c.township,
    issuedOn: c.issuedOn,
    // Absent without an expiry, so the browsing scan's `expiresOn < :before` never matches such a certificate.
    expiresOn: c.expiresOn ?? undefined,
    renewalDeadline: plan.renewalDeadline ?? undefined,
    windowOpens: plan.windowOpens ?? undefined,
    calendarProvisional: plan.calendarProvisional,
    stages: plan.stages,
    dueShard: alarm?.dueShard,
    nextAlarmAt: alarm?.nextAlarmAt,
    nextStage: alarm?.nextStage,
    gsi1pk,
    gsi1sk,
    gsi2pk,
    gsi2sk,
    gsi3pk,
    gsi3sk,
    contentHash: stored.contentHash,
    version: stored.version,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
  };
}

export function fromItem(item: Item): StoredCertificate {
  const certificate: Certificate = {
    type: item.type as string,
    number: item.number as string,
    holder: item.holderId === undefined ? { name: item.holderName as string } : { name: item.holderName as string, id: item.holderId as string },
    phone: item.phone as string,
    township: item.township as string,
    issuedOn: item.issuedOn as string,
    expiresOn: (item.expiresOn as string | undefined) ?? null,
  };
  return {
    certificate,
    plan: {
      renewalDeadline: (item.renewalDeadline as string | undefined) ?? null,
      windowOpens: (item.windowOpens as string | undefined) ?? null,
      calendarProvisional: item.calendarProvisional === true,
      stages: (item.stages ?? []) as PlannedStage[],
    },
    contentHash: item.contentHash as string,
    version: item.version as number,
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
  };
}

/** The UpdateItem that replaces a certificate's plan if it is still at `expectedVersion`. */
function planUpdate(tableName: string, key: CertificateKey, expectedVersion: number, plan: Plan, updatedAt: string) {
  const alarm = alarmAttributes(key, plan);
  // The whole plan: a calendar load moves the deadline and clears `calendarProvisional` as well as the stages.
  const set = ['stages = :stages', 'renewalDeadline = :deadline', 'calendarProvisional = :provisional', 'version = :next', 'updatedAt = :updatedAt'];
  const values: Record<string, NativeAttributeValue> = {
    ':stages': plan.stages,
    ':deadline': plan.renewalDeadline,
    ':provisional': plan.calendarProvisional,
    ':next': expectedVersion + 1,
    ':expected': expectedVersion,
    ':updatedAt': updatedAt,
  };
  const removed: string[] = [];
  if (plan.windowOpens === null) removed.push('windowOpens');
  else {
    set.push('windowOpens = :opens');
    values[':opens'] = plan.windowOpens;
  }
  if (alarm === undefined) {
    removed.push('dueShard', 'nextAlarmAt', 'nextStage');
  } else {
    set.push('dueShard = :shard', 'nextAlarmAt = :at', 'nextStage = :stage');
    Object.assign(values, { ':shard': alarm.dueShard, ':at': alarm.nextAlarmAt, ':stage': alarm.nextStage });
  }
  return {
    TableName: tableName,
    Key: certificateKey(key),
    UpdateExpression: `SET ${set.join(', ')}${removed.length > 0 ? ` REMOVE ${removed.join(', ')}` : ''}`,
    ConditionExpression: 'version = :expected',
    ExpressionAttributeValues: values,
  };
}


function encodeCursor(lastKey: Item | undefined): string | undefined {
  return lastKey === undefined ? undefined : Buffer.from(JSON.stringify(lastKey)).toString('base64url');
}

/** The start key inside a cursor, if it is one this listing could have handed out (see isCertificatePageStart). */
function decodeCursor(cursor: string | undefined, index: string | undefined, partition: string | undefined): Item | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (!isCertificatePageStart(parsed, index, partition)) throw new InvalidCursorError();
  return parsed as Item;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function backoff(attempt: number): number {
  return Math.min(2000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2);
}

/** Runs `work` over `chunks` with at most `limit` in flight; the first failure rejects. */
async function inParallel<T>(chunks: T[], limit: number, work: (chunk: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++];
      if (chunk !== undefined) await work(chunk);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, chunks.length) }, worker));
}

export { isConditionalFailure };

/**
 * The one store: certificates and their plans, and the delivery ledger, in one DynamoDB table.
 * Local mode and the tests run it against DynamoDB Local.
 */
export class DynamoDbStore implements CertificateStore, DeliveryLedger, ReplanSource, TypeCertificateSource {
  private readonly doc: DynamoDBDocumentClient;
  private readonly deliveries: ItemClaims;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = documentClient(client);
    this.deliveries = new ItemClaims(this.doc, tableName, 'delivery');
  }

  async getCertificate(key: CertificateKey): Promise<StoredCertificate | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: certificateKey(key), ConsistentRead: true }));
    return Item === undefined ? undefined : fromItem(Item);
  }

  async getCertificates(keys: CertificateKey[]): Promise<Map<string, StoredCertificate>> {
    const found = new Map<string, StoredCertificate>();
    const unique = [...new Map(keys.map((k) => [certificateId(k), k])).values()];
    const chunks: CertificateKey[][] = [];
    for (let i = 0; i < unique.length; i += BATCH_GET_SIZE) chunks.push(unique.slice(i, i + BATCH_GET_SIZE));
    // Read in parallel like the writes: one read at a time left an import page waiting on several
    // round trips before its first write (a fifth of a bulk import's time on DynamoDB Local).
    await inParallel(chunks, BATCH_CONCURRENCY, (chunk) => this.readChunk(chunk, found));
    return found;
  }

  /**
   * One PartiQL SELECT with the keys in an IN list: the same point reads as BatchGetItem (no scan: the
   * partition key is given), at well under half of BatchGetItem's cost per key on DynamoDB Local, which
   * matters because every import page is read before it is written.
   */
  private async readChunk(chunk: CertificateKey[], found: Map<string, StoredCertificate>): Promise<void> {
    const statement = accessPatterns.certificatesByKeys(this.tableName, chunk.map((key) => certificateKey(key).pk));
    let NextToken: string | undefined;
    do {
      const result: ExecuteStatementCommandOutput = await this.doc.send(new ExecuteStatementCommand({ ...statement, ConsistentRead: true, NextToken }));
      for (const item of result.Items ?? []) {
        const stored = fromItem(item);
        found.set(certificateId(stored.certificate), stored);
      }
      NextToken = result.NextToken;
    } while (NextToken !== undefined);
  }

  async putCertificates(items: StoredCertificate[]): Promise<void> {
    await this.batchWrite(items.map((stored) => toItem(stored)));
  }

  /** BatchWriteItem in 25s, retrying unprocessed items with backoff; four batches in flight. */
  async batchWrite(items: Item[]): Promise<void> {
    const chunks: Item[][] = [];
    for (let i = 0; i < items.length; i += BATCH_WRITE_SIZE) chunks.push(items.slice(i, i + BATCH_WRITE_SIZE));
    await inParallel(chunks, BATCH_CONCURRENCY, (chunk) => this.writeChunk(chunk));
  }

  private async writeChunk(chunk: Item[]): Promise<void> {
    let requests = chunk.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt += 1) {
      if (attempt >= MAX_BATCH_ATTEMPTS) throw new Error('DynamoDB kept returning unprocessed items; try again later');
      if (attempt > 0) await sleep(backoff(attempt));
      const result = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }));
      requests = (result.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
    }
  }

  async listCertificates(query: CertificateQuery): Promise<Page<StoredCertificate>> {
    const limit = query.limit;
    const filters: string[] = [];
    const values: Record<string, NativeAttributeValue> = {};
    let base: { IndexName?: string; KeyConditionExpression: string; ExpressionAttributeValues: Record<string, string> } | undefined;
    const names: Record<string, string> = {};
    const scope = query.types;
    const onlyScopedType = query.type === undefined && scope !== undefined && scope.length === 1 ? scope[0] : undefined;
    if (query.township !== undefined) {
      base = accessPatterns.certificatesInTownship(query.township, query.expiringBefore);
      if (query.type !== undefined) {
        filters.push('#type = :type');
        values[':type'] = query.type;
        names['#type'] = 'type';
      } else if (scope !== undefined) {
        filters.push(`#type IN (${scope.map((_, i) => `:t${i}`).join(', ')})`);
        scope.forEach((code, i) => (values[`:t${i}`] = code));
        names['#type'] = 'type';
      }
    } else if (query.type !== undefined || onlyScopedType !== undefined) {
      base = accessPatterns.certificatesOfType((query.type ?? onlyScopedType) as string, query.expiringBefore);
    }
    const items: StoredCertificate[] = [];
    let lastKey: Item | undefined = decodeCursor(query.cursor, base?.IndexName, base?.ExpressionAttributeValues[':pk']);
    // A filter can leave a page short; keep reading until the page is full or the data ends.
    do {
      let result;
      if (base !== undefined) {
        result = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            ...base,
            ExpressionAttributeValues: { ...base.ExpressionAttributeValues, ...values },
            ...(filters.length ? { FilterExpression: filters.join(' AND '), ExpressionAttributeNames: names } : {}),
            Limit: limit - items.length,
            ExclusiveStartKey: lastKey,
          }),
        );
      } else {
        // No township or type: an operator browsing everything. Not a hot path; paged and bounded by `limit`.
        const scanFilters = ['entity = :entity'];
        const scanValues: Record<string, NativeAttributeValue> = { ':entity': 'certificate' };
        if (query.expiringBefore !== undefined) {
          scanFilters.push('expiresOn < :before');
          scanValues[':before'] = query.expiringBefore;
        }
        if (scope !== undefined) {
          scanFilters.push(`#type IN (${scope.map((_, i) => `:t${i}`).join(', ')})`);
          scope.forEach((code, i) => (scanValues[`:t${i}`] = code));
        }
        result = await this.doc.send(
          new ScanCommand({
            TableName: this.tableName,
            FilterExpression: scanFilters.join(' AND '),
            ExpressionAttributeValues: scanValues,
            ...(scope !== undefined ? { ExpressionAttributeNames: { '#type': 'type' } } : {}),
            Limit: Math.max(limit - items.length, 25),
            ExclusiveStartKey: lastKey,
          }),
        );
      }
      let truncated = false;
      for (const item of result.Items ?? []) {
        if (items.length < limit) items.push(fromItem(item));
        else truncated = true;
      }
      lastKey = result.LastEvaluatedKey;
      if (items.length >= limit && (lastKey !== undefined || truncated)) {
        const last = items[items.length - 1];
        if (last !== undefined) lastKey = this.cursorKeyFor(last, base?.IndexName);
      }
    } while (items.length < limit && lastKey !== undefined);
    return { items, ...(lastKey !== undefined ? { nextCursor: encodeCursor(lastKey) } : {}) };
  }

  /** The exclusive start key for "after this item" in the index being read. */
  private cursorKeyFor(stored: StoredCertificate, indexName: string | undefined): Item {
    const item = toItem(stored);
    const key: Item = { pk: item.pk, sk: item.sk };
    if (indexName === 'byTownship') Object.assign(key, { gsi1pk: item.gsi1pk, gsi1sk: item.gsi1sk });
    if (indexName === 'byType') Object.assign(key, { gsi2pk: item.gsi2pk, gsi2sk: item.gsi2sk });
    return key;
  }

  async *dueCertificates(until: DateTime): AsyncIterable<CertificateKey> {
    const untilUtc = until.toUTC().toISO() ?? '';
    for (const shard of allDueShards()) {
      let ExclusiveStartKey: Item | undefined;
      do {
        const result = await this.doc.send(
          new QueryCommand({ TableName: this.tableName, ...accessPatterns.dueAlarms(shard, untilUtc), ExclusiveStartKey, Limit: 500 }),
        );
        for (const item of result.Items ?? []) yield parseCertificatePk(item.pk as string);
        ExclusiveStartKey = result.LastEvaluatedKey;
      } while (ExclusiveStartKey !== undefined);
    }
  }

  async pendingCertificatesExpiring(type: string, from: string, to: string, cursor?: string): Promise<Page<StoredCertificate>> {
    const pattern = accessPatterns.pendingCertificatesOfTypeExpiring(type, from, to);
    const result = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        ...pattern,
        ExclusiveStartKey: decodeCursor(cursor, pattern.IndexName, pattern.ExpressionAttributeValues[':pk']),
        Limit: 200,
      }),
    );
    const next = encodeCursor(result.LastEvaluatedKey);
    return { items: (result.Items ?? []).map(fromItem), ...(next !== undefined ? { nextCursor: next } : {}) };
  }

  async certificatesOfTypeExpiringFrom(type: string, from: string, cursor?: string): Promise<Page<StoredCertificate>> {
    const pattern = accessPatterns.certificatesOfTypeExpiringFrom(type, from);
    const result = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        ...pattern,
        ExclusiveStartKey: decodeCursor(cursor, pattern.IndexName, pattern.ExpressionAttributeValues[':pk']),
        Limit: 500,
      }),
    );
    const next = encodeCursor(result.LastEvaluatedKey);
    return { items: (result.Items ?? []).map(fromItem), ...(next !== undefined ? { nextCursor: next } : {}) };
  }

  async countCertificatesOfTypeExpiringFrom(type: string, from: string): Promise<number> {
    let count = 0;
    let ExclusiveStartKey: Item | undefined;
    do {
      const result = await this.doc.send(
        new QueryCommand({ TableName: this.tableName, ...accessPatterns.certificatesOfTypeExpiringFrom(type, from), Select: 'COUNT', ExclusiveStartKey }),
      );
      count += result.Count ?? 0;
      ExclusiveStartKey = result.LastEvaluatedKey;
    } while (ExclusiveStartKey !== undefined);
    return count;
  }

  async updatePlan(key: CertificateKey, expectedVersion: number, plan: Plan, updatedAt: string): Promise<boolean> {
    try {
      await this.doc.send(new UpdateCommand(planUpdate(this.tableName, key, expectedVersion, plan, updatedAt)));
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Several plans in one TransactWriteItems call, each still conditional on its certificate's version:
   * a re-plan of a whole type pays one round trip per 25 certificates instead of one per certificate.
   * When any condition fails, nothing of the call was written and each plan is tried on its own, so a
   * certificate that a scan or a renewal changed meanwhile does not hold back the others. (PartiQL's
   * BatchExecuteStatement would report conditions one by one; on DynamoDB Local it was no faster, and a
   * 200,000-certificate run with it fell to 42 plans/s.)
   */
  async updatePlans(updates: ReadonlyArray<{ key: CertificateKey; expectedVersion: number; plan: Plan }>, updatedAt: string): Promise<boolean[]> {
    if (updates.length <= 1) return Promise.all(updates.map((u) => this.updatePlan(u.key, u.expectedVersion, u.plan, updatedAt)));
    try {
      await this.doc.send(
        new TransactWriteCommand({ TransactItems: updates.map((u) => ({ Update: planUpdate(this.tableName, u.key, u.expectedVersion, u.plan, updatedAt) })) }),
      );
      return updates.map(() => true);
    } catch (error) {
      // A failed condition, or a conflict with another writer's transaction on one of the items: each on its own.
      const reasons = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
      if (!reasons.some((reason) => reason.Code === 'ConditionalCheckFailed' || reason.Code === 'TransactionConflict')) throw error;
      return Promise.all(updates.map((u) => this.updatePlan(u.key, u.expectedVersion, u.plan, updatedAt)));
    }
  }

  // ---- Delivery ledger: one claim implementation for every kind of send (see item-claims.ts) ----

  async claim(id: DeliveryId, token: string, leaseUntilMs: number, nowMs: number): Promise<ClaimOutcome> {
    return this.deliveries.claim(deliveryKey(id.key, id.expiresOn, id.stage), token, leaseUntilMs, nowMs);
  }

  async recordSent(id: DeliveryId, token: string, sent: SentRecord): Promise<void> {
    await this.deliveries.recordSent(deliveryKey(id.key, id.expiresOn, id.stage), token, sent, () => describeDelivery(id));
  }

  async recordFailed(id: DeliveryId, token: string, reason: string, failedAt: string): Promise<void> {
    await this.deliveries.recordFailed(deliveryKey(id.key, id.expiresOn, id.stage), token, reason, failedAt, () => describeDelivery(id));
  }

  async release(id: DeliveryId, token: string): Promise<void> {
    await this.deliveries.release(deliveryKey(id.key, id.expiresOn, id.stage), token);
  }

  async get(id: DeliveryId): Promise<DeliveryRecord | undefined> {
    return this.deliveries.get(deliveryKey(id.key, id.expiresOn, id.stage));
  }

  // ---- Meta ------------------------------------------------------------------------------

  async getMeta(name: string): Promise<Item | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: metaKey(name), ConsistentRead: true }));
    return Item;
  }

  async putMeta(name: string, value: Item): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...value, ...metaKey(name), entity: 'meta' } }));
  }
}

function describeDelivery(id: DeliveryId): string {
  return `${id.key.type}/${id.key.number} ${id.expiresOn} ${id.stage}`;
}

export { LostClaimError } from './item-claims.js';
