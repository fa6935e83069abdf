/**
 * One holder, one message a day: how many capped SMS a phone may get on one Asia/Shanghai calendar day,
 * and when a message the cap held back goes out instead. Pure: the count itself is kept by the
 * `DailySendCap` port (a conditional counter per phone and day).
 */
import type { DateTime } from 'luxon';
import type { IsoDate, SendWindow } from './model.js';
import { ZONE } from './model.js';
import { nextSendableInstant, todayIn } from './planning.js';

/** `CERTALARM_SMS_DAILY_CAP_PER_PHONE` when unset. */
export const DEFAULT_SMS_DAILY_CAP_PER_PHONE = 3;

/** The day a send at `now` counts against: the Asia/Shanghai calendar day, whatever the host's zone. */
export function capDayOf(now: DateTime): IsoDate {
  return todayIn(now);
}

/**
 * When a message held back by the cap at `now` goes out: the next Asia/Shanghai day, as soon as the
 * send window opens. Earlier would only meet the same full cap again.
 */
export function nextCapDayOpening(now: DateTime, window: SendWindow): DateTime {
  return nextSendableInstant(now.setZone(ZONE).startOf('day').plus({ days: 1 }), window);
}

/**
 * May a record held back on `deferredOn` be claimed again on `today`? Only from the next day: the
 * same day's cap is still full, and claiming it again would only defer it again.
 */
export function deferralEnded(deferredOn: IsoDate, today: IsoDate): boolean {
  return deferredOn < today;
}
