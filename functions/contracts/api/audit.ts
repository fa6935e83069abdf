import * as z from 'zod';
import { instant, pageOf } from './common.js';

/** An entry of `GET /v1/audit`, newest first. */
export const auditEntryContract = z.object({
  id: z.string(),
  at: instant,
  actor: z.string(),
  role: z.string(),
  action: z.string(),
  target: z.string(),
  summary: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

export const auditPageContract = pageOf(auditEntryContract);
