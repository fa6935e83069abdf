import type { DateTime } from 'luxon';
import type { Booking } from '../../core/campaigns/booking.js';
import { bookingCancellationText, bookingConfirmationText } from '../../core/campaigns/booking-texts.js';
import type { BookingResult } from './bookings.js';
import type { CampaignDeps } from './campaign-deps.js';
import { listedFor, sendCampaignMessage, type CampaignSendOutcome } from './send-campaign-message.js';

export type BookingMessageDeps = Pick<CampaignDeps, 'campaigns' | 'sms' | 'settings' | 'logger' | 'wallClock' | 'suppressions' | 'cap' | 'reference' | 'phoneHasher'>;

/**
 * The kind of a booking's message in the campaign ledger. The sequence is part of it: booking, moving
 * and cancelling each get their own message, and the same event retried never gets a second one.
 */
export function bookingMessageKind(booking: Booking): string {
  return `${booking.state === 'booked' ? 'confirmation' : 'cancellation'}#${booking.sequence}`;
}

/**
 * The confirmation of a booking or a move, or the note of a cancellation — date, time and place of
 * the slot — exactly once per booking event, through the campaign message ledger (claim, send,
 * record). It goes out at once, whatever the send window: the holder has just asked and is waiting.
 */
export async function confirmBooking(deps: BookingMessageDeps, result: BookingResult, now: DateTime): Promise<CampaignSendOutcome> {
  const { booking, visit } = result;
  const slot = visit.slots.find((s) => s.number === booking.slot);
  const details = { code: booking.code, date: visit.date, slot: booking.slot, start: slot?.start ?? '', end: slot?.end ?? '', place: visit.place };
  const id = { campaignId: booking.campaignId, visitId: booking.visitId, phone: booking.phone, kind: bookingMessageKind(booking) };
  const campaign = await deps.campaigns.store.getCampaign(booking.campaignId);
  const scope = campaign === undefined ? {} : listedFor(deps, campaign);
  // Exempt from the daily cap: the holder has just asked, and a confirmation held back a day would confirm nothing.
  return sendCampaignMessage(deps, id, () => (booking.state === 'booked' ? bookingConfirmationText(details) : bookingCancellationText(details)), now, { ...scope, capExempt: true });
}
