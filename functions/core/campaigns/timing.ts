import { DateTime } from 'luxon';
import type { IsoDate, SendWindow } from '../model.js';
import { ZONE } from '../model.js';
import { addDays, nextSendableInstant } from '../planning.js';

/** Notices and reminders go out at this time of day, or at the first moment of the send window after it. */
export const CAMPAIGN_SEND_TIME = '09:00';

/**
 * When a message due `daysBefore` days before a visit goes out: 09:00 on that day (Asia/Shanghai), or
 * the first moment inside the send window after it. Never before `now`: a visit created or moved
 * closer than that is notified at the next sendable moment instead of never.
 */
export function campaignSendInstant(visitDate: IsoDate, daysBefore: number, window: SendWindow, now: DateTime): DateTime {
  const planned = DateTime.fromISO(`${addDays(visitDate, -daysBefore)}T${CAMPAIGN_SEND_TIME}`, { zone: ZONE });
  const from = planned.toMillis() < now.toMillis() ? now.setZone(ZONE) : planned;
  return nextSendableInstant(from, window);
}

export interface VisitInstants {
  noticeAt: DateTime;
  reminderAt: DateTime;
}

/** The booking notice's and the day-before reminder's instants for a visit on `visitDate`. */
export function visitInstants(
  visitDate: IsoDate,
  campaign: { noticeDaysBefore: number; reminderDaysBefore: number },
  window: SendWindow,
  now: DateTime,
): VisitInstants {
  return {
    noticeAt: campaignSendInstant(visitDate, campaign.noticeDaysBefore, window, now),
    reminderAt: campaignSendInstant(visitDate, campaign.reminderDaysBefore, window, now),
  };
}
