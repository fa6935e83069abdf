import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import type { Principal } from '../core/access.js';
import type { TokenRecord, TokenStore } from '../core/ports.js';

/** The first operator's token lives under this id, whatever its text. */
export const ADMIN_TOKEN_ID = 'admin';

const TOKEN_FORMAT = /^ca_([a-z2-7]{10})_[A-Za-z0-9_-]{20,}$/;

/** The form of every issued token's id. */
export const TOKEN_ID = /^[a-z2-7]{10}$/;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function newId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return Array.from(randomBytes(10), (b) => alphabet[b % 32]).join('');
}

export function generateToken(id: string = newId()): { id: string; token: string } {
  return { id, token: `ca_${id}_${randomBytes(32).toString('base64url')}` };
}

/** Who presents this bearer token, if anyone: undefined for a missing, unknown or revoked token. */
export async function authenticateToken(store: TokenStore, token: string | undefined): Promise<Principal | undefined> {
  if (token === undefined || token === '') return undefined;
  // Issued tokens carry their id; the first operator's token may be any text (CERTALARM_ADMIN_TOKEN).
  const id = TOKEN_FORMAT.exec(token)?.[1];
  let record = id === undefined ? undefined : await store.getToken(id);
  if (record === undefined) record = await store.getToken(ADMIN_TOKEN_ID);
  if (record === undefined || record.revokedAt !== undefined) return undefined;
  const presented = Buffer.from(hashToken(token), 'hex');
  const expected = Buffer.from(record.hash, 'hex');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return undefined;
  return { role: record.role, subject: `token:${record.id}`, ...(record.authority !== undefined ? { authority: record.authority } : {}) };
}

export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

export const newTokenRequestSchema = z
  .object({
    role: z.enum(['operator', 'bureau', 'viewer']),
    authority: z.string().min(1).optional(),
    label: z.string().min(1).max(100).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.role === 'bureau' && value.authority === undefined) {
      ctx.addIssue({ code: 'custom', path: ['authority'], message: 'a bureau token needs the code of its issuing authority; see GET /v1/authorities' });
    }
    if (value.role !== 'bureau' && value.authority !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['authority'], message: 'only a bureau token belongs to an authority' });
    }
  });
export type NewTokenRequest = z.infer<typeof newTokenRequestSchema>;

export async function issueToken(
  store: TokenStore,
  request: NewTokenRequest,
  issuedBy: Principal,
  now: string,
): Promise<{ id: string; token: string; role: TokenRecord['role']; authority?: string }> {
  const { id, token } = generateToken();
  await store.putToken({
    id,
    hash: hashToken(token),
    role: request.role,
    ...(request.authority !== undefined ? { authority: request.authority } : {}),
    ...(request.label !== undefined ? { label: request.label } : {}),
    createdAt: now,
    createdBy: issuedBy.subject,
  });
  return { id, token, role: request.role, ...(request.authority !== undefined ? { authority: request.authority } : {}) };
}

/** A token as listed: never its hash. */
export function tokenView(record: TokenRecord) {
  const { hash: _hash, ...rest } = record;
  return { ...rest, revoked: record.revokedAt !== undefined };
}

/** Make `token` the first operator's token (replacing any earlier one). */
export async function installAdminToken(store: TokenStore, token: string, now: string): Promise<void> {
  const existing = await store.getToken(ADMIN_TOKEN_ID);
  if (existing !== undefined && existing.hash === hashToken(token) && existing.revokedAt === undefined) return;
  await store.putToken({ id: ADMIN_TOKEN_ID, hash: hashToken(token), role: 'operator', label: 'first operator', createdAt: now, createdBy: 'startup' });
}
