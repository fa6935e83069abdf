import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand, UpdateCommand, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { TABLE_SCHEMA, townshipTypeIndexKeys } from './keys.js';

/**
 * Create the table (for DynamoDB Local) exactly as TABLE_SCHEMA describes it, if it is missing. A table
 * made by an earlier release gets the indexes it lacks (`byTownshipType` came with campaigns), and its
 * certificates the attributes of those indexes.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<'created' | 'exists'> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    await addMissingIndexes(client, tableName, Table);
    return 'exists';
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
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

async function addMissingIndexes(client: DynamoDBClient, tableName: string, table: TableDescription | undefined): Promise<void> {
  const present = new Set((table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  for (const index of TABLE_SCHEMA.indexes) {
    if (present.has(index.name)) continue;
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
    await indexActive(client, tableName, index.name);
    if (index.name === 'byTownshipType') await backfillTownshipTypeIndex(client, tableName);
  }
}

/** Writes to a table whose new index is still being built fail (DynamoDB Local answers InternalFailure). */
async function indexActive(client: DynamoDBClient, tableName: string, name: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt += 1) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const index = Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === name);
    if (Table?.TableStatus === 'ACTIVE' && index?.IndexStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`index ${name} of ${tableName} did not become active within a minute`);
}

/** Certificates stored before the index existed get its keys, so a campaign finds them too. */
async function backfillTownshipTypeIndex(client: DynamoDBClient, tableName: string): Promise<void> {
  const doc = DynamoDBDocumentClient.from(client);
  let ExclusiveStartKey: Record<string, NativeAttributeValue> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'entity = :certificate AND attribute_not_exists(gsi3pk)',
        ExpressionAttributeValues: { ':certificate': 'certificate' },
        ProjectionExpression: 'pk, sk, township, expiresOn, #type, #number',
        ExpressionAttributeNames: { '#type': 'type', '#number': 'number' },
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const keys = townshipTypeIndexKeys(item.township as string, (item.expiresOn as string | undefined) ?? null, { type: item.type as string, number: item.number as string });
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: item.pk, sk: item.sk },
          UpdateExpression: 'SET gsi3pk = :pk, gsi3sk = :sk',
          // A certificate rewritten meanwhile already carries the keys of its current expiry.
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(gsi3pk)',
          ExpressionAttributeValues: { ':pk': keys.gsi3pk, ':sk': keys.gsi3sk },
        }),
      ).catch((error: unknown) => {
        if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
      });
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey !== undefined);
}
