import type { DateTime } from 'luxon';
import { bookingHelpText, slotFullText, type ReplyText } from '../../core/campaigns/booking-texts.js';
import { foldInboundText, parseInboundSms } from '../../core/campaigns/inbound.js';
import { PermanentSendError, RetryableSendError } from '../../core/errors.js';
import { ZONE } from '../../core/model.js';
import { maskPhone, normaliseMainlandMobile } from '../../core/phone.js';
import type { BookingCodeRecord } from '../../core/campaigns/model.js';
import { BookingNotFound, BookingRefused, bookSlot, cancelBooking, type BookingDeps } from '../campaigns/bookings.js';
import { confirmBooking, type BookingMessageDeps } from '../campaigns/booking-messages.js';
import type { CampaignSendOutcome } from '../campaigns/send-campaign-message.js';
import { takeDailySlot } from '../daily-send-slot.js';
import { optOut, type OptOutResult } from './opt-out.js';

export interface InboundSms {
  /** The sender as the carrier reports it (E.164 on SNS; any usual mainland form is accepted). */
  from: string;
  text: string;
  /** When the carrier received it; the day of the once-a-day help reply is counted from it. */
  receivedAt: DateTime;
}

/** The campaign services (their store finds codes, visits and campaigns), the bookings, and the SMS sender. */
export type InboundDeps = Omit<BookingDeps, 'campaigns'> & BookingMessageDeps;

export type InboundOutcome =
  | { action: 'booked' | 'moved' | 'unchanged'; campaignId: string; bookingId: string; slot: number; confirmation: CampaignSendOutcome | 'unchanged' }
  | { action: 'cancelled'; campaignId: string; bookingId: string; confirmation: CampaignSendOutcome }
  | { action: 'full'; campaignId: string; reply: ReplyOutcome }
  /** An opt-out keyword: the number is on our suppression list, and got its one confirmation. */
  | ({ action: 'optedOut' } & OptOutResult)
  /** Not understood, or a code this phone does not hold: at most one help reply a day. */
  | { action: 'help'; reason: 'notUnderstood' | 'unknownCode' | 'notOwner' | 'refused'; reply: ReplyOutcome }
  /** A sender that is not a mainland mobile number: nothing is read and nothing is sent. */
  | { action: 'ignored'; reason: string };

/**
 * `skipped`: this phone already had that reply today; `suppressed`: the phone opted out, so no reply;
 * `capped`: it had the day's messages (the daily cap), so no reply.
 */
export type ReplyOutcome = 'sent' | 'skipped' | 'failed' | 'suppressed' | 'capped';

/** How long the once-a-day marker is kept: past the day, with room for clock skew. */
const REPLY_MARKER_DAYS = 3;

/**
 * One inbound SMS, whichever way it arrived (SNS two-way SMS on AWS, `POST /v1/inbound-sms` locally).
 * A reply names only what the sender's own code booked: anything about a code the sender does not
 * hold — whether it exists, whose it is — gets the same help text an unreadable message gets.
 */
