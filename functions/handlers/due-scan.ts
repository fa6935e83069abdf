import type { Context } from 'aws-lambda';
import { DateTime } from 'luxon';
import { ZONE } from '../core/model.js';
import { emitMetrics } from '../adapters/aws/emf-metrics.js';
import { dueScanPayloadSchema } from '../app/schedule-payloads.js';
import { runScheduledScan, type ScheduledScanResult } from '../app/scheduled-scan.js';
import { continueCalendarReplans } from '../app/calendar/load-calendar.js';
import { logCalendarWarnings } from '../app/calendar/stored-calendar.js';
import { continueRuleReplans } from '../app/rules/change-rule.js';
import { calendarDeps, lambdaDeps, ruleDeps } from './runtime.js';
import { instantInShanghai } from '../core/time.js';

/** Leave this much of the invocation for recording the last sends and returning. */
const SAFETY_MARGIN_MS = 30_000;
/** A calendar load's re-plan that outgrew its API request continues here, a minute per run at most. */
const REPLAN_BUDGET_MS = 60_000;

/** EventBridge Scheduler → one due scan, bounded by the invocation's remaining time. */
export async function handler(event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<ScheduledScanResult> {
  const payload = dueScanPayloadSchema.parse(event);
  const calendar = calendarDeps();
  // Plans must be on the loaded calendar before their reminders go out; a failure here must not stop the scan.
  try {
    await continueCalendarReplans(calendar, { stopAtMs: Date.now() + Math.min(REPLAN_BUDGET_MS, context.getRemainingTimeInMillis() / 4) });
    await logCalendarWarnings(calendar.calendarSource, calendar.clock, calendar.logger);
  } catch (error) {
    calendar.logger.error({ err: (error as Error).message }, 'calendar re-plan or check failed; the next run retries');
  }
  // Likewise a rule change's re-plan that outgrew its request: the new stages are planned before the scan sends.
  try {
    await continueRuleReplans(ruleDeps(), { stopAtMs: Date.now() + Math.min(REPLAN_BUDGET_MS, context.getRemainingTimeInMillis() / 4) });
  } catch (error) {
    calendar.logger.error({ err: (error as Error).message }, 'rule re-plan failed; the next run retries');
  }
  const now = payload.now === undefined ? DateTime.now().setZone(ZONE) : instantInShanghai(payload.now);
  const result = await runScheduledScan(lambdaDeps(), now, { stopAtMs: Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS });
  emitMetrics({
    RemindersSent: result.sent,
    RemindersFailed: result.failed,
    RemindersRetryLater: result.retryLater,
    UnsentAtWindowClose: result.unsentAtWindowClose,
  });
  return result;
}
