/**
 * DynamoDB Local for a benchmark run: the same launcher and table definition the service uses,
 * in memory or on disk, plus the plain BatchWriteItem loop that the import is compared against.
 */
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, type DynamoDBDocumentClient, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { localDynamoClientConfig, startDynamoDbLocal, type DynamoDbLocal } from '../../functions/adapters/local/dynamodb-local.js';

export type Item = Record<string, NativeAttributeValue>;

export interface BenchDynamo {
  local: DynamoDbLocal;
  client: DynamoDBClient;
  /** The document client exactly as `DynamoDbStore` builds it (same marshalling options). */
  doc: DynamoDBDocumentClient;
  /** A new, empty table with the service's schema. */
  freshTable(prefix: string): Promise<string>;
  dropTable(name: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * In memory by default. `dbPath` keeps the tables in SQLite files on disk instead, so a table of
 * millions of items is not bounded by (nor grows) the JVM's heap. `maxHeapMb` caps the JVM's heap and
 * nothing else (see `startDynamoDbLocal`); without it the JVM takes up to a quarter of the machine's
 * memory and, in a long run, holds on to all of it.
 */
export async function startBenchDynamo(options: { dbPath?: string; maxHeapMb?: number } = {}): Promise<BenchDynamo> {
  const local = await startDynamoDbLocal({
    ...(options.dbPath !== undefined ? { dbPath: options.dbPath } : {}),
    ...(options.maxHeapMb === undefined ? {} : { maxHeapMb: options.maxHeapMb }),
    // A run of many minutes that fails with ECONNREFUSED says nothing; DynamoDB Local's last lines say why it stopped.
    onUnexpectedExit: (error) => process.stderr.write(`\n${error.message}\n`),
  });
  const client = new DynamoDBClient(localDynamoClientConfig(local.endpoint));
  const doc = documentClient(client);
  return {
    local,
    client,
    doc,
    async freshTable(prefix) {
      const name = `${prefix.replace(/[^A-Za-z0-9_.-]+/g, '-')}-${randomUUID().slice(0, 8)}`;
      await ensureTable(client, name);
      return name;
    },
    async dropTable(name) {
      await client.send(new DeleteTableCommand({ TableName: name }));
    },
    async stop() {
      client.destroy();
      await local.stop();
    },
  };
}

export const BATCH_WRITE_SIZE = 25;
const MAX_ATTEMPTS = 12;

export type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Item } };

/**
 * Plain BatchWriteItem: 25 requests per call from `streams` concurrent loops, each taking the next
 * batch from `nextBatch` until it returns undefined. Unprocessed items are retried with backoff,
 * as any correct BatchWriteItem client must (DynamoDB Local never returns any).
 */
export async function batchWriteStreams(
  doc: DynamoDBDocumentClient,
  tableName: string,
  streams: number,
  nextBatch: () => WriteRequest[] | undefined,
  onBatch?: (written: number) => void,
): Promise<number> {
  let written = 0;
  const stream = async () => {
    for (let batch = nextBatch(); batch !== undefined; batch = nextBatch()) {
      let requests = batch;
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        if (attempt >= MAX_ATTEMPTS) throw new Error('DynamoDB Local kept returning unprocessed items');
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 25 * 2 ** attempt)));
        const result = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
        requests = (result.UnprocessedItems?.[tableName] ?? []) as WriteRequest[];
      }
      written += batch.length;
      onBatch?.(written);
    }
  };
  await Promise.all(Array.from({ length: streams }, stream));
  return written;
}

/** Batches of 25 puts over an array of items, for `batchWriteStreams`. */
export function putBatchesOf(items: readonly Item[]): () => WriteRequest[] | undefined {
  let next = 0;
  return () => {
    if (next >= items.length) return undefined;
    const batch = items.slice(next, next + BATCH_WRITE_SIZE).map((Item) => ({ PutRequest: { Item } }));
    next += BATCH_WRITE_SIZE;
    return batch;
  };
}
