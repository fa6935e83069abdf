import type { DateTime } from 'luxon';
import { nextSendableInstant } from '../core/planning.js';
import { continueCalendarReplans, type CalendarDeps } from './calendar/load-calendar.js';
import { logCalendarWarnings } from './calendar/stored-calendar.js';
import { continueRuleReplans, type RuleDeps } from './rules/change-rule.js';
import { sendDueReminders, type ScanDeps, type ScanResult } from './send-due-reminders.js';
import type { CampaignServices } from './campaigns/campaign-deps.js';
import { emptyDueCampaignJobsResult, runDueCampaignJobs, type DueCampaignJobsResult } from './campaigns/run-campaign-job.js';

/**
 * With the rule store, a rule change's re-plan that outgrew its request is finished here too; with the
 * campaigns, every campaign job the local scheduler holds that is due by the scan's instant runs too.
 */
export type ScheduledScanDeps = ScanDeps & CalendarDeps & Partial<Pick<RuleDeps, 'ruleStore' | 'typeCertificates'>> & { campaigns?: CampaignServices };

export interface ScheduledScanOptions {
  /** Scan as of this instant (a replay, a demo at night); by default the clock's, once the re-plan is done. */
  now?: DateTime;
  /** When the run must be over (a Lambda invocation's end), an instant on `deps.clock`; none locally. */
  deadlineMs?: number;
}

export interface ScheduledScanResult extends ScanResult {
  /** Due reminders still unsent after the last scan of the day's send window: the alarm's input. */
  unsentAtWindowClose: number;
  /** Campaign jobs (notices, day-before reminders, moved/cancelled SMS) due by the scan's instant; where campaigns are wired. */
  campaigns?: DueCampaignJobsResult;
}

/** Scans run every 15 minutes; a run this close to the window's end is the day's last chance. */
const SCAN_PERIOD_MINUTES = 15;
/** Leave this much before the deadline for recording the last sends and returning. */
const SAFETY_MARGIN_MS = 30_000;
/** A calendar load's re-plan that outgrew its API request continues here, a minute per run at most. */
const REPLAN_BUDGET_MS = 60_000;

/**
 * One due scan, as every entry point runs it (the Lambda scan function, the local scheduler and
 * `POST /v1/scans` run in the request): first the rest of any calendar or rule re-plan, so plans are on the
 * loaded calendar and the current rules before their reminders go out, and the calendar's warnings; then the scan; then a
 * count of what is left when no later run today can send it.
 */
export async function runScheduledScan(deps: ScheduledScanDeps, options: ScheduledScanOptions = {}): Promise<ScheduledScanResult> {
  // Budgets are instants on the clock, so leases and budget checks read that clock too.
  const onClock: ScheduledScanDeps = { ...deps, wallClock: () => deps.clock.now().toMillis() };
  const startedAtMs = deps.clock.now().toMillis();
  const remainingMs = options.deadlineMs === undefined ? Number.POSITIVE_INFINITY : options.deadlineMs - startedAtMs;
  // A failure here must not stop the scan.
  try {
    await continueCalendarReplans(onClock, { stopAtMs: startedAtMs + Math.min(REPLAN_BUDGET_MS, remainingMs / 4) });
    await logCalendarWarnings(deps.calendarSource, deps.clock, deps.logger);
  } catch (error) {
    deps.logger.error({ err: (error as Error).message }, 'calendar re-plan or check failed; the next run retries');
  }
  // Likewise a rule change's re-plan: the new stages are planned before the scan sends.
  const { ruleStore, rules, typeCertificates } = onClock;
  if (ruleStore !== undefined && rules !== undefined && typeCertificates !== undefined) {
    try {
      await continueRuleReplans({ ...onClock, ruleStore, rules, typeCertificates }, { stopAtMs: deps.clock.now().toMillis() + Math.min(REPLAN_BUDGET_MS, remainingMs / 4) });
    } catch (error) {
      deps.logger.error({ err: (error as Error).message }, 'rule re-plan failed; the next run retries');
    }
  }
  const now = options.now ?? deps.clock.now();
  const result = await sendDueReminders(onClock, now, options.deadlineMs === undefined ? {} : { stopAtMs: options.deadlineMs - SAFETY_MARGIN_MS });
  let unsentAtWindowClose = 0;
  const nextRun = now.plus({ minutes: SCAN_PERIOD_MINUTES });
  const lastRunOfWindow = result.insideSendWindow && nextSendableInstant(nextRun, deps.settings.sendWindow).toMillis() > nextRun.toMillis();
  if (lastRunOfWindow) {
    for await (const _ of deps.store.dueCertificates(now)) unsentAtWindowClose += 1;
    // The daily cap's deferrals stay due by design (they go out tomorrow); this last run counted every one of them.
    unsentAtWindowClose = Math.max(0, unsentAtWindowClose - result.deferred);
  }
  if (unsentAtWindowClose > 0) deps.logger.warn({ now: result.now, unsentAtWindowClose }, 'due reminders left unsent at the send window’s close');
  if (onClock.campaigns === undefined) return { ...result, unsentAtWindowClose };
  let campaigns = emptyDueCampaignJobsResult();
  // A campaign's failure must not undo the reminders' answer; its jobs stay stored and the next scan retries them.
  try {
    campaigns = await runDueCampaignJobs({ ...onClock, campaigns: onClock.campaigns }, now);
  } catch (error) {
    deps.logger.error({ err: (error as Error).message }, 'campaign jobs failed; the next scan retries');
  }
  return { ...result, unsentAtWindowClose, campaigns };
}
