import type { DateTime } from 'luxon';
import { decideBooking, refusalMessage, type BookableVisit, type Booking, type BookingRefusal } from '../../core/campaigns/booking.js';
import type { BookingStore } from '../../core/campaigns/booking-ports.js';
import { foldInboundText } from '../../core/campaigns/inbound.js';
import type { CampaignStore, Clock, Logger } from '../../core/ports.js';

export interface BookingDeps {
  campaigns: { store: Pick<CampaignStore, 'getVisit' | 'getBookingCode'> };
  bookings: BookingStore;
  clock: Clock;
  logger: Logger;
}

export class UnknownBookingCode extends Error {
  override readonly name = 'UnknownBookingCode';
  constructor(code: string) {
    super(`预约码 ${code} 不存在，请核对通知短信中的预约码 / booking code ${code} is not one of this campaign's codes; check the code in the notice SMS`);
  }
}

export class BookingNotFound extends Error {
  override readonly name = 'BookingNotFound';
  constructor(id: string) {
    super(`预约 ${id} 不存在或已取消 / booking ${id} does not exist or was already cancelled`);
  }
}

/** The visit does not allow this booking; `refusal` says why (and, for a full slot, where there is room). */
export class BookingRefused extends Error {
  override readonly name = 'BookingRefused';
  constructor(
    readonly refusal: BookingRefusal,
    slot: number,
  ) {
    super(refusalMessage(refusal, slot));
  }
}

/** Other writes to the same code or visit kept winning; nothing was written, and trying again is safe. */
export class BookingContended extends Error {
  override readonly name = 'BookingContended';
  constructor() {
    super('该预约正被同时修改，请稍后重试 / the booking was being changed at the same time; nothing was written, please retry');
  }
}

export interface BookingResult {
  booking: Booking;
  visit: BookableVisit;
  /** False when the code already held this slot: nothing was written and nothing is sent. */
  changed: boolean;
  /** The slot given back, when the booking moved. */
  movedFrom?: number;
}

/** Reads the visit and booking again after a lost race; each round is two consistent reads. */
const ROUNDS = 5;

/** Booking codes as people type them: full width or lower case is the same code. */
export function normaliseCode(code: string): string {
  return foldInboundText(code);
}

/**
 * Takes a slot for a booking code, or moves the code's booking to it (giving the old slot back in the
 * same transaction). Capacity is the store's condition, so concurrent bookings never overfill a slot.
 */
export async function bookSlot(deps: BookingDeps, campaignId: string, request: { code: string; slot: number }, now: DateTime = deps.clock.now()): Promise<BookingResult> {
  const code = normaliseCode(request.code);
  const owner = await deps.campaigns.store.getBookingCode(campaignId, code);
  if (owner === undefined) throw new UnknownBookingCode(code);
  for (let round = 0; round < ROUNDS; round += 1) {
    const visit = await deps.campaigns.store.getVisit(campaignId, owner.visitId);
    if (visit === undefined) throw new UnknownBookingCode(code);
    const current = await deps.bookings.getBooking(campaignId, code);
    const decision = decideBooking(visit, current, request.slot, now);
    if (decision.kind === 'refuse') throw new BookingRefused(decision.refusal, request.slot);
    if (decision.kind === 'unchanged' && current !== undefined) return { booking: current, visit, changed: false };
    if (decision.kind !== 'take') continue;
    const at = now.toUTC().toISO() ?? '';
    const booking: Booking = {
      bookingId: code,
      code,
      campaignId,
      visitId: visit.id,
      phone: owner.phone,
      slot: decision.slot.number,
      state: 'booked',
      sequence: (current?.sequence ?? 0) + 1,
      at,
      updatedAt: at,
    };
    const outcome = await deps.bookings.takeSlot({
      booking,
      visit,
      expectedSequence: current?.sequence,
      ...(decision.from !== undefined ? { from: decision.from.number } : {}),
    });
    if (outcome === 'written') {
      deps.logger.info({ campaignId, visitId: visit.id, slot: booking.slot, sequence: booking.sequence, movedFrom: decision.from?.number }, 'slot booked');
      return { booking, visit, changed: true, ...(decision.from !== undefined ? { movedFrom: decision.from.number } : {}) };
    }
  }
  throw new BookingContended();
}

/** Cancels the booking of a code (the booking's id) and gives its slot back. */
export async function cancelBooking(deps: BookingDeps, campaignId: string, bookingId: string, now: DateTime = deps.clock.now()): Promise<BookingResult> {
  const code = normaliseCode(bookingId);
  for (let round = 0; round < ROUNDS; round += 1) {
    const current = await deps.bookings.getBooking(campaignId, code);
    if (current === undefined || current.state !== 'booked') throw new BookingNotFound(bookingId);
    const visit = await deps.campaigns.store.getVisit(campaignId, current.visitId);
    if (visit === undefined) throw new BookingNotFound(bookingId);
    const cancelled: Booking = { ...current, state: 'cancelled', sequence: current.sequence + 1, updatedAt: now.toUTC().toISO() ?? '' };
    const outcome = await deps.bookings.releaseSlot({ booking: cancelled, visit, expectedSequence: current.sequence, slot: current.slot });
    if (outcome === 'written') {
      deps.logger.info({ campaignId, visitId: visit.id, slot: current.slot, sequence: cancelled.sequence }, 'booking cancelled');
      return { booking: cancelled, visit, changed: true };
    }
  }
  throw new BookingContended();
}
