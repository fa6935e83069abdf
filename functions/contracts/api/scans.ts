import * as z from 'zod';
import { instant } from './common.js';

const count = z.number().int();

/** Campaign jobs a scan ran (notices, day-before reminders, moved/cancelled SMS), where campaigns are wired. */
const campaignJobsRun = z.object({
  jobs: count,
  done: count,
  kept: count,
  sent: count,
  alreadySent: count,
  retryLater: count,
  failed: count,
  deferred: count,
  suppressed: count,
});

/** `POST /v1/scans` (200): what one scan sent, skipped and left for the next. */
export const scanResultContract = z.object({
  now: instant,
  insideSendWindow: z.boolean(),
  sent: count,
  superseded: count,
  alreadySent: count,
  inFlightElsewhere: count,
  retryLater: count,
  failed: count,
  errors: count,
  disabled: count,
  revoked: count,
  suppressed: count,
  deferred: count,
  merged: count,
  mergedMessages: count,
  incomplete: z.boolean(),
  campaigns: campaignJobsRun.optional(),
});

/** `POST /v1/scans` (202) on AWS: the scan function was asked to run. */
export const scanQueuedContract = z.object({ queued: z.literal(true), now: instant.nullable() });

/** `POST /v1/scans` with `dryRun: true`: what a scan would send; nothing is claimed, sent or recorded. */
export const scanPreviewContract = z.object({
  now: instant,
  insideSendWindow: z.boolean(),
  dryRun: z.literal(true),
  messages: z.array(
    z.object({
      type: z.string(),
      number: z.string(),
      stage: z.string(),
      to: z.string(),
      body: z.string(),
      segments: z.number().int(),
      supersedes: z.array(z.string()),
      refused: z.string().optional(),
      suppressed: z.literal(true).optional(),
      mergedWith: z.array(z.string()).optional(),
      deferred: z.literal(true).optional(),
    }),
  ),
});

/** Any answer of `POST /v1/scans`: a dry run's preview, a queued scan (AWS) or a scan's result. */
export const scanAnswerContract = z.union([scanPreviewContract, scanQueuedContract, scanResultContract]);

/** `POST /v1/purges`: certificates and deliveries past the retention period, removed or (dry run) counted. */
export const purgeResultContract = z.object({
  dryRun: z.boolean(),
  retentionYears: z.number().int(),
  cutoff: z.string(),
  state: z.enum(['running', 'done']),
  certificates: count,
  deliveries: count,
  keptRenewed: count,
  byType: z.record(z.string(), count).optional(),
});
