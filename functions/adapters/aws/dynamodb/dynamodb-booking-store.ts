import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import type { BookableVisit, Booking } from '../../../core/campaigns/booking.js';
import type { BookingStore, BookingWrite, SlotWriteOutcome } from '../../../core/campaigns/booking-ports.js';
import { isConditionalFailure } from './conditions.js';
import { documentClient } from './dynamodb-store.js';
import { accessPatterns, bookingKey, dailyReplyKey, TTL_ATTRIBUTE, visitKey } from './keys.js';
import { queryAll } from './versioned-items.js';

type Item = Record<string, NativeAttributeValue>;
type SlotChange = { slot: number; delta: 1 | -1 };

/**
 * Transactions touching the same visit item at once are cancelled with TransactionConflict rather
 * than queued; fifty people replying to one notice within a second is exactly that. Each attempt
 * re-checks the slot's capacity, so retrying the same transaction is safe.
 */
const CONFLICT_ATTEMPTS = 40;
const CONFLICT_BACKOFF_MS = 10;
const CONFLICT_BACKOFF_CAP_MS = 250;

/** Bookings of campaign visits, and the slot counts they hold, in the service's one table. */
export class DynamoDbBookingStore implements BookingStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  async getBooking(campaignId: string, code: string): Promise<Booking | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: bookingKey(campaignId, code), ConsistentRead: true }));
    return Item === undefined ? undefined : toBooking(Item);
  }

  takeSlot(write: BookingWrite & { from?: number }): Promise<SlotWriteOutcome> {
    const changes: SlotChange[] = [{ slot: write.booking.slot, delta: 1 }, ...(write.from === undefined ? [] : [{ slot: write.from, delta: -1 as const }])];
    return this.writeWithSlots(write, changes);
  }

  releaseSlot(write: BookingWrite & { slot: number }): Promise<SlotWriteOutcome> {
    return this.writeWithSlots(write, [{ slot: write.slot, delta: -1 }]);
  }

  async setAttendance(campaignId: string, code: string, attendance: { attended: boolean; by: string; at: string }): Promise<Booking | undefined> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: bookingKey(campaignId, code),
          UpdateExpression: 'SET attended = :attended, attendanceBy = :by, attendanceAt = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':attended': attendance.attended, ':by': attendance.by, ':at': attendance.at },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes === undefined ? undefined : toBooking(Attributes);
    } catch (error) {
      if (isConditionalFailure(error)) return undefined;
      throw error;
    }
  }

  async campaignBookings(campaignId: string): Promise<Booking[]> {
    return (await queryAll(this.doc, this.tableName, accessPatterns.bookingsOf(campaignId))).map(toBooking);
  }

  async claimDailyReply(phone: string, day: string, topic: string, expiresAtEpoch: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...dailyReplyKey(phone, day, topic), entity: 'dailyReply', [TTL_ATTRIBUTE]: expiresAtEpoch },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  /**
   * The booking put and the slot counts in one transaction: each count changes only while its slot
   * is still at the position it was read from, an increment only while the slot has room, and the
   * put only while the booking is still at the sequence it was read at.
   */
  private async writeWithSlots(write: BookingWrite, changes: readonly SlotChange[]): Promise<SlotWriteOutcome> {
    const { booking } = write;
    const sets: string[] = [];
    const conditions = ['attribute_exists(pk)'];
    const values: Item = { ':one': 1 };
    for (const change of changes) {
      const at = slotPosition(write.visit, change.slot);
      const path = `#slots[${at}]`;
      values[`:slot${at}`] = change.slot;
      conditions.push(`${path}.#number = :slot${at}`);
      if (change.delta > 0) {
        values[':cancelled'] = 'cancelled';
        conditions.push('#state <> :cancelled', `${path}.#booked < ${path}.#capacity`);
        sets.push(`${path}.#booked = ${path}.#booked + :one`);
      } else {
        // A count never goes below zero, whatever happened before.
        values[':zero'] = 0;
        conditions.push(`${path}.#booked > :zero`);
        sets.push(`${path}.#booked = ${path}.#booked - :one`);
      }
    }
    const transaction = new TransactWriteCommand({
      TransactItems: [
        {
          Update: {
            TableName: this.tableName,
            Key: visitKey(booking.campaignId, booking.visitId),
            // The visit's version moves too, so a move of the visit read before this booking cannot write back stale counts.
            UpdateExpression: `SET ${sets.join(', ')}, #version = #version + :one`,
            ConditionExpression: conditions.join(' AND '),
            ExpressionAttributeNames: {
              '#slots': 'slots',
              '#number': 'number',
              '#booked': 'booked',
              '#version': 'version',
              ...(values[':cancelled'] !== undefined ? { '#state': 'state', '#capacity': 'capacity' } : {}),
            },
            ExpressionAttributeValues: values,
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: { ...bookingKey(booking.campaignId, booking.code), entity: 'booking', ...booking },
            ...(write.expectedSequence === undefined
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : { ConditionExpression: '#sequence = :expected', ExpressionAttributeNames: { '#sequence': 'sequence' }, ExpressionAttributeValues: { ':expected': write.expectedSequence } }),
          },
        },
      ],
    });
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.doc.send(transaction);
        return 'written';
      } catch (error) {
        const reasons = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
        if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'visitRefused';
        if (reasons[1]?.Code === 'ConditionalCheckFailed') return 'bookingChanged';
        const conflict = reasons.some((reason) => reason.Code === 'TransactionConflict');
        if (!conflict || attempt >= CONFLICT_ATTEMPTS) throw error;
        const ceiling = Math.min(CONFLICT_BACKOFF_CAP_MS, CONFLICT_BACKOFF_MS * 2 ** Math.min(attempt, 5));
        await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
      }
    }
  }
}

function slotPosition(visit: BookableVisit, slot: number): number {
  const at = visit.slots.findIndex((s) => s.number === slot);
  if (at < 0) throw new RangeError(`visit ${visit.id} has no slot ${slot}`);
  return at;
}

function toBooking(item: Item): Booking {
  const { pk: _pk, sk: _sk, entity: _entity, ...booking } = item;
  return booking as Booking;
}
