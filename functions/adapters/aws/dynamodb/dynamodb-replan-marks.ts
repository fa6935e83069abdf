/**
 * The cooperation that lets a rule re-plan write whole certificates with BatchWriteItem, without
 * conditions: a mark per type (held under a lease), a journal of what other writers stored while the
 * mark was open, and the conditional writes its repair uses. See the README, *Rule-change re-plan*.
 *
 * The mark lives on the type's rule item (`typeStateKey`), beside the rule's version, so a writer's
 * read of its types is one key per type, or for many types one Query of the rules partition: every
 * upload page reads all of its types twice, and with pages that mix the 34 types that take an expiry
 * the reads were a tenth of an import's time when they were two keys per type. Rules change rarely, so
 * the writer's read projects the version and the mark only, and the whole rule is read when the version
 * differs from the one this instance last read: a rule version's stages never change once stored (a
 * change or a restore makes a new version; only the re-plan progress and the mark fields are updated in
 * place), so a cached rule of the same version is the stored rule. A rule save updates the item (it never replaces it), so it keeps the
 * mark of a run still holding the type.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import type { CertificateKey, HolderIdCipher, RepairRead, ReplanJournalEntry, ReplanMark, ReplanMarks, StoredCertificate, TypeWriteState } from '../../../core/ports.js';
import type { ReminderRule } from '../../../core/rules.js';
import { isConditionalFailure } from './conditions.js';
import { toRule } from './dynamodb-rule-store.js';
import { documentClient, fromItem, REPLAN_STAMP, toItem } from './dynamodb-store.js';
import { accessPatterns, certificateKey, replanJournalEntryKey, replanJournalKey, typeStateKey } from './keys.js';

type Item = Record<string, NativeAttributeValue>;

/** BatchWriteItem's limit, and how many retries of unprocessed items before giving up. */
const BATCH_WRITE_SIZE = 25;
const MAX_BATCH_ATTEMPTS = 12;
/** A journal transaction holds the mark's check and at most 99 entries. */
const JOURNAL_PER_TRANSACTION = 99;
const BATCH_CONCURRENCY = 4;
/** BatchGetItem's limit: keys per call. */
const BATCH_GET_SIZE = 100;
/**
 * From this many types on, a writer reads the whole rules partition (one consistent Query: one item per
 * changed type, at most one per catalogue type) instead of a key per type. On DynamoDB Local each key of
 * a consistent BatchGetItem costs about a third of a millisecond (one call, measured on a loaded machine:
 * the earlier 68 keys 19–27 ms, 34 projected keys 12–17 ms, the Query 4–7 ms with 0 or 5 rules stored).
 * On AWS the partition is a few dozen small items, read at a fraction of a page's 500 writes; a page of
 * few types (a bureau's file, a revocation) keeps its few keys.
 */
const QUERY_FROM_TYPES = 8;
/** What a writer reads of a type's rule item: the version and the mark, not the stages and texts. */
const STATE_PROJECTION = { ProjectionExpression: 'pk, sk, #version, markId, markState, leaseUntilMs, markRuleVersion, markSeq', ExpressionAttributeNames: { '#version': 'version' } };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The re-plan stamp on a certificate item: the mark that put it and the version it put. A Put by any
 * other writer drops it; a revocation removes it; a plan update (a scan marking a stage sent) keeps it,
 * because the record is still the one the re-plan put.
 */
const STAMP = REPLAN_STAMP;

