import { emitMetrics } from '../adapters/aws/emf-metrics.js';
import { runCampaignJob, type CampaignJobResult } from '../app/campaigns/run-campaign-job.js';
import { campaignJobPayloadSchema } from '../core/schedule-payloads.js';
import { campaignJobDeps } from './runtime.js';

/** A job left messages for later: failing the invocation lets Lambda run it again, and the errors alarm tells an operator. */
export class CampaignJobIncompleteError extends Error {
  override readonly name = 'CampaignJobIncompleteError';
}

/** EventBridge Scheduler (a visit's one-off schedule) → one campaign job: notice, reminder, moved or cancelled SMS. */
export async function handler(event: unknown): Promise<CampaignJobResult> {
  const payload = campaignJobPayloadSchema.parse(event);
  const result = await runCampaignJob(campaignJobDeps(), payload);
  emitMetrics({ CampaignMessagesSent: result.sent, CampaignMessagesFailed: result.failed, CampaignMessagesRetryLater: result.retryLater + result.errors }, { job: payload.job });
  if (result.outcome === 'incomplete') {
    // Every message is claimed before it is sent, so running the job again sends only what is still unsent.
    throw new CampaignJobIncompleteError(`campaign job ${payload.job} of visit ${payload.visitId} left messages unsent (${result.reason ?? `${result.retryLater} to retry, ${result.errors} errors`})`);
  }
  return result;
}
