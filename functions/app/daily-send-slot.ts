import type { DateTime } from 'luxon';
import { capDayOf } from '../core/daily-cap.js';
import type { IsoDate } from '../core/model.js';
import type { DailySendCap } from '../core/ports.js';
import type { ServiceSettings } from './settings.js';

export interface DailySlotDeps {
  /** The per-phone daily counter; without one (a test, a tool), nothing is capped. */
  cap?: DailySendCap | undefined;
  settings: Pick<ServiceSettings, 'smsDailyCapPerPhone'>;
}

/** A slot of the phone's daily cap: taken (give it back if nothing goes out), or every one already used. */
export type DailySlot = { taken: true; day: IsoDate; giveBack: () => Promise<void> } | { taken: false; day: IsoDate };

/**
 * Takes one of the phone's `CERTALARM_SMS_DAILY_CAP_PER_PHONE` slots for the Asia/Shanghai day of `now`.
 * Called after the message's claim (and its suppression check), so only a message that is ours to send
 * uses a slot. A process that dies between taking the slot and sending wastes that slot for the day: the
 * message is deferred at worst, never lost, and the counter expires on its own.
 */
export async function takeDailySlot(deps: DailySlotDeps, phone: string, now: DateTime): Promise<DailySlot> {
  const day = capDayOf(now);
  const { cap } = deps;
  if (cap === undefined) return { taken: true, day, giveBack: async () => undefined };
  if (!(await cap.take(phone, day, deps.settings.smsDailyCapPerPhone))) return { taken: false, day };
  return { taken: true, day, giveBack: () => cap.giveBack(phone, day) };
}
