import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DateTime } from 'luxon';
import type { DailySendCap } from '../../../core/ports.js';
import { ZONE } from '../../../core/model.js';
import { isConditionalFailure } from './conditions.js';
import { documentClient } from './dynamodb-store.js';
import { dailySendCountKey, TTL_ATTRIBUTE } from './keys.js';

/** A day's counter is only asked about on its own day; two more days cover clock skew and a late scan. */
const COUNTER_KEEP_SECONDS = 3 * 24 * 3600;

/**
 * The daily cap as one counter item per phone and day. Taking a slot is a single conditional ADD, so
 * any number of scans, campaign jobs and replies racing for a phone's last slot leave exactly one
 * winner; the item expires on its own (TTL) a few days later.
 */
export class DynamoDbDailySendCap implements DailySendCap {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  async take(phone: string, day: string, limit: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: dailySendCountKey(phone, day),
          UpdateExpression: 'ADD sent :one SET entity = :entity, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(sent) OR sent < :limit',
          ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':entity': 'dailySendCount', ':ttl': endOfDayEpoch(day) + COUNTER_KEEP_SECONDS },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  async giveBack(phone: string, day: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: dailySendCountKey(phone, day),
          UpdateExpression: 'ADD sent :minusOne',
          // Never below zero, and never creating a counter that was not there.
          ConditionExpression: 'sent > :zero',
          ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
        }),
      );
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
    }
  }

  async used(phone: string, day: string): Promise<number> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: dailySendCountKey(phone, day), ConsistentRead: true, ProjectionExpression: 'sent' }),
    );
    return typeof Item?.sent === 'number' ? Item.sent : 0;
  }
}

function endOfDayEpoch(day: string): number {
  return Math.floor(DateTime.fromISO(day, { zone: ZONE }).plus({ days: 1 }).toSeconds());
}
