import type { Context } from 'aws-lambda';
import { emitMetrics } from '../adapters/aws/emf-metrics.js';
import { dueScanPayloadSchema } from '../core/schedule-payloads.js';
import { runScheduledScan, type ScheduledScanResult } from '../app/scheduled-scan.js';
import { calendarDeps, lambdaDeps, ruleDeps } from './runtime.js';
import { instantInShanghai } from '../core/time.js';

/** EventBridge Scheduler → one due scan, bounded by the invocation's remaining time. */
export async function handler(event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<ScheduledScanResult> {
  const payload = dueScanPayloadSchema.parse(event);
  const deps = { ...lambdaDeps(), ...calendarDeps(), ...ruleDeps() };
  // The invocation's remaining time becomes an instant on the composition's clock, once.
  const deadlineMs = deps.clock.now().toMillis() + context.getRemainingTimeInMillis();
  const result = await runScheduledScan(deps, { deadlineMs, ...(payload.now !== undefined ? { now: instantInShanghai(payload.now) } : {}) });
  emitMetrics({
    RemindersSent: result.sent,
    RemindersFailed: result.failed,
    RemindersRetryLater: result.retryLater,
    UnsentAtWindowClose: result.unsentAtWindowClose,
  });
  return result;
}
