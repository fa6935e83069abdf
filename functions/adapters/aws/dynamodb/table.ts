import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { TOWNSHIP_TYPE_INDEX_VERSION } from '../../../core/index-backfill.js';
import { INDEX, TABLE_SCHEMA, townshipTypeBackfillKey } from './keys.js';
import { setAll, snapshotOf, SNAPSHOT_PROJECTION } from './township-type-backfill.js';

/**
 * Create the table (for DynamoDB Local) exactly as TABLE_SCHEMA describes it, if it is missing. A table
 * made by an earlier release gets the indexes it lacks (`byTownshipType` came with campaigns), and its
 * certificates the attributes of those indexes; a marker item says when that is done, so a start
 * interrupted while the index was being built finishes the work at the next one.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<'created' | 'exists'> {
  let table: TableDescription | undefined;
  try {
    ({ Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName })));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  if (table !== undefined) {
    await addMissingIndexes(client, tableName, table);
    return 'exists';
  }
  const keyAttributes = new Set<string>([TABLE_SCHEMA.partitionKey, TABLE_SCHEMA.sortKey]);
  for (const index of TABLE_SCHEMA.indexes) {
    keyAttributes.add(index.partitionKey);
    keyAttributes.add(index.sortKey);
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...keyAttributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
      KeySchema: [
        { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: TABLE_SCHEMA.indexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: index.projection },
      })),
    }),
  );
  // A new table has no certificate without the index's keys.
  await markBackfilled(client, tableName);
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.ttlAttribute, Enabled: true },
      }),
    );
  } catch {
    // DynamoDB Local accepts TTL settings but never deletes; the setting matters only on AWS.
  }
  return 'created';
}

/**
 * A data dir made by an earlier version keeps its table: an index added to TABLE_SCHEMA since (such as
 * `deliveries` or `byTownshipType`) is created on it. Items written before it carry no index keys, so they
 * stay out of a new index, as they would on AWS, except the township-and-type index, which is backfilled
 * so that campaigns find certificates stored earlier.
 */
async function addMissingIndexes(client: DynamoDBClient, tableName: string, table: TableDescription): Promise<void> {
  const present = new Set((table.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  const added: string[] = [];
  for (const index of TABLE_SCHEMA.indexes) {
    if (present.has(index.name)) continue;
    added.push(index.name);
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [
          { AttributeName: index.partitionKey, AttributeType: 'S' },
          { AttributeName: index.sortKey, AttributeType: 'S' },
        ],
        GlobalSecondaryIndexUpdates: [
          {
            Create: {
              IndexName: index.name,
              KeySchema: [
                { AttributeName: index.partitionKey, KeyType: 'HASH' },
                { AttributeName: index.sortKey, KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: index.projection },
            },
          },
        ],
      }),
    );
  }
  // An index is queryable once it has been built; the service answers no request before then.
  for (const name of added) await indexActive(client, tableName, name);
  if (await isBackfilled(client, tableName)) return;
  await indexActive(client, tableName, INDEX.byTownshipType);
  await backfillTownshipTypeIndex(client, tableName);
  await markBackfilled(client, tableName);
}

const BACKFILL_MARKER = townshipTypeBackfillKey();

async function isBackfilled(client: DynamoDBClient, tableName: string): Promise<boolean> {
  const { Item } = await DynamoDBDocumentClient.from(client).send(new GetCommand({ TableName: tableName, Key: BACKFILL_MARKER, ConsistentRead: true }));
  // A backfill job's progress item that is still running is not done; the start-up marker has no state.
  return Item !== undefined && (Item.state === undefined || (Item.state === 'done' && Item.version === TOWNSHIP_TYPE_INDEX_VERSION));
}

async function markBackfilled(client: DynamoDBClient, tableName: string): Promise<void> {
  await DynamoDBDocumentClient.from(client).send(new PutCommand({ TableName: tableName, Item: { ...BACKFILL_MARKER, entity: 'meta' } }));
}

/**
 * Writes to a table whose new index is still being built fail (DynamoDB Local answers InternalFailure).
 * Building it over a large table, or on a busy machine, takes a while: wait up to ten minutes.
 */
async function indexActive(client: DynamoDBClient, tableName: string, name: string): Promise<void> {
  const giveUpAt = performance.now() + INDEX_BUILD_WAIT_MS;
  while (performance.now() < giveUpAt) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const index = Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === name);
    if (Table?.TableStatus === 'ACTIVE' && index?.IndexStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`index ${name} of ${tableName} was still being built after ${INDEX_BUILD_WAIT_MS / 60_000} minutes; start the service again to continue`);
}

const INDEX_BUILD_WAIT_MS = 10 * 60_000;

/**
 * Certificates stored before the index existed get its keys, so a campaign finds them too. A local table
 * is small, so one Scan does; the keys are set as the AWS backfill job sets them (township-type-backfill.ts).
 */
async function backfillTownshipTypeIndex(client: DynamoDBClient, tableName: string): Promise<void> {
  const doc = DynamoDBDocumentClient.from(client);
  let ExclusiveStartKey: Record<string, NativeAttributeValue> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'entity = :certificate AND attribute_not_exists(gsi3pk)',
        ...SNAPSHOT_PROJECTION,
        ExpressionAttributeValues: { ':certificate': 'certificate' },
        ExclusiveStartKey,
      }),
    );
    await setAll(doc, tableName, (page.Items ?? []).map(snapshotOf));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey !== undefined);
}
