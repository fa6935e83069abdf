import type { DateTime } from 'luxon';
import { nextSendableInstant } from '../core/planning.js';
import { sendDueReminders, type ScanDeps, type ScanOptions, type ScanResult } from './send-due-reminders.js';

export interface ScheduledScanResult extends ScanResult {
  /** Due reminders still unsent after the last scan of the day's send window: the alarm's input. */
  unsentAtWindowClose: number;
}

/** Scans run every 15 minutes; a run this close to the window's end is the day's last chance. */
const SCAN_PERIOD_MINUTES = 15;

/** One scheduled run: the scan, plus a count of what is left when no later run today can send it. */
export async function runScheduledScan(deps: ScanDeps, now: DateTime, options: ScanOptions = {}): Promise<ScheduledScanResult> {
  const result = await sendDueReminders(deps, now, options);
  let unsentAtWindowClose = 0;
  const nextRun = now.plus({ minutes: SCAN_PERIOD_MINUTES });
  const lastRunOfWindow = result.insideSendWindow && nextSendableInstant(nextRun, deps.settings.sendWindow).toMillis() > nextRun.toMillis();
  if (lastRunOfWindow) {
    for await (const _ of deps.store.dueCertificates(now)) unsentAtWindowClose += 1;
  }
  return { ...result, unsentAtWindowClose };
}
