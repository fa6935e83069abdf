import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import type { CalendarStore, ReplanProgress, StoredCalendarYear } from '../../../core/ports.js';
import { documentClient, isConditionalFailure } from './dynamodb-store.js';
import { accessPatterns, calendarVersionKey, calendarYearKey } from './keys.js';

type Item = Record<string, NativeAttributeValue>;

/** The holiday calendar, one item per year plus one per version of it, in the service's one table. */
export class DynamoDbCalendarStore implements CalendarStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  async listCalendarYears(): Promise<StoredCalendarYear[]> {
    return (await this.queryAll(accessPatterns.calendarYears())).map(toRecord).sort((a, b) => a.year - b.year);
  }

  async getCalendarYear(year: number): Promise<StoredCalendarYear | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: calendarYearKey(year), ConsistentRead: true }));
    return Item === undefined ? undefined : toRecord(Item);
  }

  async calendarYearHistory(year: number): Promise<StoredCalendarYear[]> {
    return (await this.queryAll(accessPatterns.calendarYearVersions(year))).map(toRecord);
  }

  async putCalendarYear(record: StoredCalendarYear, expectedVersion: number | undefined): Promise<boolean> {
    const { replan: _replan, ...arrangement } = record;
    try {
      // One transaction, so the current year and its history never disagree.
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...calendarYearKey(record.year), entity: 'calendarYear', ...record },
                ...(expectedVersion === undefined
                  ? { ConditionExpression: 'attribute_not_exists(pk)' }
                  : { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': expectedVersion } }),
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...calendarVersionKey(record.year, record.version), entity: 'calendarVersion', ...arrangement },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      // Only a failed condition means "another load got there first"; a throttled or conflicting transaction is retried by the caller.
      const reasons = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
      if (reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) return false;
      throw error;
    }
  }

  async saveReplanProgress(year: number, progress: ReplanProgress): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: calendarYearKey(year),
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

  private async queryAll(pattern: { KeyConditionExpression: string; ExpressionAttributeValues: Record<string, string> }): Promise<Item[]> {
    const items: Item[] = [];
    let ExclusiveStartKey: Item | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({ TableName: this.tableName, ...pattern, ConsistentRead: true, ExclusiveStartKey }));
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey !== undefined);
    return items;
  }
}

function toRecord(item: Item): StoredCalendarYear {
  return {
    year: item.year as number,
    source: item.source as string,
    holidays: (item.holidays ?? []) as string[],
    workdays: (item.workdays ?? []) as string[],
    version: item.version as number,
    origin: item.origin as StoredCalendarYear['origin'],
    loadedBy: item.loadedBy as string,
    loadedAt: item.loadedAt as string,
    ...(item.replan !== undefined ? { replan: item.replan as ReplanProgress } : {}),
  };
}
