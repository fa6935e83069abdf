import * as z from 'zod';
import type { IsoInstant, Plan } from './model.js';
import { REVOKED_NOTE } from './model.js';

/**
 * A certificate its bureau ended before its expiry: 注销 (cancelled at the holder's request),
 * 吊销 (withdrawn as a penalty), 撤销 (annulled, issued in error) or 停业 (the business closed).
 * The record is kept, marked, until retention purges it; its reminders stop.
 */
export const REVOCATION_REASONS = ['注销', '吊销', '撤销', '停业'] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export interface Revocation {
  reason: RevocationReason;
  comment: string;
  at: IsoInstant;
  /** The principal's subject, as in the audit trail. */
  by: string;
}

/** Longest comment kept with a revocation; a longer text belongs in the bureau's own file. */
export const MAX_REVOCATION_COMMENT = 500;

/** `{reason, comment}`, as the DELETE body and each bulk item carry it. */
export const revocationFields = {
  reason: z.enum(REVOCATION_REASONS, {
    error: `原因应为 ${REVOCATION_REASONS.join('、')} 之一 / reason must be one of ${REVOCATION_REASONS.join(', ')}`,
  }),
  comment: z
    .string({ error: '需要说明 / a comment is required' })
    .trim()
    .min(1, '说明不能为空 / the comment must not be blank')
    .max(MAX_REVOCATION_COMMENT, `说明最多 ${MAX_REVOCATION_COMMENT} 个字符 / the comment is at most ${MAX_REVOCATION_COMMENT} characters`),
};

export const revocationBodySchema = z.object(revocationFields).strict();

/** The plan of a revoked certificate: every pending stage skipped, so it leaves the due index at once. */
export function revokedPlan(plan: Plan): Plan {
  return { ...plan, stages: plan.stages.map((s) => (s.status === 'pending' ? { ...s, status: 'skipped', note: REVOKED_NOTE } : s)) };
}

/** The stages a revocation stops: the pending ones. */
export function pendingStages(plan: Plan): string[] {
  return plan.stages.filter((s) => s.status === 'pending').map((s) => s.stage);
}
