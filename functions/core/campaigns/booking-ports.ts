/**
 * What the booking, attendance and inbound-message use cases need from storage beyond the campaign
 * store: the booking items, the slot counts that move with them, and the once-a-day marker of a
 * reply to an inbound SMS.
 */
import type { BookableVisit, Booking } from './booking.js';

/**
 * A booking write's outcome. `visitRefused`: the visit no longer allows it (the slot filled up, the
 * visit was cancelled or its slots changed) — read it again and decide again. `bookingChanged`:
 * another write to the same code got there first.
 */
export type SlotWriteOutcome = 'written' | 'visitRefused' | 'bookingChanged';

export interface BookingWrite {
  booking: Booking;
  /** The visit as read: the store finds each slot's position in it and checks it is still that slot. */
  visit: BookableVisit;
  /** The sequence the stored booking must still have; undefined when the code has never booked. */
  expectedSequence: number | undefined;
}

export interface BookingStore {
  getBooking(campaignId: string, code: string): Promise<Booking | undefined>;
  /**
   * Writes `booking` (state booked) and adds one to its slot's count, only while that slot has room
   * and the visit is not cancelled; with `from`, that slot is given back in the same transaction.
   */
  takeSlot(write: BookingWrite & { from?: number }): Promise<SlotWriteOutcome>;
  /** Writes `booking` (state cancelled) and gives `slot` back, in one transaction. */
  releaseSlot(write: BookingWrite & { slot: number }): Promise<SlotWriteOutcome>;
  /** Records attendance on an existing booking; undefined when the code has no booking. */
  setAttendance(campaignId: string, code: string, attendance: { attended: boolean; by: string; at: string }): Promise<Booking | undefined>;
  /** Every booking of the campaign, cancelled ones included. */
  campaignBookings(campaignId: string): Promise<Booking[]>;
  /**
   * Marks that `phone` got a reply about `topic` on `day`; false when it already had one. A
   * conditional put, so two messages arriving together still give one reply.
   */
  claimDailyReply(phone: string, day: string, topic: string, expiresAtEpoch: number): Promise<boolean>;
}
