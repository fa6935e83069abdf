import * as z from 'zod';
import { instantInShanghai } from './time.js';

/**
 * What EventBridge Scheduler sends to the due-scan function. The stack writes it and the handler
 * parses it with this one schema, so producer and consumer cannot drift apart.
 */
export const dueScanPayloadSchema = z
  .object({
    kind: z.literal('dueScan'),
    /** Run "as of" this instant instead of the invocation time (replays, tests). */
    now: z
      .string()
      .refine((s) => instantInShanghai(s).isValid, 'not an ISO-8601 instant')
      .optional(),
  })
  .strict();

export type DueScanPayload = z.infer<typeof dueScanPayloadSchema>;

export const RECURRING_DUE_SCAN_PAYLOAD = { kind: 'dueScan' } as const satisfies DueScanPayload;

/** The daily retention purge, run by the same function as the scan (see app/purge-expired.ts). */
export const retentionPurgePayloadSchema = z.object({ kind: z.literal('retentionPurge') }).strict();

export type RetentionPurgePayload = z.infer<typeof retentionPurgePayloadSchema>;

export const DAILY_RETENTION_PURGE_PAYLOAD = { kind: 'retentionPurge' } as const satisfies RetentionPurgePayload;

/** The daily copy of the SMS provider's opt-out list into ours, run by the same function (see app/suppressions/). */
export const providerOptOutsPayloadSchema = z.object({ kind: z.literal('providerOptOuts') }).strict();

export type ProviderOptOutsPayload = z.infer<typeof providerOptOutsPayloadSchema>;

export const DAILY_PROVIDER_OPT_OUTS_PAYLOAD = { kind: 'providerOptOuts' } as const satisfies ProviderOptOutsPayload;

/**
 * The backfill of the `byTownshipType` keys on certificates stored before that index existed, run by the
 * same function as the scan, at night until it is done (see app/backfill-township-type-index.ts).
 */
export const indexBackfillPayloadSchema = z.object({ kind: z.literal('indexBackfill') }).strict();

export type IndexBackfillPayload = z.infer<typeof indexBackfillPayloadSchema>;

export const NIGHTLY_INDEX_BACKFILL_PAYLOAD = { kind: 'indexBackfill' } as const satisfies IndexBackfillPayload;

/** Everything the scan function is invoked with, told apart by `kind`. */
export const scanFunctionPayloadSchema = z.discriminatedUnion('kind', [dueScanPayloadSchema, retentionPurgePayloadSchema, providerOptOutsPayloadSchema, indexBackfillPayloadSchema]);

/**
 * What a campaign's one-off schedule carries (EventBridge Scheduler on AWS, the in-process scheduler
 * locally): which visit, and which of its jobs. The job reads everything else from the store when it
 * runs, so a visit moved after scheduling is sent with its current date and place.
 */
export const campaignJobPayloadSchema = z
  .object({
    kind: z.literal('campaignJob'),
    campaignId: z.string().min(1).max(64),
    visitId: z.string().min(1).max(64),
    /**
     * `notice`: the booking notice to every recipient; `reminder`: the day-before reminder to booked
     * holders; `moved` / `cancelled`: the short SMS to booked holders after a move or a cancellation,
     * sent from a job rather than the request so that they keep to the send window and the SMS rate.
     */
    job: z.enum(['notice', 'reminder', 'moved', 'cancelled']),
  })
  .strict();

export type CampaignJobPayload = z.infer<typeof campaignJobPayloadSchema>;
export type CampaignJobKind = CampaignJobPayload['job'];
