import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SuppressedPhones } from '../../../core/ports.js';
import { documentClient } from './dynamodb-store.js';
import { suppressionKey } from './keys.js';

/** BatchGetItem's own limit on keys per request. */
const BATCH_GET_SIZE = 100;
const MAX_ATTEMPTS = 8;

/**
 * The suppression list read by phone, many at once: the `suppressed` flag of a page of certificates
 * costs one BatchGetItem of its distinct phones (keys only), not a read per certificate.
 */
export class DynamoDbSuppressedPhones implements SuppressedPhones {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  async suppressedAmong(phones: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const unique = [...new Set(phones)];
    for (let i = 0; i < unique.length; i += BATCH_GET_SIZE) await this.readChunk(unique.slice(i, i + BATCH_GET_SIZE), found);
    return found;
  }

  private async readChunk(phones: string[], found: Set<string>): Promise<void> {
    let keys: Array<Record<string, unknown>> = phones.map((phone) => ({ ...suppressionKey(phone) }));
    for (let attempt = 0; keys.length > 0; attempt += 1) {
      if (attempt >= MAX_ATTEMPTS) throw new Error('DynamoDB kept returning unprocessed keys reading the suppression list; try again later');
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** attempt)));
      const result = await this.doc.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ProjectionExpression: 'sk', ConsistentRead: true } } }),
      );
      for (const item of result.Responses?.[this.tableName] ?? []) if (typeof item.sk === 'string') found.add(item.sk);
      keys = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Array<Record<string, unknown>>;
    }
  }
}
