import * as z from 'zod';
import { instant } from './common.js';

export const tokenRole = z.enum(['operator', 'bureau', 'viewer']);

/** `POST /v1/tokens` (201): the token itself is shown this once. */
export const issuedTokenContract = z.object({
  id: z.string(),
  token: z.string(),
  role: tokenRole,
  authority: z.string().optional(),
});

/** An item of `GET /v1/tokens`: never the token or its hash. */
export const tokenContract = z.object({
  id: z.string(),
  role: tokenRole,
  authority: z.string().optional(),
  label: z.string().optional(),
  createdAt: instant,
  createdBy: z.string(),
  revokedAt: instant.optional(),
  revoked: z.boolean(),
});

export const tokenListContract = z.array(tokenContract);

/** `DELETE /v1/tokens/{id}`. */
export const revokedTokenContract = z.object({ id: z.string(), revoked: z.literal(true) });
