import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PhoneHoldings } from '../../../core/ports.js';
import { documentClient } from './dynamodb-store.js';
import { accessPatterns, parseCertificatePk } from './keys.js';

/**
 * The certificate types a phone holds, from the keys-only `byPhone` index: one small Query per phone,
 * whatever the size of the table (a holder has a handful of certificates).
 */
export class DynamoDbPhoneHoldings implements PhoneHoldings {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  async typesHeldBy(phone: string): Promise<Set<string>> {
    const types = new Set<string>();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({ TableName: this.tableName, ...accessPatterns.certificatesOfPhone(phone), ...(start !== undefined ? { ExclusiveStartKey: start } : {}) }),
      );
      for (const item of page.Items ?? []) if (typeof item.pk === 'string') types.add(parseCertificatePk(item.pk).type);
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return types;
  }
}
