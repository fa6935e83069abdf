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
