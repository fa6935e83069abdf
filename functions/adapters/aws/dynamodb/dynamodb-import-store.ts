import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ImportError, ImportRecord, ImportStore } from '../../../core/ports.js';
import { DynamoDbStore, documentClient, isConditionalFailure } from './dynamodb-store.js';
import { accessPatterns, importByHashKey, importErrorKey, importKey, openImportKey, TTL_ATTRIBUTE } from './keys.js';

/** Import reports are kept this long for audit, then DynamoDB TTL removes them. */
const IMPORT_RETENTION_SECONDS = 400 * 24 * 3600;

function ttlFrom(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000) + IMPORT_RETENTION_SECONDS;
}

/** Imports, their rejected rows and the resume markers, in the service's one table. */
export class DynamoDbImportStore implements ImportStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly writer: DynamoDbStore;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = documentClient(client);
    this.writer = new DynamoDbStore(client, tableName);
  }

  async createImport(record: ImportRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...importKey(record.id), entity: 'import', record, revision: record.revision, [TTL_ATTRIBUTE]: ttlFrom(record.createdAt) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...openImportKey(record.id), entity: 'openImport', createdAt: record.createdAt } }));
  }

  async getImport(id: string): Promise<ImportRecord | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: importKey(id), ConsistentRead: true }));
    return Item === undefined ? undefined : (Item.record as ImportRecord);
  }

  async saveImport(record: ImportRecord): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...importKey(record.id), entity: 'import', record, revision: record.revision, [TTL_ATTRIBUTE]: ttlFrom(record.createdAt) },
          // One worker at a time: a second process resuming the same import loses here and stops.
          ConditionExpression: 'revision = :expected',
          ExpressionAttributeValues: { ':expected': record.revision - 1 },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  async putImportErrors(owner: Pick<ImportRecord, 'id' | 'createdAt'>, errors: ImportError[]): Promise<void> {
    const { id } = owner;
    const seqByRow = new Map<number, number>();
    const ttl = ttlFrom(owner.createdAt);
    const items = errors.map((error) => {
      const seq = seqByRow.get(error.row) ?? 0;
      seqByRow.set(error.row, seq + 1);
      return { ...importErrorKey(id, error.row, seq), entity: 'importError', ...error, [TTL_ATTRIBUTE]: ttl };
    });
    await this.writer.batchWrite(items);
  }

  async *importErrors(id: string): AsyncIterable<ImportError> {
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({ TableName: this.tableName, ...accessPatterns.importErrors(id), ExclusiveStartKey }));
      for (const item of page.Items ?? []) {
        yield { row: item.row as number, column: item.column as string, value: item.value as string, reason: item.reason as string };
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey !== undefined);
  }

  async openImports(): Promise<string[]> {
    const ids: string[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({ TableName: this.tableName, ...accessPatterns.openImports(), ExclusiveStartKey }));
      for (const item of page.Items ?? []) ids.push(item.sk as string);
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey !== undefined);
    return ids;
  }

  async closeImport(id: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: openImportKey(id) }));
  }

  async findImportByHash(sha256: string, scope: string): Promise<string | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: importByHashKey(sha256, scope), ConsistentRead: true }));
    return Item?.importId as string | undefined;
  }

  async rememberImportHash(sha256: string, scope: string, id: string): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...importByHashKey(sha256, scope), entity: 'importHash', importId: id } }));
  }
}
