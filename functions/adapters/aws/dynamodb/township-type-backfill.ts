import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { TOWNSHIP_TYPE_INDEX_VERSION, type CertificateIndexSnapshot, type IndexBackfillProgress } from '../../../core/index-backfill.js';
import type { Page, TownshipTypeBackfillStore } from '../../../core/ports.js';
import { isConditionalFailure } from './conditions.js';
import { documentClient } from './dynamodb-store.js';
import { accessPatterns, certificateKey, INDEX, isCertificatePageStart, townshipTypeBackfillKey, townshipTypeIndexKeys } from './keys.js';

type Item = Record<string, NativeAttributeValue>;

/** Certificates read per Query page: a page's updates and its progress save fit well inside any budget check. */
const PAGE_SIZE = 200;
/** Conditional updates in flight at once. */
const UPDATE_CONCURRENCY = 8;

const progressSchema = z.object({
  version: z.number().int(),
  state: z.enum(['running', 'done']),
  typesDone: z.array(z.string()),
  position: z.object({ type: z.string(), cursor: z.string() }).optional(),
  updated: z.number().int(),
  skipped: z.number().int(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
});

/**
 * The one place a stored certificate is given its `byTownshipType` keys after the fact: the local start-up
 * backfill (table.ts) and the AWS backfill job both write through here, with the keys from keys.ts.
 * Conditional on the version read and on the keys still being absent: a certificate renewed (rewritten with
 * its current keys) or changed since it was read is left as it is, never given keys of its older expiry.
 */
export async function setTownshipTypeKeys(doc: DynamoDBDocumentClient, tableName: string, snapshot: CertificateIndexSnapshot): Promise<boolean> {
  const { gsi3pk, gsi3sk } = townshipTypeIndexKeys(snapshot.township, snapshot.expiresOn, snapshot);
  const sameVersion = snapshot.version === null ? 'attribute_not_exists(version)' : 'version = :version';
  try {
    await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: certificateKey(snapshot),
        UpdateExpression: 'SET gsi3pk = :pk, gsi3sk = :sk',
        ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(gsi3pk) AND ${sameVersion}`,
        ExpressionAttributeValues: { ':pk': gsi3pk, ':sk': gsi3sk, ...(snapshot.version === null ? {} : { ':version': snapshot.version }) },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalFailure(error)) return false;
    throw error;
  }
}

/** A certificate item as read for the backfill (the attributes `SNAPSHOT_PROJECTION` names). */
export function snapshotOf(item: Item): CertificateIndexSnapshot {
  return {
    type: item.type as string,
    number: item.number as string,
    township: item.township as string,
    expiresOn: (item.expiresOn as string | undefined) ?? null,
    version: typeof item.version === 'number' ? item.version : null,
  };
}

export const SNAPSHOT_PROJECTION = { ProjectionExpression: 'pk, sk, #type, #number, township, expiresOn, version', ExpressionAttributeNames: { '#type': 'type', '#number': 'number' } };

/**
 * The AWS backfill's store: each type's certificates on `byType` (the scan function already may Query it),
 * a page at a time, with a cursor the job saves in its progress item.
 */
export class DynamoDbTownshipTypeBackfill implements TownshipTypeBackfillStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly pageSize: number;

  /** `pageSize`: certificates read per page (tests make it small to see a walk stop and resume). */
  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    options: { pageSize?: number } = {},
  ) {
    this.doc = documentClient(client);
    this.pageSize = options.pageSize ?? PAGE_SIZE;
  }

  async certificatesLackingTownshipTypeKeys(type: string, cursor?: string): Promise<Page<CertificateIndexSnapshot>> {
    const result = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        ...accessPatterns.certificatesOfType(type),
        // The filter saves the transfer, not the read: every certificate of the page is read once.
        FilterExpression: 'attribute_not_exists(gsi3pk)',
        ...SNAPSHOT_PROJECTION,
        Limit: this.pageSize,
        ...(cursor !== undefined ? { ExclusiveStartKey: startKeyOf(cursor, type) } : {}),
      }),
    );
    return {
      items: (result.Items ?? []).map(snapshotOf),
      ...(result.LastEvaluatedKey !== undefined ? { nextCursor: JSON.stringify(result.LastEvaluatedKey) } : {}),
    };
  }

  async setTownshipTypeKeys(snapshot: CertificateIndexSnapshot): Promise<boolean> {
    return setTownshipTypeKeys(this.doc, this.tableName, snapshot);
  }

  async getTownshipTypeBackfill(): Promise<IndexBackfillProgress | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: townshipTypeBackfillKey(), ConsistentRead: true }));
    if (Item === undefined) return undefined;
    // The marker a local start-up (or table creation) writes carries no progress: it means done.
    if (Item.state === undefined) return { version: TOWNSHIP_TYPE_INDEX_VERSION, state: 'done', typesDone: [], updated: 0, skipped: 0, startedAt: '' };
    return progressSchema.parse(Item);
  }

  async saveTownshipTypeBackfill(progress: IndexBackfillProgress): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...progress, ...townshipTypeBackfillKey(), entity: 'meta' } }));
  }
}

/** Sets the keys of `snapshots`, UPDATE_CONCURRENCY at a time; true for each that was set. */
export async function setAll(doc: DynamoDBDocumentClient, tableName: string, snapshots: CertificateIndexSnapshot[]): Promise<boolean[]> {
  const outcomes: boolean[] = [];
  for (let i = 0; i < snapshots.length; i += UPDATE_CONCURRENCY) {
    outcomes.push(...(await Promise.all(snapshots.slice(i, i + UPDATE_CONCURRENCY).map((s) => setTownshipTypeKeys(doc, tableName, s)))));
  }
  return outcomes;
}

/** The saved cursor is the store's own, yet it names where a Query starts: only a certificate of this type's partition is accepted. */
function startKeyOf(cursor: string, type: string): Item {
  let key: unknown;
  try {
    key = JSON.parse(cursor);
  } catch {
    key = undefined;
  }
  if (!isCertificatePageStart(key, INDEX.byType, `TYPE#${type}`)) {
    throw new Error(
      `索引补写进度中的位置无效，请删除 pk=META, sk=INDEX#${INDEX.byTownshipType} 项后重新开始 / the backfill's saved position is not a ${type} certificate; delete the item pk=META, sk=INDEX#${INDEX.byTownshipType} to start over`,
    );
  }
  return key as Item;
}
