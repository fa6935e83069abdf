import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { isConditionalFailure } from './conditions.js';
import { deliveryListingUpdate, putMessagePointer } from './delivery-listing.js';
import { ItemClaims, SEND_RECORD_RETENTION_SECONDS, type SentRecord } from './item-claims.js';
import {
  ExecuteStatementCommand,
  type ExecuteStatementCommandOutput,
  BatchWriteCommand,
  DeleteCommand,
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
import type { Certificate, IsoDate, Plan, PlannedStage, StageName } from '../../../core/model.js';
import type { PurgeProgress } from '../../../core/retention.js';
import type { Revocation } from '../../../core/revocation.js';
import { SUPPRESSED_REASON } from '../../../core/suppression.js';
import type {
  CertificateKey,
  CertificateQuery,
  CertificateRevoker,
  CertificateStore,
  ClaimOutcome,
  DeliveryFacts,
  DeliveryId,
  DeliveryLedger,
  DeliveryRecord,
  DuePhoneSource,
  HolderIdCipher,
  Page,
  PlanRow,
  ReplanSource,
  RetentionStore,
  RevokeOutcome,
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
  TTL_ATTRIBUTE,
} from './keys.js';

type Item = Record<string, NativeAttributeValue>;

/** The attribute a rule re-plan stamps on a certificate it put (its mark and the version it put); see dynamodb-replan-marks.ts. */
export const REPLAN_STAMP = 'replannedBy';

const BATCH_WRITE_SIZE = 25;
/** TransactWriteItems takes at most 100 actions. */
const TRANSACT_WRITE_SIZE = 100;
/** PartiQL allows at most 50 values in an IN list on the partition key. */
const BATCH_GET_SIZE = 50;
const MAX_BATCH_ATTEMPTS = 12;
/** Batch requests in flight at once, for reads and writes alike. */
const BATCH_CONCURRENCY = 4;
/** The meta item holding the retention purge's progress. */
const PURGE_META = 'PURGE';

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

/** `sealedHolderId`: the holder ID as the cipher sealed it; without one, the ID is stored as given. */
export function toItem(stored: StoredCertificate, sealedHolderId?: string): Item {
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
    holderId: sealedHolderId ?? c.holder.id,
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
    revoked: stored.revoked,
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
    plan: planFromItem(item),
    contentHash: item.contentHash as string,
    version: item.version as number,
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
    ...(item.revoked !== undefined ? { revoked: item.revoked as Revocation } : {}),
  };
}

function planFromItem(item: Item): Plan {
  return {
    renewalDeadline: (item.renewalDeadline as string | undefined) ?? null,
    windowOpens: (item.windowOpens as string | undefined) ?? null,
    calendarProvisional: item.calendarProvisional === true,
    stages: (item.stages ?? []) as PlannedStage[],
  };
}

/**
 * The attributes a PlanRow is read from. A re-plan reads every certificate of a type; without the
 * holder, phone, township and index keys, DynamoDB Local served 20,000 in 2.3 s instead of 5.1 s.
 */
const PLAN_ROW_ATTRIBUTES = ['pk', 'expiresOn', 'renewalDeadline', 'windowOpens', 'calendarProvisional', 'stages', 'version'] as const;

