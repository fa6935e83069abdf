import { DateTime } from 'luxon';
import * as z from 'zod';
import { mayTouchType, type Principal } from '../core/access.js';
import { MAX_NUMBER_LENGTH } from '../core/certificate.js';
import type { CertificateKey, CertificateRevoker, CertificateStore, ReplanMarks, StoredCertificate } from '../core/ports.js';
import { pendingStages, revocationFields, revokedPlan, type Revocation } from '../core/revocation.js';
import { auditPrincipal, recordAudit, type AuditDeps } from './audit.js';
import type { ReferenceData } from './reference-data.js';
import { beginTypeWrites } from './rules/type-writes.js';
import type { ServiceSettings } from './settings.js';

export interface RevokeDeps extends AuditDeps {
  store: CertificateStore;
  revoker: CertificateRevoker;
  reference: ReferenceData;
  /** With both, a revocation settles with a rule re-plan of its type (see rules/type-writes.ts). */
  replanMarks?: ReplanMarks;
  settings?: ServiceSettings;
}

/** Most items one bulk revocation may carry. */
export const MAX_REVOCATIONS_PER_REQUEST = 1000;

export const revocationItemSchema = z
  .object({
    type: z.string({ error: '需要证照类型 / type is required' }).min(1).max(200),
    number: z.string({ error: '需要证照编号 / number is required' }).min(1).max(MAX_NUMBER_LENGTH, `证照编号最多 ${MAX_NUMBER_LENGTH} 个字符 / at most ${MAX_NUMBER_LENGTH} characters`),
    ...revocationFields,
  })
  .strict();

export type RevocationOutcome = 'revoked' | 'alreadyRevoked' | 'notFound' | 'forbidden' | 'invalid';

export interface RevocationItemResult {
  index: number;
  type?: string;
  number?: string;
  outcome: RevocationOutcome;
  /** Why it was not revoked (`notFound`, `forbidden`, `invalid`), in Chinese and English. */
  reason?: string;
  /** For `invalid`: each bad field. */
  errors?: Array<{ field: string; reason: string }>;
  revoked?: Revocation;
  /**
   * Stages a scan had claimed before the revocation was written: that one message may still go out
   * (it was under way); nothing after it will.
   */
  inFlight?: string[];
}

export interface RevocationReport {
  revoked: number;
  alreadyRevoked: number;
  notRevoked: number;
  results: RevocationItemResult[];
}

/**
 * Revoke each item the caller may touch: its record is kept and marked, its pending reminders stop at
 * once. Every item gets a result, as an upload reports every row; one bad item never stops the others.
 */
export async function revokeCertificates(deps: RevokeDeps, principal: Principal, items: readonly unknown[], now: DateTime): Promise<RevocationReport> {
  const report: RevocationReport = { revoked: 0, alreadyRevoked: 0, notRevoked: 0, results: [] };
  for (const [index, item] of items.entries()) {
    const result = await revokeOne(deps, principal, index, item, now);
    report.results.push(result);
    if (result.outcome === 'revoked') report.revoked += 1;
    else if (result.outcome === 'alreadyRevoked') report.alreadyRevoked += 1;
    else report.notRevoked += 1;
  }
  return report;
}

async function revokeOne(deps: RevokeDeps, principal: Principal, index: number, item: unknown, now: DateTime): Promise<RevocationItemResult> {
  const parsed = revocationItemSchema.safeParse(item);
  const named = item !== null && typeof item === 'object' ? (item as { type?: unknown; number?: unknown }) : {};
  const label = { ...(typeof named.type === 'string' ? { type: named.type } : {}), ...(typeof named.number === 'string' ? { number: named.number } : {}) };
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(item)', reason: i.message }));
    return { index, ...label, outcome: 'invalid', reason: errors.map((e) => `${e.field}: ${e.reason}`).join('; '), errors };
  }
  const { reason, comment } = parsed.data;
  const type = deps.reference.catalogue.resolve(parsed.data.type);
  if (type === undefined) {
    return { index, ...label, outcome: 'notFound', reason: `未知的证照类型 "${parsed.data.type}" / unknown certificate type "${parsed.data.type}"; see GET /v1/catalogue` };
  }
  const key: CertificateKey = { type: type.code, number: parsed.data.number };
  const decision = mayTouchType(principal, type.code, type.authority);
  if (!decision.allowed) return { index, ...key, outcome: 'forbidden', reason: decision.reason };
  const revocation: Revocation = { reason, comment, at: now.toUTC().toISO() ?? '', by: principal.subject };
  const done = await revokeStored(deps, key, revocation);
  if (done === undefined) return { index, ...key, outcome: 'notFound', reason: `没有编号为 "${key.number}" 的 ${key.type} 证照 / no ${key.type} certificate numbered "${key.number}"` };
  if (done.already) return { index, ...key, outcome: 'alreadyRevoked', ...(done.stored.revoked !== undefined ? { revoked: done.stored.revoked } : {}) };
  await recordAudit(deps, auditPrincipal(principal), {
    action: 'certificate.revoke',
    target: `certificate/${key.type}/${key.number}`,
    summary: `${reason} ${key.type} ${key.number}：${comment} / revoked (${reason}): ${comment}`,
    details: { reason, comment, stopped: done.stopped, ...(done.inFlight.length > 0 ? { inFlight: done.inFlight } : {}) },
  });
  return { index, ...key, outcome: 'revoked', revoked: revocation, ...(done.inFlight.length > 0 ? { inFlight: done.inFlight } : {}) };
}

/** Marks the stored certificate revoked, reading it again whenever another writer got there first. */
async function revokeStored(
  deps: RevokeDeps,
  key: CertificateKey,
  revocation: Revocation,
): Promise<{ already: true; stored: StoredCertificate } | { already: false; stopped: string[]; inFlight: string[] } | undefined> {
  const inFlight: string[] = [];
  // A re-plan's unconditional write could put back the record from before the revocation: see rules/type-writes.ts.
  const settings = deps.settings;
  const typeWrites = settings === undefined ? undefined : await beginTypeWrites({ ...deps, settings }, [key.type]);
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const stored = await deps.store.getCertificate(key);
    if (stored === undefined) return undefined;
    if (stored.revoked !== undefined) return { already: true, stored };
    const stopped = pendingStages(stored.plan);
    const expiresOn = stored.certificate.expiresOn;
    const cancel = expiresOn === null ? undefined : { expiresOn, stages: stopped.filter((s) => !inFlight.includes(s)) };
    const plan = revokedPlan(stored.plan);
    const outcome = await deps.revoker.revokeCertificate(key, stored.version, { plan, revoked: revocation, updatedAt: revocation.at }, cancel);
    if (outcome.written) {
      const written: StoredCertificate = { ...stored, plan, revoked: revocation, version: stored.version + 1, updatedAt: revocation.at };
      await typeWrites?.settle([written], deps.reference.calendar, DateTime.fromISO(revocation.at, { setZone: true }));
      return { already: false, stopped, inFlight };
    }
    if (outcome.conflict === 'claimed') inFlight.push(...outcome.claimed);
  }
  throw new Error(`${key.type} ${key.number} kept changing while it was being revoked; try again`);
}
