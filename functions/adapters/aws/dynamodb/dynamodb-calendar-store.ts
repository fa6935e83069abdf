import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, type DynamoDBDocumentClient, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import type { CalendarStore, ReplanProgress, StoredCalendarYear } from '../../../core/ports.js';
import { documentClient } from './dynamodb-store.js';
import { accessPatterns, calendarVersionKey, calendarYearKey } from './keys.js';
import { putNewVersion, queryAll, saveReplanProgress } from './versioned-items.js';

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
    return putNewVersion(this.doc, this.tableName, {
      current: { key: calendarYearKey(record.year), item: { entity: 'calendarYear', ...record } },
      version: { key: calendarVersionKey(record.year, record.version), item: { entity: 'calendarVersion', ...arrangement } },
      expectedVersion,
    });
  }

  async saveReplanProgress(year: number, progress: ReplanProgress): Promise<boolean> {
    return saveReplanProgress(this.doc, this.tableName, calendarYearKey(year), progress);
  }

  private queryAll(pattern: Parameters<typeof queryAll>[2]): Promise<Item[]> {
    return queryAll(this.doc, this.tableName, pattern);
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
