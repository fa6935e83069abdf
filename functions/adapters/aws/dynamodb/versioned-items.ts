/**
 * Items kept with their history (a holiday year, a type's reminder rule): the current item plus one
 * item per version, written together, and a re-plan's progress saved on the current item.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient, type NativeAttributeValue, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { isConditionalFailure } from './dynamodb-store.js';
import type { ItemKey } from './keys.js';

type Item = Record<string, NativeAttributeValue>;

export interface NewVersion {
  current: { key: ItemKey; item: Item };
  version: { key: ItemKey; item: Item };
  /** The version the current item must still have; undefined when there must be none yet. */
  expectedVersion: number | undefined;
}

/**
 * Writes the current item and its version item in one transaction, so the two never disagree.
 * False when the condition failed: another writer got there first.
 */
export async function putNewVersion(doc: DynamoDBDocumentClient, tableName: string, write: NewVersion): Promise<boolean> {
  return writeWithVersion(doc, tableName, write, {
    Put: {
      TableName: tableName,
      Item: { ...write.current.key, ...write.current.item },
      ...(write.expectedVersion === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': write.expectedVersion } }),
    },
  });
}

/**
 * Like `putNewVersion`, but the current item is updated in place: attributes it does not name stay
 * (a rule item also carries a running re-plan's mark, which a save must not wipe). Attributes given as
 * undefined are removed, so the current item holds exactly the new version's fields plus the kept ones.
 */
export async function updateNewVersion(doc: DynamoDBDocumentClient, tableName: string, write: NewVersion): Promise<boolean> {
  const names: Record<string, string> = { '#version': 'version' };
  const values: Item = {};
  const set: string[] = [];
  const remove: string[] = [];
  Object.entries(write.current.item).forEach(([name, value], i) => {
    names[`#a${i}`] = name;
    if (value === undefined) remove.push(`#a${i}`);
    else {
      set.push(`#a${i} = :a${i}`);
      values[`:a${i}`] = value;
    }
  });
  if (write.expectedVersion !== undefined) values[':expected'] = write.expectedVersion;
  return writeWithVersion(doc, tableName, write, {
    Update: {
      TableName: tableName,
      Key: write.current.key,
      UpdateExpression: [set.length > 0 ? `SET ${set.join(', ')}` : '', remove.length > 0 ? `REMOVE ${remove.join(', ')}` : ''].join(' ').trim(),
      ConditionExpression: write.expectedVersion === undefined ? 'attribute_not_exists(#version)' : '#version = :expected',
      ExpressionAttributeNames: names,
      ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
    },
  });
}

/** The write of the current item and the new version item in one transaction; false when a condition failed. */
async function writeWithVersion(doc: DynamoDBDocumentClient, tableName: string, write: NewVersion, current: NonNullable<TransactWriteCommandInput['TransactItems']>[number]): Promise<boolean> {
  try {
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [current, { Put: { TableName: tableName, Item: { ...write.version.key, ...write.version.item }, ConditionExpression: 'attribute_not_exists(pk)' } }],
      }),
    );
    return true;
  } catch (error) {
    // Only a failed condition means "another writer got there first"; a throttled or conflicting transaction is an error the caller retries.
    const reasons = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
    if (reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) return false;
    throw error;
  }
}

/** Saves a re-plan's progress on the current item, only while it is still at the progress's version. */
export async function saveReplanProgress(doc: DynamoDBDocumentClient, tableName: string, key: ItemKey, progress: { version: number }): Promise<boolean> {
  try {
    await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: 'SET replan = :progress',
        ConditionExpression: 'version = :version',
        ExpressionAttributeValues: { ':progress': progress, ':version': progress.version },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalFailure(error)) return false;
    throw error;
  }
}

/** Every item a query finds, page after page, read consistently. */
export async function queryAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  pattern: { KeyConditionExpression: string; ExpressionAttributeValues: Record<string, string>; ScanIndexForward?: boolean },
): Promise<Item[]> {
  const items: Item[] = [];
  let ExclusiveStartKey: Item | undefined;
  do {
    const page = await doc.send(new QueryCommand({ TableName: tableName, ...pattern, ConsistentRead: true, ExclusiveStartKey }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey !== undefined);
  return items;
}
