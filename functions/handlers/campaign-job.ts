import { emitMetrics } from '../adapters/aws/emf-metrics.js';
import { onlyDeferredLeft, runCampaignJob, type CampaignJobResult } from '../app/campaigns/run-campaign-job.js';
import { scheduleJobContinuation } from '../app/campaigns/visit-jobs.js';
import { campaignJobPayloadSchema } from '../core/schedule-payloads.js';
import { campaignJobContinuations, campaignJobDeps } from './runtime.js';

/** A job left messages for later and could not schedule its continuation: failing lets Lambda run it again, and the errors alarm tells an operator. */
export class CampaignJobIncompleteError extends Error {
  override readonly name = 'CampaignJobIncompleteError';
}

/** The part of Lambda's context the job reads: its own ARN, the target of its continuation. */
export interface CampaignJobContext {
  invokedFunctionArn?: string;
}

/**
 * EventBridge Scheduler (a visit's one-off schedule) → one campaign job: notice, reminder, moved or
 * cancelled SMS. A job that stops with messages unsent (the send window closed, a throttled provider, a
 * claim held elsewhere) schedules itself again rather than failing.
 */
export async function handler(event: unknown, context?: CampaignJobContext): Promise<CampaignJobResult & { continuesAt?: string }> {
  const payload = campaignJobPayloadSchema.parse(event);
  const deps = campaignJobDeps();
  const result = await runCampaignJob(deps, payload);
  emitMetrics({ CampaignMessagesSent: result.sent, CampaignMessagesFailed: result.failed, CampaignMessagesRetryLater: result.retryLater + result.errors, CampaignMessagesSuppressed: result.suppressed, CampaignMessagesDeferred: result.deferred }, { job: payload.job });
  if (result.outcome !== 'incomplete') return result;
  const unsent = `campaign job ${payload.job} of visit ${payload.visitId} left messages unsent (${result.reason ?? `${result.retryLater} to retry, ${result.errors} errors`})`;
  const continuations = campaignJobContinuations();
  if (continuations === undefined || context?.invokedFunctionArn === undefined) throw new CampaignJobIncompleteError(unsent);
  // Every message is claimed before it is sent, so the continuation sends only what is still unsent.
  const at = await scheduleJobContinuation({ ...continuations, targetArn: context.invokedFunctionArn }, payload, deps.clock.now(), deps.settings.sendWindow, {
    nextDay: onlyDeferredLeft(result),
  });
  const continuesAt = at.toISO() ?? '';
  deps.logger.info({ job: payload.job, campaignId: payload.campaignId, visitId: payload.visitId, continuesAt }, `${unsent}; it runs again at ${continuesAt}`);
  return { ...result, continuesAt };
}