export class DynamoDbReplanMarks implements ReplanMarks {
  private readonly doc: DynamoDBDocumentClient;
  private readonly holderIds: HolderIdCipher | undefined;
  private readonly queryFromTypes: number;
  /** The last whole rule read of each type (its re-plan progress left out): reused while the stored version is the same. */
  private readonly rules = new Map<string, ReminderRule>();
  /** BatchWriteItem calls this instance may still start, and the calls waiting for one to finish. */
  private freeSlots = BATCH_CONCURRENCY;
  private readonly waiting: Array<() => void> = [];

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
    /** `queryFromTypes`: tests set it to read either way with any number of types. */
    options: { holderIds?: HolderIdCipher; queryFromTypes?: number } = {},
  ) {
    this.doc = documentClient(client);
    this.holderIds = options.holderIds;
    this.queryFromTypes = options.queryFromTypes ?? QUERY_FROM_TYPES;
  }

  async typeWriteStates(types: readonly string[]): Promise<Map<string, TypeWriteState>> {
    const unique = [...new Set(types)];
    const items = unique.length >= this.queryFromTypes ? await this.allStateItems(unique) : await this.stateItems(unique, STATE_PROJECTION);
    const stale = unique.filter((type) => {
      const version = (items.get(type)?.version as number | undefined) ?? 0;
      return version > 0 && this.rules.get(type)?.version !== version;
    });
    if (stale.length > 0) {
      // Read after the versions, so never older than the version read: a rule saved in between is newer,
      // and planning on it is what a later read would have done. Only ever moved forward, so a slower
      // concurrent read cannot put an older rule back.
      for (const [type, item] of await this.stateItems(stale)) {
        const { replan: _progress, ...rule } = toRule(item);
        if (rule.version > (this.rules.get(type)?.version ?? 0)) this.rules.set(type, rule);
      }
    }
    const states = new Map<string, TypeWriteState>();
    for (const type of unique) {
      const item = items.get(type);
      const version = (item?.version as number | undefined) ?? 0;
      states.set(type, {
        rule: version > 0 ? this.rules.get(type) : undefined,
        mark: item?.markId === undefined ? undefined : markFromItem(item),
        markSeq: (item?.markSeq as number | undefined) ?? 0,
      });
    }
    return states;
  }

  /** The types' state items from one consistent Query of the rules partition (each item as of after every write completed before it). */
  private async allStateItems(types: readonly string[]): Promise<Map<string, Item>> {
    const typeOf = new Map(types.map((type) => [stateItemId(typeStateKey(type)), type]));
    const found = new Map<string, Item>();
    let ExclusiveStartKey: Item | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({ TableName: this.tableName, ...accessPatterns.typeStates(), ...STATE_PROJECTION, ConsistentRead: true, ExclusiveStartKey }));
      for (const item of page.Items ?? []) {
        const type = typeOf.get(stateItemId(item));
        if (type !== undefined) found.set(type, item);
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey !== undefined);
    return found;
  }

  /** The types' state items, read consistently (BATCH_GET_SIZE keys per call); a type without one is absent. */
  private async stateItems(types: readonly string[], projection: Partial<typeof STATE_PROJECTION> = {}): Promise<Map<string, Item>> {
    const typeOf = new Map(types.map((type) => [stateItemId(typeStateKey(type)), type]));
    const keys = types.map(typeStateKey);
    const found = new Map<string, Item>();
    for (let i = 0; i < keys.length; i += BATCH_GET_SIZE) {
      let pending: Item[] = keys.slice(i, i + BATCH_GET_SIZE);
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt >= MAX_BATCH_ATTEMPTS) throw new Error('DynamoDB kept returning unprocessed keys; try again later');
        if (attempt > 0) await sleep(Math.min(2000, 25 * 2 ** attempt));
        const result = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true, ...projection } } }));
        for (const item of result.Responses?.[this.tableName] ?? []) {
          const type = typeOf.get(stateItemId(item));
          if (type !== undefined) found.set(type, item);
        }
        pending = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Item[];
      }
    }
    return found;
  }

  async acquireMark(type: string, ruleVersion: number, nowMs: number, leaseMs: number): Promise<ReplanMark | undefined> {
    const mark: ReplanMark = { id: randomUUID(), state: 'open', leaseUntilMs: nowMs + leaseMs, ruleVersion };
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: typeStateKey(type),
          UpdateExpression: 'SET markId = :id, markState = :open, leaseUntilMs = :until, markRuleVersion = :version ADD markSeq :one',
          // Free, or held by a run whose lease lapsed (it crashed, or stalled past its lease). Only a
          // stored rule is ever re-planned: the mark never creates a rule item without a rule.
          ConditionExpression: 'attribute_exists(#version) AND (attribute_not_exists(markId) OR leaseUntilMs < :now)',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':id': mark.id, ':open': 'open', ':until': mark.leaseUntilMs, ':version': ruleVersion, ':one': 1, ':now': nowMs },
        }),
      );
      return mark;
    } catch (error) {
      if (isConditionalFailure(error)) return undefined;
      throw error;
    }
  }

  async renewMark(type: string, id: string, nowMs: number, leaseMs: number): Promise<boolean> {
    return this.conditionalMarkUpdate(type, id, 'SET leaseUntilMs = :until', { ':until': nowMs + leaseMs, ':open': 'open' }, ' AND markState = :open');
  }

  async closeMark(type: string, id: string): Promise<boolean> {
    return this.conditionalMarkUpdate(type, id, 'SET markState = :closing', { ':closing': 'closing' });
  }

  async releaseMark(type: string, id: string): Promise<void> {
    // markSeq stays: a writer that read the mark before and finds none after still sees that a re-plan came and went.
    await this.conditionalMarkUpdate(type, id, 'REMOVE markId, markState, leaseUntilMs, markRuleVersion', {});
  }

  private async conditionalMarkUpdate(type: string, id: string, update: string, values: Item, extraCondition = ''): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: typeStateKey(type),
          UpdateExpression: update,
          ConditionExpression: `markId = :id${extraCondition}`,
          ExpressionAttributeValues: { ...values, ':id': id },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  async journal(type: string, markId: string, nowMs: number, written: readonly StoredCertificate[]): Promise<boolean> {
    const items = await Promise.all(written.map((stored) => this.itemOf(stored)));
    for (let i = 0; i < items.length; i += JOURNAL_PER_TRANSACTION) {
      const chunk = items.slice(i, i + JOURNAL_PER_TRANSACTION);
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                // The entry only counts while the re-plan can still read it: its repair pass starts by closing the mark.
                ConditionCheck: {
                  TableName: this.tableName,
                  Key: typeStateKey(type),
                  ConditionExpression: 'markId = :id AND markState = :open AND leaseUntilMs > :now',
                  ExpressionAttributeValues: { ':id': markId, ':open': 'open', ':now': nowMs },
                },
              },
              ...chunk.map((item) => ({
                Put: {
                  TableName: this.tableName,
                  Item: { ...replanJournalKey(type, item.number as string, item.version as number, randomUUID()), entity: 'replanJournal', markId, certificate: item },
                },
              })),
            ],
          }),
        );
      } catch (error) {
        const reasons = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
        if (reasons[0]?.Code === 'ConditionalCheckFailed') return false;
        throw error;
      }
    }
    return true;
  }

  async journalEntries(type: string): Promise<ReplanJournalEntry[]> {
    const entries: ReplanJournalEntry[] = [];
    let ExclusiveStartKey: Item | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({ TableName: this.tableName, ...accessPatterns.replanJournal(type), ConsistentRead: true, ExclusiveStartKey }));
      for (const item of page.Items ?? []) entries.push({ id: item.sk as string, stored: await this.decode(item.certificate as Item) });
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey !== undefined);
    return entries;
  }

  async removeJournalEntries(type: string, ids: readonly string[]): Promise<void> {
    await this.batchWrite(ids.map((id) => ({ DeleteRequest: { Key: replanJournalEntryKey(type, id) } })));
  }

  /**
   * At most four BatchWriteItem calls in flight across every call of this instance, first come first
   * served: a re-plan hands over its next page while the last batches of the previous one finish.
   */
  async putReplanned(items: readonly StoredCertificate[], markId: string): Promise<void> {
    const written = await Promise.all(items.map(async (stored) => ({ PutRequest: { Item: { ...(await this.itemOf(stored)), [STAMP]: { mark: markId, version: stored.version } } } })));
    const chunks: Item[][] = [];
    for (let i = 0; i < written.length; i += BATCH_WRITE_SIZE) chunks.push(written.slice(i, i + BATCH_WRITE_SIZE));
    await Promise.all(chunks.map((chunk) => this.inSlot(() => this.writeChunk(chunk))));
  }


  private async inSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.freeSlots > 0) this.freeSlots -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.freeSlots += 1;
    }
  }

  async readForRepair(key: CertificateKey): Promise<RepairRead | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: certificateKey(key), ConsistentRead: true }));
    if (Item === undefined) return undefined;
    const stamp = Item[STAMP] as { version?: number } | undefined;
    return { stored: await this.decode(Item), replannedVersion: stamp?.version };
  }

  async putCertificateIfVersion(stored: StoredCertificate, expectedVersion: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.tableName, Item: await this.itemOf(stored), ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': expectedVersion } }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  private async itemOf(stored: StoredCertificate): Promise<Item> {
    const id = stored.certificate.holder.id;
    return toItem(stored, id === undefined || this.holderIds === undefined ? undefined : await this.holderIds.seal(id));
  }

  private async decode(item: Item): Promise<StoredCertificate> {
    const stored = fromItem(item);
    const id = stored.certificate.holder.id;
    if (id === undefined || this.holderIds === undefined) return stored;
    return { ...stored, certificate: { ...stored.certificate, holder: { ...stored.certificate.holder, id: await this.holderIds.open(id) } } };
  }

  private async batchWrite(requests: Item[]): Promise<void> {
    const chunks: Item[][] = [];
    for (let i = 0; i < requests.length; i += BATCH_WRITE_SIZE) chunks.push(requests.slice(i, i + BATCH_WRITE_SIZE));
    await Promise.all(chunks.map((chunk) => this.inSlot(() => this.writeChunk(chunk))));
  }

  /** One BatchWriteItem call, retrying unprocessed items with backoff. */
  private async writeChunk(chunk: Item[]): Promise<void> {
    let pending = chunk;
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt >= MAX_BATCH_ATTEMPTS) throw new Error('DynamoDB kept returning unprocessed items; try again later');
      if (attempt > 0) await sleep(Math.min(2000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2));
      const result = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
      pending = (result.UnprocessedItems?.[this.tableName] ?? []) as Item[];
    }
  }
}

function stateItemId(key: Item): string {
  return `${key.pk as string}\u0000${key.sk as string}`;
}

function markFromItem(item: Item): ReplanMark {
  return { id: item.markId as string, state: item.markState === 'closing' ? 'closing' : 'open', leaseUntilMs: item.leaseUntilMs as number, ruleVersion: item.markRuleVersion as number };
}
