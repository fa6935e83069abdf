import type { Context } from 'aws-lambda';
import { emitMetrics } from '../adapters/aws/emf-metrics.js';
import { scanFunctionPayloadSchema, type RetentionPurgePayload } from '../core/schedule-payloads.js';
import { purgeExpired, type PurgeResult } from '../app/purge-expired.js';
import { runScheduledScan, type ScheduledScanResult } from '../app/scheduled-scan.js';
import { calendarDeps, lambdaDeps, purgeDeps, ruleDeps } from './runtime.js';
import { instantInShanghai } from '../core/time.js';

/** Leave this much of the invocation for saving the purge's progress and returning. */
const PURGE_MARGIN_MS = 30_000;

type Invocation = Pick<Context, 'getRemainingTimeInMillis'>;

/** EventBridge Scheduler → one due scan (or the daily retention purge), bounded by the invocation's remaining time. */
export async function handler(event: RetentionPurgePayload, context: Invocation): Promise<PurgeResult>;
/** The recurring schedule's payload (`{"kind": "dueScan"}`), as Scheduler delivers it: unparsed. */
export async function handler(event: unknown, context: Invocation): Promise<ScheduledScanResult>;
export async function handler(event: unknown, context: Invocation): Promise<ScheduledScanResult | PurgeResult> {
  const payload = scanFunctionPayloadSchema.parse(event);
  if (payload.kind === 'retentionPurge') {
    const deps = purgeDeps();
    const now = deps.clock.now();
    const result = await purgeExpired(deps, now, { stopAtMs: now.toMillis() + context.getRemainingTimeInMillis() - PURGE_MARGIN_MS });
    emitMetrics({ CertificatesPurged: result.certificates, DeliveriesPurged: result.deliveries });
    return result;
  }
  const deps = { ...lambdaDeps(), ...calendarDeps(), ...ruleDeps() };
  // The invocation's remaining time becomes an instant on the composition's clock, once.
  const deadlineMs = deps.clock.now().toMillis() + context.getRemainingTimeInMillis();
  const result = await runScheduledScan(deps, { deadlineMs, ...(payload.now !== undefined ? { now: instantInShanghai(payload.now) } : {}) });
  emitMetrics({
    RemindersSent: result.sent,
    RemindersFailed: result.failed,
    RemindersRetryLater: result.retryLater,
    RemindersSuppressed: result.suppressed,
    RemindersDeferred: result.deferred,
    UnsentAtWindowClose: result.unsentAtWindowClose,
  });
  return result;
}
