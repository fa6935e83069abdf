import * as z from 'zod';
import type { Principal } from '../core/access.js';

/**
 * The principal named by claims a JWT authorizer already verified. The identity provider puts the
 * role and the authority in custom claims (Cognito prefixes them with `custom:`; others need not).
 */
const claimsSchema = z.object({
  sub: z.string().min(1),
  role: z.enum(['operator', 'bureau', 'viewer']),
  authority: z.string().min(1).optional(),
});

export function principalFromClaims(claims: Record<string, unknown> | undefined): Principal | undefined {
  if (claims === undefined) return undefined;
  const pick = (name: string) => claims[`custom:${name}`] ?? claims[name] ?? claims[`certalarm:${name}`];
  const parsed = claimsSchema.safeParse({ sub: claims.sub, role: pick('role'), authority: pick('authority') });
  if (!parsed.success) return undefined;
  const { sub, role, authority } = parsed.data;
  // A bureau claim without its authority is unusable, never a wildcard.
  if (role === 'bureau' && authority === undefined) return undefined;
  return { role, subject: `jwt:${sub}`, ...(role === 'bureau' ? { authority } : {}) };
}