export async function receiveInboundSms(deps: InboundDeps, message: InboundSms): Promise<InboundOutcome> {
  const phone = normaliseMainlandMobile(message.from);
  if (!phone.ok) return { action: 'ignored', reason: phone.reason };
  const from = phone.e164;
  const request = parseInboundSms(message.text);
  if (request.kind === 'optOut') return { action: 'optedOut', ...(await optOut(deps, from, foldInboundText(message.text), message.receivedAt)) };
  if (request.kind === 'other') return help(deps, from, message.receivedAt, 'notUnderstood');
  const holders = await codeHolders(deps, request.code);
  if (holders.length === 0) return help(deps, from, message.receivedAt, 'unknownCode');
  // The newest campaign that gave this phone the code; a stranger's guess finds none.
  const own = holders.find((h) => h.phone === from);
  if (own === undefined) {
    deps.logger.warn({ from: maskPhone(from), kind: request.kind }, 'inbound SMS names a booking code the sender does not hold');
    return help(deps, from, message.receivedAt, 'notOwner');
  }
  const { campaignId } = own;
  try {
    if (request.kind === 'book') {
      const result = await bookSlot(deps, campaignId, { code: request.code, slot: request.slot }, message.receivedAt);
      const confirmation = result.changed ? await confirmBooking(deps, result, message.receivedAt) : 'unchanged';
      return {
        action: !result.changed ? 'unchanged' : result.movedFrom !== undefined ? 'moved' : 'booked',
        campaignId,
        bookingId: result.booking.bookingId,
        slot: result.booking.slot,
        confirmation,
      };
    }
    const result = await cancelBooking(deps, campaignId, request.code, message.receivedAt);
    return { action: 'cancelled', campaignId, bookingId: result.booking.bookingId, confirmation: await confirmBooking(deps, result, message.receivedAt) };
  } catch (error) {
    if (error instanceof BookingRefused && error.refusal.reason === 'full') {
      const text = slotFullText(request.code, request.kind === 'book' ? request.slot : 0, error.refusal.rooms);
      return { action: 'full', campaignId, reply: await replyOncePerDay(deps, from, message.receivedAt, 'full', text) };
    }
    if (error instanceof BookingRefused || error instanceof BookingNotFound) return help(deps, from, message.receivedAt, 'refused');
    // BookingContended and store failures propagate: nothing was written, so the transport may deliver the SMS again.
    throw error;
  }
}

/**
 * The campaigns, newest first, that gave out this code. A code is unique within a campaign, not
 * across campaigns, and an SMS names no campaign; there are a few campaigns a year, so each is asked.
 */
async function codeHolders(deps: InboundDeps, code: string): Promise<BookingCodeRecord[]> {
  const campaigns = await deps.campaigns.store.listCampaigns();
  const found = await Promise.all(campaigns.map((campaign) => deps.campaigns.store.getBookingCode(campaign.id, code)));
  return found.filter((record): record is BookingCodeRecord => record !== undefined);
}

async function help(deps: InboundDeps, from: string, receivedAt: DateTime, reason: 'notUnderstood' | 'unknownCode' | 'notOwner' | 'refused'): Promise<InboundOutcome> {
  return { action: 'help', reason, reply: await replyOncePerDay(deps, from, receivedAt, 'help', bookingHelpText()) };
}

/**
 * A reply that is not about a booking of the sender's own: claimed per phone, day and topic before it
 * is sent, so a burst of messages (or two arriving at once) costs one SMS a day, not one each.
 */
async function replyOncePerDay(deps: InboundDeps, to: string, receivedAt: DateTime, topic: string, text: ReplyText): Promise<ReplyOutcome> {
  const day = receivedAt.setZone(ZONE).toISODate() ?? '';
  const keepUntil = Math.floor(receivedAt.plus({ days: REPLY_MARKER_DAYS }).toSeconds());
  if (!(await deps.bookings.claimDailyReply(to, day, topic, keepUntil))) return 'skipped';
  if (await replyIsSuppressed(deps, to)) return 'suppressed';
  // A help text held back a day would answer a question no longer asked: over the cap, it is not sent at all.
  const slot = await takeDailySlot(deps, to, receivedAt);
  if (!slot.taken) {
    deps.logger.info({ to: maskPhone(to), topic }, 'reply to an inbound SMS not sent: the sender had the day’s messages');
    return 'capped';
  }
  try {
    await deps.sms.send({ to, body: text.body, idempotencyKey: `reply#${to}#${day}#${topic}`, at: receivedAt.toISO() ?? '' });
    return 'sent';
  } catch (error) {
    // The day's marker stays: a help text is not worth a second try that could become a second SMS.
    if (error instanceof RetryableSendError || error instanceof PermanentSendError) {
      await slot.giveBack();
      deps.logger.warn({ to: maskPhone(to), topic, err: error.message }, 'reply to an inbound SMS not sent');
      return 'failed';
    }
    throw error;
  }
}

/** Right after the day's claim: a number that opted out gets no reply, not even the help text. */
async function replyIsSuppressed(deps: InboundDeps, to: string): Promise<boolean> {
  if (deps.suppressions === undefined || !(await deps.suppressions.isSuppressed(to))) return false;
  deps.logger.info({ to: maskPhone(to) }, 'reply to an inbound SMS not sent: the number opted out');
  return true;
}