function planRowFromItem(item: Item): PlanRow {
  return { key: parseCertificatePk(item.pk as string), expiresOn: (item.expiresOn as string | undefined) ?? null, plan: planFromItem(item), version: item.version as number };
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

/** A reminder's delivery on the deliveries index. */
function deliveryFacts(id: DeliveryId, status: 'sent' | 'failed' | 'deferred' | 'suppressed', at: string, facts: { phoneHash?: string | undefined; final: boolean }) {
  return deliveryListingUpdate(deliveryKey(id.key, id.expiresOn, id.stage), status, at, {
    type: id.key.type,
    number: id.key.number,
    kind: id.stage,
    phoneHash: facts.phoneHash,
    final: facts.final,
  });
}

export { isConditionalFailure, deliveryListingUpdate, putMessagePointer };

/**
 * The one store: certificates and their plans, and the delivery ledger, in one DynamoDB table.
 * Local mode and the tests run it against DynamoDB Local.
 */
export class DynamoDbStore implements CertificateStore, DeliveryLedger, DuePhoneSource, ReplanSource, TypeCertificateSource, CertificateRevoker, RetentionStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly deliveries: ItemClaims;

  private readonly holderIds: HolderIdCipher | undefined;

  /** `holderIds` seals holder IDs on every write and opens them on every read; without it they are stored as given. */
  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
    options: { holderIds?: HolderIdCipher } = {},
  ) {
    this.doc = documentClient(client);
    this.deliveries = new ItemClaims(this.doc, tableName, 'delivery');
    this.holderIds = options.holderIds;
  }

  private async sealHolderId(stored: StoredCertificate): Promise<string | undefined> {
    const id = stored.certificate.holder.id;
    return id === undefined || this.holderIds === undefined ? undefined : this.holderIds.seal(id);
  }

  /** The stored certificate with its holder ID opened (a bare ID stored before encryption is read as it is). */
  private async decode(item: Item): Promise<StoredCertificate> {
    const stored = fromItem(item);
    const id = stored.certificate.holder.id;
    if (id === undefined || this.holderIds === undefined) return stored;
    return { ...stored, certificate: { ...stored.certificate, holder: { ...stored.certificate.holder, id: await this.holderIds.open(id) } } };
  }

  async getCertificate(key: CertificateKey): Promise<StoredCertificate | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: certificateKey(key), ConsistentRead: true }));
    return Item === undefined ? undefined : this.decode(Item);
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
        const stored = await this.decode(item);
        found.set(certificateId(stored.certificate), stored);
      }
      NextToken = result.NextToken;
    } while (NextToken !== undefined);
  }

  async putCertificates(items: StoredCertificate[]): Promise<void> {
    await this.batchWrite(await Promise.all(items.map(async (stored) => toItem(stored, await this.sealHolderId(stored)))));
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
        if (items.length < limit) items.push(await this.decode(item));
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
    return { items: await Promise.all((result.Items ?? []).map((item) => this.decode(item))), ...(next !== undefined ? { nextCursor: next } : {}) };
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
    return { items: await Promise.all((result.Items ?? []).map((item) => this.decode(item))), ...(next !== undefined ? { nextCursor: next } : {}) };
  }

  async planRowsOfTypeExpiringFrom(type: string, from: string, cursor?: string): Promise<Page<PlanRow>> {
    const pattern = accessPatterns.certificatesOfTypeExpiringFrom(type, from);
    const result = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        ...pattern,
        // Aliased, because several plain words (type, number, version…) are DynamoDB reserved words.
        ProjectionExpression: PLAN_ROW_ATTRIBUTES.map((_, i) => `#p${i}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(PLAN_ROW_ATTRIBUTES.map((name, i) => [`#p${i}`, name])),
        ExclusiveStartKey: decodeCursor(cursor, pattern.IndexName, pattern.ExpressionAttributeValues[':pk']),
        Limit: 500,
      }),
    );
    const next = encodeCursor(result.LastEvaluatedKey);
    return { items: (result.Items ?? []).map(planRowFromItem), ...(next !== undefined ? { nextCursor: next } : {}) };
  }

  /**
   * Counted from pages of keys, not with `Select: 'COUNT'`: on DynamoDB Local a COUNT query's cost per
   * certificate grew with the type's size (0.12 ms at 5,000, 0.64 ms at 20,000 of its CPU), which made
   * a rule change's re-plan slower per certificate the larger the type; key pages of 1,000 cost 0.10 ms
   * at either size.
   */
  async countCertificatesOfTypeExpiringFrom(type: string, from: string): Promise<number> {
    let count = 0;
    let ExclusiveStartKey: Item | undefined;
    do {
      const result = await this.doc.send(
        new QueryCommand({ TableName: this.tableName, ...accessPatterns.certificatesOfTypeExpiringFrom(type, from), ProjectionExpression: 'pk', Limit: 1000, ExclusiveStartKey }),
      );
      count += result.Items?.length ?? 0;
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
   * Plans for many certificates, each still conditional on its certificate's version, in
   * TransactWriteItems calls of up to 100 (DynamoDB's limit), four in flight: a re-plan of a whole type
   * pays one round trip per 100 certificates instead of one per certificate. On DynamoDB Local, 100 per
   * call wrote 730 plans/s against 427/s with 25 per call and 311–560/s with one UpdateItem each
   * (10,000 certificates, 4–64 in flight). When any condition of a call fails, nothing of it was
   * written and each of its plans is tried on its own, so a certificate that a scan or a renewal
   * changed meanwhile does not hold back the others. (PartiQL's BatchExecuteStatement would report
   * conditions one by one; on DynamoDB Local it was no faster, and a 200,000-certificate run with it
   * fell to 42 plans/s.)
   */
  async updatePlans(updates: ReadonlyArray<{ key: CertificateKey; expectedVersion: number; plan: Plan }>, updatedAt: string): Promise<boolean[]> {
    const written: boolean[] = [];
    const chunks: number[] = [];
    for (let i = 0; i < updates.length; i += TRANSACT_WRITE_SIZE) chunks.push(i);
    await inParallel(chunks, BATCH_CONCURRENCY, async (from) => {
      const chunk = updates.slice(from, from + TRANSACT_WRITE_SIZE);
      (await this.updatePlansAtOnce(chunk, updatedAt)).forEach((ok, i) => (written[from + i] = ok));
    });
    return written;
  }

  private async updatePlansAtOnce(updates: ReadonlyArray<{ key: CertificateKey; expectedVersion: number; plan: Plan }>, updatedAt: string): Promise<boolean[]> {
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

  // ---- Revocation ------------------------------------------------------------------------

  /**
   * One TransactWriteItems call: the certificate's new plan and mark (conditional on its version) and a
   * `cancelled` delivery record per pending stage (conditional on no record existing, or on one the daily
   * cap deferred). The claim of a scan is a conditional write on the very same delivery item, so either the
   * scan claimed first (its send may be under way; the caller revokes again without that stage) or the
   * cancellation is there and the claim fails: no message goes out after the revocation is written.
   * A deferred record holds no lease, so nothing is under way: it is replaced whole, which also takes it off
   * the `deferred` listing (it would otherwise stay there, never claimed, until its TTL).
   */
  async revokeCertificate(
    key: CertificateKey,
    expectedVersion: number,
    change: { plan: Plan; revoked: Revocation; updatedAt: string },
    cancel: { expiresOn: IsoDate; stages: StageName[] } | undefined,
  ): Promise<RevokeOutcome> {
    const update = planUpdate(this.tableName, key, expectedVersion, change.plan, change.updatedAt);
    update.UpdateExpression = update.UpdateExpression.replace(/^SET /, 'SET revoked = :revoked, ');
    // The content is no longer what a rule re-plan put: a repair must not take this record for its overwrite.
    update.UpdateExpression += update.UpdateExpression.includes(' REMOVE ') ? `, ${REPLAN_STAMP}` : ` REMOVE ${REPLAN_STAMP}`;
    update.ExpressionAttributeValues[':revoked'] = change.revoked;
    const stages = cancel?.stages ?? [];
    const ttl = Math.floor(Date.parse(change.revoked.at) / 1000) + SEND_RECORD_RETENTION_SECONDS;
    const markers = stages.map((stage) => ({
      Put: {
        TableName: this.tableName,
        Item: {
          ...deliveryKey(key, cancel?.expiresOn ?? '', stage),
          entity: 'delivery',
          status: 'cancelled',
          reason: `revoked: ${change.revoked.reason}`,
          cancelledAt: change.revoked.at,
          attempts: 0,
          [TTL_ATTRIBUTE]: ttl,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR #status = :deferred',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':deferred': 'deferred' },
      },
    }));
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: [{ Update: update }, ...markers] }));
      return { written: true };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return { written: false, conflict: 'version' };
      const claimed = stages.filter((_, i) => reasons[i + 1]?.Code === 'ConditionalCheckFailed');
      if (claimed.length > 0) return { written: false, conflict: 'claimed', claimed };
      // A conflict with another writer's transaction on one of the items: read and try again.
      if (reasons.some((r) => r.Code === 'TransactionConflict')) return { written: false, conflict: 'version' };
      throw error;
    }
  }

  // ---- Delivery ledger: one claim implementation for every kind of send (see item-claims.ts) ----

  async claim(id: DeliveryId, token: string, leaseUntilMs: number, nowMs: number, today?: IsoDate): Promise<ClaimOutcome> {
    return this.deliveries.claim(deliveryKey(id.key, id.expiresOn, id.stage), token, leaseUntilMs, nowMs, {}, today);
  }

  async recordMergedSent(
    members: ReadonlyArray<{ id: DeliveryId; token: string; final: boolean; ruleVersion?: number }>,
    sent: { messageId: string; sentAt: string; to: string; body: string; segments: number; phoneHash?: string | undefined },
  ): Promise<void> {
    const { phoneHash, ...record } = sent;
    await this.deliveries.recordSentTogether(
      members.map((m) => ({
        key: deliveryKey(m.id.key, m.id.expiresOn, m.id.stage),
        token: m.token,
        ruleVersion: m.ruleVersion,
        listing: deliveryFacts(m.id, 'sent', sent.sentAt, { phoneHash, final: m.final }),
      })),
      record,
      () => `merged reminder of ${members.map((m) => describeDelivery(m.id)).join(', ')}`,
    );
  }

  async phonesOf(keys: readonly CertificateKey[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const chunks: CertificateKey[][] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_SIZE) chunks.push(keys.slice(i, i + BATCH_GET_SIZE));
    await inParallel(chunks, BATCH_CONCURRENCY, async (chunk) => {
      const statement = accessPatterns.phonesByKeys(this.tableName, chunk.map((key) => certificateKey(key).pk));
      let NextToken: string | undefined;
      do {
        const result: ExecuteStatementCommandOutput = await this.doc.send(new ExecuteStatementCommand({ ...statement, NextToken }));
        for (const item of result.Items ?? []) {
          if (typeof item.phone === 'string') found.set(certificateId(parseCertificatePk(item.pk as string)), item.phone);
        }
        NextToken = result.NextToken;
      } while (NextToken !== undefined);
    });
    return found;
  }

  async recordDeferred(id: DeliveryId, token: string, deferredOn: IsoDate, at: string, facts?: DeliveryFacts): Promise<void> {
    const listing = facts === undefined ? undefined : { to: facts.to, listing: deliveryFacts(id, 'deferred', at, facts) };
    await this.deliveries.recordDeferred(deliveryKey(id.key, id.expiresOn, id.stage), token, deferredOn, at, () => describeDelivery(id), listing);
  }

  async recordSent(id: DeliveryId, token: string, sent: SentRecord & { phoneHash?: string | undefined; final?: boolean }): Promise<void> {
    const { phoneHash, final, ...record } = sent;
    const listing = deliveryFacts(id, 'sent', sent.sentAt, { phoneHash, final: final ?? false });
    await this.deliveries.recordSent(deliveryKey(id.key, id.expiresOn, id.stage), token, record, () => describeDelivery(id), listing);
  }

  async recordFailed(id: DeliveryId, token: string, reason: string, failedAt: string, facts?: DeliveryFacts & { body?: string | undefined }): Promise<void> {
    const refused = facts === undefined ? undefined : { to: facts.to, body: facts.body, listing: deliveryFacts(id, 'failed', failedAt, facts) };
    await this.deliveries.recordFailed(deliveryKey(id.key, id.expiresOn, id.stage), token, reason, failedAt, () => describeDelivery(id), refused);
  }

  async release(id: DeliveryId, token: string): Promise<void> {
    await this.deliveries.release(deliveryKey(id.key, id.expiresOn, id.stage), token);
  }

  async recordSuppressed(id: DeliveryId, token: string, at: string, facts: DeliveryFacts): Promise<void> {
    const listed = { to: facts.to, listing: deliveryFacts(id, 'suppressed', at, facts) };
    await this.deliveries.recordSuppressed(deliveryKey(id.key, id.expiresOn, id.stage), token, SUPPRESSED_REASON, at, () => describeDelivery(id), listed);
  }

  async get(id: DeliveryId): Promise<DeliveryRecord | undefined> {
    return this.deliveries.get(deliveryKey(id.key, id.expiresOn, id.stage));
  }

  // ---- Retention -------------------------------------------------------------------------

  async certificatesExpiredBefore(type: string, cutoff: IsoDate, cursor?: string): Promise<Page<CertificateKey>> {
    const pattern = accessPatterns.certificatesOfType(type, cutoff);
    const result = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        ...pattern,
        ProjectionExpression: 'pk, sk, gsi2pk, gsi2sk',
        ExclusiveStartKey: decodeCursor(cursor, pattern.IndexName, pattern.ExpressionAttributeValues[':pk']),
        Limit: 100,
      }),
    );
    const next = encodeCursor(result.LastEvaluatedKey);
    return { items: (result.Items ?? []).map((item) => parseCertificatePk(item.pk as string)), ...(next !== undefined ? { nextCursor: next } : {}) };
  }

  private async deliveryKeysBefore(key: CertificateKey, cutoff: IsoDate): Promise<Item[]> {
    const keys: Item[] = [];
    let ExclusiveStartKey: Item | undefined;
    do {
      const result = await this.doc.send(
        new QueryCommand({ TableName: this.tableName, ...accessPatterns.deliveriesOfExpiriesBefore(key, cutoff), ProjectionExpression: 'pk, sk', ExclusiveStartKey }),
      );
      keys.push(...(result.Items ?? []));
      ExclusiveStartKey = result.LastEvaluatedKey;
    } while (ExclusiveStartKey !== undefined);
    return keys;
  }

  async countDeliveriesBefore(key: CertificateKey, cutoff: IsoDate): Promise<number> {
    return (await this.deliveryKeysBefore(key, cutoff)).length;
  }

  async purgeCertificate(key: CertificateKey, cutoff: IsoDate): Promise<{ deleted: boolean; deliveries: number }> {
    // Deliveries first: a crash between the two leaves the certificate, which the next run finds again;
    // the other order would leave deliveries no index leads to.
    const deliveries = await this.deliveryKeysBefore(key, cutoff);
    await inParallel(deliveries, BATCH_CONCURRENCY, async (Key) => {
      await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: Key.pk, sk: Key.sk } }));
    });
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: certificateKey(key),
          // Renewed since it was found: its expiry moved past the cutoff, so it stays.
          ConditionExpression: 'expiresOn < :cutoff',
          ExpressionAttributeValues: { ':cutoff': cutoff },
        }),
      );
      return { deleted: true, deliveries: deliveries.length };
    } catch (error) {
      if (isConditionalFailure(error)) return { deleted: false, deliveries: deliveries.length };
      throw error;
    }
  }

  async getPurgeProgress(): Promise<PurgeProgress | undefined> {
    const item = await this.getMeta(PURGE_META);
    if (item === undefined) return undefined;
    const { pk: _pk, sk: _sk, entity: _entity, ...progress } = item;
    return progress as PurgeProgress;
  }

  async savePurgeProgress(progress: PurgeProgress): Promise<void> {
    await this.putMeta(PURGE_META, { ...progress });
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
