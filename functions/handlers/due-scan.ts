import type { Context } from 'aws-lambda';
import { emitMetrics } from '../adapters/aws/emf-metrics.js';
import { scanFunctionPayloadSchema, type IndexBackfillPayload, type ProviderOptOutsPayload, type RetentionPurgePayload } from '../core/schedule-payloads.js';
import { backfillTownshipTypeIndex, type IndexBackfillResult } from '../app/backfill-township-type-index.js';
import { purgeExpired, type PurgeResult } from '../app/purge-expired.js';
import { runScheduledScan, type ScheduledScanResult } from '../app/scheduled-scan.js';
import { calendarDeps, indexBackfillDeps, lambdaDeps, providerOptOutDeps, purgeDeps, ruleDeps } from './runtime.js';
import { copyProviderOptOuts, type ProviderOptOutsResult } from '../app/suppressions/provider-opt-outs.js';
import { instantInShanghai } from '../core/time.js';

/** Leave this much of the invocation for saving the purge's (or the backfill's) progress and returning. */
const PURGE_MARGIN_MS = 30_000;

type Invocation = Pick<Context, 'getRemainingTimeInMillis'>;

/** EventBridge Scheduler → one due scan (or the daily retention purge, the daily copy of SNS's opt-out list, or the nightly index backfill), bounded by the invocation's remaining time. */
export async function handler(event: RetentionPurgePayload, context: Invocation): Promise<PurgeResult>;
/** The daily copy of SNS's opt-out list into the suppression list. */
export async function handler(event: ProviderOptOutsPayload, context: Invocation): Promise<ProviderOptOutsResult>;
/** The nightly backfill of the `byTownshipType` keys: continues from its saved progress, a no-op once done. */
export async function handler(event: IndexBackfillPayload, context: Invocation): Promise<IndexBackfillResult>;
/** The recurring schedule's payload (`{"kind": "dueScan"}`), as Scheduler delivers it: unparsed. */
export async function handler(event: unknown, context: Invocation): Promise<ScheduledScanResult>;
export async function handler(event: unknown, context: Invocation): Promise<ScheduledScanResult | PurgeResult | ProviderOptOutsResult | IndexBackfillResult> {
  const payload = scanFunctionPayloadSchema.parse(event);
  if (payload.kind === 'providerOptOuts') {
    const deps = providerOptOutDeps();
    const result = await copyProviderOptOuts(deps, deps.clock.now());
    emitMetrics({ ProviderOptOutsAdded: result.added });
    return result;
  }
  if (payload.kind === 'indexBackfill') {
    const deps = indexBackfillDeps();
    const now = deps.clock.now();
    const result = await backfillTownshipTypeIndex(deps, now, { stopAtMs: now.toMillis() + context.getRemainingTimeInMillis() - PURGE_MARGIN_MS });
    emitMetrics({ IndexKeysBackfilled: result.updated });
    return result;
  }
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
