import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TokenRecord, TokenStore } from '../../../core/ports.js';
import { documentClient, isConditionalFailure } from './dynamodb-store.js';
import { accessPatterns, tokenKey } from './keys.js';

/** API tokens (hashed) in the service's one table. */
export class DynamoDbTokenStore implements TokenStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  async putToken(record: TokenRecord): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...tokenKey(record.id), entity: 'token', ...record } }));
  }

  async getToken(id: string): Promise<TokenRecord | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: tokenKey(id), ConsistentRead: true }));
    return Item === undefined ? undefined : toRecord(Item);
  }

  async listTokens(): Promise<TokenRecord[]> {
    const records: TokenRecord[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({ TableName: this.tableName, ...accessPatterns.allTokens(), ExclusiveStartKey }));
      for (const item of page.Items ?? []) records.push(toRecord(item));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey !== undefined);
    return records;
  }

  async revokeToken(id: string, at: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: tokenKey(id),
          UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }
}

function toRecord(item: Record<string, unknown>): TokenRecord {
  return {
    id: item.id as string,
    hash: item.hash as string,
    role: item.role as TokenRecord['role'],
    ...(item.authority !== undefined ? { authority: item.authority as string } : {}),
    ...(item.label !== undefined ? { label: item.label as string } : {}),
    createdAt: item.createdAt as string,
    createdBy: item.createdBy as string,
    ...(item.revokedAt !== undefined ? { revokedAt: item.revokedAt as string } : {}),
  };
}
