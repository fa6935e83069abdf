import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbCampaignStore } from '../../functions/adapters/aws/dynamodb/dynamodb-campaign-store.js';
import { DynamoDbDeliveries } from '../../functions/adapters/aws/dynamodb/dynamodb-deliveries.js';
import { DynamoDbPhoneHoldings } from '../../functions/adapters/aws/dynamodb/dynamodb-phone-holdings.js';
import { documentClient, DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { certificateKey, TABLE_SCHEMA } from '../../functions/adapters/aws/dynamodb/keys.js';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { localDynamoClientConfig, startDynamoDbLocal, type DynamoDbLocal } from '../../functions/adapters/local/dynamodb-local.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import { farmRecord, INSPECTION, LIANJIANG } from '../support/campaign-fixtures.js';
import { uniqueTableName } from '../support/dynamo.js';
import { at, testSettings } from '../support/fixtures.js';

const NOW = at('2026-12-01T10:00:00+08:00');

/**
 * A data dir made by an earlier version keeps its table, and the service adds the indexes introduced since.
 * DynamoDB Local builds an index added to an existing table in the background, and while the whole suite
 * keeps the shared instance busy that build can take minutes; these tests get an instance of their own.
 */
let dynamo: DynamoDbLocal;
let client: DynamoDBClient;

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({});
  client = new DynamoDBClient(localDynamoClientConfig(dynamo.endpoint));
}, 60_000);

afterAll(async () => {
  client.destroy();
  await dynamo.stop();
});

/** A table with every index of today's schema except `missing`, as an earlier version made it. */
async function tableWithout(missing: string, prefix: string): Promise<string> {
  const tableName = uniqueTableName(prefix);
  const earlier = TABLE_SCHEMA.indexes.filter((index) => index.name !== missing);
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      // An index may reuse a table key as its own (byPhone sorts on sk): each attribute is defined once.
      AttributeDefinitions: [...new Set(['pk', 'sk', ...earlier.flatMap((i) => [i.partitionKey, i.sortKey])])].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: earlier.map((i) => ({
        IndexName: i.name,
        KeySchema: [
          { AttributeName: i.partitionKey, KeyType: 'HASH' },
          { AttributeName: i.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: i.projection },
      })),
    }),
  );
  return tableName;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('Function: ensureTable on a table an earlier version made', () => {
  it('adds the deliveries index to a table made without it, and delivery listings work on it', async () => {
    // Prepare
    const tableName = await tableWithout('deliveries', 'deliveries-upgrade');

    // Act
    const outcome = await ensureTable(client, tableName);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const listing = await new DynamoDbDeliveries(client, tableName).listDeliveries({ statuses: ['failed'], limit: 5 });

    // Assess
    expect(outcome).toBe('exists');
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual(TABLE_SCHEMA.indexes.map((i) => i.name).sort());
    expect(listing.items).toEqual([]);
  }, 120_000);

  it('adds the township-and-type index to a table made before campaigns, with the keys of the certificates already stored', async () => {
    // Prepare: a table without the campaigns' index, holding a certificate without its keys
    const tableName = await tableWithout('byTownshipType', 'campaign-upgrade');
    const store = new DynamoDbStore(client, tableName);
    await uploadCertificates({ store, reference: loadReferenceData(), settings: testSettings() }, [farmRecord(7)], NOW);
    await documentClient(client).send(
      new UpdateCommand({ TableName: tableName, Key: certificateKey({ type: INSPECTION, number: 'NJ-00007' }), UpdateExpression: 'REMOVE gsi3pk, gsi3sk' }),
    );

    // Act
    const outcome = await ensureTable(client, tableName);
    const found = await collect(new DynamoDbCampaignStore(client, tableName).certificatesInTownshipOfType(LIANJIANG, INSPECTION, '2027-06-30'));

    // Assess
    expect(outcome).toBe('exists');
    expect(found.map((c) => c.number)).toEqual(['NJ-00007']);
  }, 120_000);

  it('adds the phone index to a table made before suppressions, and finds the certificates already stored by their phone', async () => {
    // Prepare: certificates stored before the index existed; the index is on their existing `phone` attribute
    const tableName = await tableWithout('byPhone', 'phone-upgrade');
    const store = new DynamoDbStore(client, tableName);
    await uploadCertificates({ store, reference: loadReferenceData(), settings: testSettings() }, [farmRecord(8, { phone: '13900000381' })], NOW);

    // Act
    const outcome = await ensureTable(client, tableName);
    const types = await new DynamoDbPhoneHoldings(client, tableName).typesHeldBy('+8613900000381');

    // Assess
    expect(outcome).toBe('exists');
    expect([...types]).toEqual([INSPECTION]);
    expect([...(await new DynamoDbPhoneHoldings(client, tableName).typesHeldBy('+8613900000382'))]).toEqual([]);
  }, 120_000);
});
