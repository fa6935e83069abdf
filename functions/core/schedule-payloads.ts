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

/** Everything the scan function is invoked with, told apart by `kind`. */
export const scanFunctionPayloadSchema = z.discriminatedUnion('kind', [dueScanPayloadSchema, retentionPurgePayloadSchema]);
