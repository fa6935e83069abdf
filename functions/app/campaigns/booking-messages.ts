import { randomUUID } from 'node:crypto';
import type { DateTime } from 'luxon';
import type { Booking } from '../../core/campaigns/booking.js';
import { bookingCancellationText, bookingConfirmationText, type ReplyText } from '../../core/campaigns/booking-texts.js';
import { PermanentSendError, RetryableSendError } from '../../core/errors.js';
import { maskPhone } from '../../core/phone.js';
import type { CampaignMessageLedger, Logger, SmsSender } from '../../core/ports.js';
import type { BookingResult } from './bookings.js';

export interface BookingMessageDeps {
  sms: SmsSender;
  messages: CampaignMessageLedger;
  logger: Logger;
  /** Real elapsed time for claim leases. */
  wallClock?: () => number;
  settings: { claimLeaseMs: number };
}

/** What happened to a booking's message: `alreadySent` and `inFlight` mean another request owns it. */
export type BookingMessageOutcome = 'sent' | 'alreadySent' | 'inFlight' | 'retryLater' | 'failed';

/**
 * The kind of a booking's message in the campaign ledger. The sequence is part of it: booking, moving
 * and cancelling each get their own message, and the same event retried never gets a second one.
 */
export function bookingMessageKind(booking: Booking): string {
  return `${booking.state === 'booked' ? 'confirmation' : 'cancellation'}#${booking.sequence}`;
}

/**
 * Sends the confirmation (or cancellation) of one booking event exactly once: claim in the campaign
 * message ledger, send, record — the path notices and reminders take. A reply goes out at once,
 * whatever the send window: the holder has just written and is waiting for it.
 */
export async function sendBookingMessage(deps: BookingMessageDeps, booking: Booking, text: ReplyText, now: DateTime): Promise<BookingMessageOutcome> {
  const wall = deps.wallClock ?? Date.now;
  const id = { campaignId: booking.campaignId, visitId: booking.visitId, phone: booking.phone, kind: bookingMessageKind(booking) };
  const token = randomUUID();
  const claim = await deps.messages.claimMessage(id, token, wall() + deps.settings.claimLeaseMs, wall());
  if (!claim.claimed) return claim.existing?.status === 'sent' || claim.existing?.status === 'failed' ? 'alreadySent' : 'inFlight';
  const log = { campaignId: id.campaignId, visitId: id.visitId, kind: id.kind, to: maskPhone(booking.phone) };
  let messageId: string;
  try {
    messageId = (await deps.sms.send({ to: booking.phone, body: text.body, idempotencyKey: `campaign#${id.campaignId}#${id.visitId}#${booking.phone}#${id.kind}`, at: now.toISO() ?? '' })).messageId;
  } catch (error) {
    if (error instanceof RetryableSendError) {
      await deps.messages.releaseMessage(id, token);
      deps.logger.warn({ ...log, err: error.message }, 'booking SMS not sent, will retry');
      return 'retryLater';
    }
    if (error instanceof PermanentSendError) {
      await deps.messages.recordMessageFailed(id, token, error.message, now.toISO() ?? '');
      deps.logger.error({ ...log, err: error.message }, 'booking SMS refused permanently');
      return 'failed';
    }
    deps.logger.error({ ...log, err: (error as Error).message }, 'booking SMS send ended in an unknown state');
    return 'retryLater';
  }
  await deps.messages.recordMessageSent(id, token, { messageId, sentAt: now.toISO() ?? '', to: booking.phone, body: text.body, segments: text.segments });
  deps.logger.info({ ...log, messageId }, 'booking SMS sent');
  return 'sent';
}

/** The confirmation of a booking or a move, or the note of a cancellation: date, time and place of the slot. */
export async function confirmBooking(deps: BookingMessageDeps, result: BookingResult, now: DateTime): Promise<BookingMessageOutcome> {
  const { booking, visit } = result;
  const slot = visit.slots.find((s) => s.number === booking.slot);
  const details = { code: booking.code, date: visit.date, slot: booking.slot, start: slot?.start ?? '', end: slot?.end ?? '', place: visit.place };
  const text = booking.state === 'booked' ? bookingConfirmationText(details) : bookingCancellationText(details);
  return sendBookingMessage(deps, booking, text, now);
}
