import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, type DynamoDBDocumentClient, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { InvalidCursorError } from '../../../core/errors.js';
import type { AuditEntry, AuditLog, AuditQuery, Page } from '../../../core/ports.js';
import { documentClient } from './dynamodb-store.js';
import { accessPatterns, auditEntryKey } from './keys.js';

type Item = Record<string, NativeAttributeValue>;

/** The audit trail in the service's one table: entries are put once, with a condition, and never updated. */
export class DynamoDbAuditLog implements AuditLog {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  async record(entry: AuditEntry): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...auditEntryKey(utc(entry.at), entry.id), entity: 'audit', ...entry },
        // An entry is history: a second write with the same key must fail rather than rewrite it.
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async list(query: AuditQuery): Promise<Page<AuditEntry>> {
    const filters: string[] = [];
    const values: Record<string, string> = {};
    if (query.actor !== undefined) {
      filters.push('actor = :actor');
      values[':actor'] = query.actor;
    }
    if (query.action !== undefined) {
      // `import` finds `import.submitted` and `import.finished`; `import.finished` finds only itself.
      filters.push('(#action = :action OR begins_with(#action, :kind))');
      values[':action'] = query.action;
      values[':kind'] = `${query.action}.`;
    }
    const pattern = accessPatterns.auditTrail(query.since === undefined ? undefined : utc(query.since));
    const items: AuditEntry[] = [];
    let lastKey = decodeCursor(query.cursor);
    // A filter can leave a page short; keep reading until the page is full or the trail ends.
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          ...pattern,
          ExpressionAttributeValues: { ...pattern.ExpressionAttributeValues, ...values },
          ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
          ...(query.action !== undefined ? { ExpressionAttributeNames: { '#action': 'action' } } : {}),
          Limit: query.limit - items.length,
          ExclusiveStartKey: lastKey,
        }),
      );
      for (const item of page.Items ?? []) items.push(toEntry(item));
      lastKey = page.LastEvaluatedKey;
    } while (items.length < query.limit && lastKey !== undefined);
    return { items, ...(lastKey !== undefined ? { nextCursor: encodeCursor(lastKey) } : {}) };
  }
}

function utc(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`"${iso}" is not an ISO-8601 instant`);
  return new Date(ms).toISOString();
}

function toEntry(item: Item): AuditEntry {
  return {
    id: item.id as string,
    at: item.at as string,
    actor: item.actor as string,
    role: item.role as string,
    action: item.action as string,
    target: item.target as string,
    summary: item.summary as string,
    ...(item.details !== undefined ? { details: item.details as Record<string, unknown> } : {}),
  };
}

/** Opaque to callers; only this module reads it back, and only the key of the audit partition. */
function encodeCursor(key: Item): string {
  return Buffer.from(JSON.stringify({ sk: key.sk })).toString('base64url');
}

function decodeCursor(cursor: string | undefined): Item | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { sk?: unknown };
    if (typeof parsed.sk === 'string') return { pk: 'AUDIT', sk: parsed.sk };
  } catch {
    // fall through to the error below
  }
  throw new InvalidCursorError();
}
