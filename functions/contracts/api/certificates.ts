import * as z from 'zod';
import { REVOCATION_REASONS } from '../../core/revocation.js';
import { day, instant, pageOf } from './common.js';

const revocation = z.object({ reason: z.enum(REVOCATION_REASONS), comment: z.string(), at: instant, by: z.string() });

/** A certificate as the API shows it: the holder ID masked unless an operator asked to see it. */
export const certificateContract = z.object({
  type: z.string(),
  number: z.string(),
  holder: z.object({ name: z.string(), id: z.string().optional() }),
  phone: z.string(),
  township: z.string(),
  issuedOn: day,
  expiresOn: day.nullable(),
  renewalDeadline: day.nullable(),
  windowOpens: day.nullable(),
  createdAt: instant,
  updatedAt: instant,
  revoked: revocation.optional(),
  /** The number opted out of SMS; shown to bureaus and operators. */
  suppressed: z.boolean().optional(),
});

export type CertificateAnswer = z.infer<typeof certificateContract>;

export const certificatePageContract = pageOf(certificateContract);

/** `GET /v1/certificates/{type}/{number}/plan`. */
export const planContract = z.object({
  reminders: z.boolean(),
  note: z.string().optional(),
  renewalDeadline: day.nullable(),
  windowOpens: day.nullable(),
  calendarProvisional: z.boolean(),
  stages: z.array(
    z.object({
      stage: z.string(),
      date: day,
      sendAt: instant.nullable(),
      status: z.enum(['pending', 'sent', 'skipped']),
      note: z.string().optional(),
      messageId: z.string().optional(),
      sentAt: instant.optional(),
    }),
  ),
});

export type PlanAnswer = z.infer<typeof planContract>;

/** `POST /v1/certificates`: every row counted, every bad row named with its field and reason. */
export const uploadResultContract = z.object({
  accepted: z.number().int(),
  created: z.number().int(),
  updated: z.number().int(),
  renewed: z.number().int(),
  unchanged: z.number().int(),
  rejected: z.array(z.object({ index: z.number().int(), field: z.string(), reason: z.string() })),
});

/** `DELETE /v1/certificates/{type}/{number}`: the mark, and the stages a scan had already claimed. */
export const revocationContract = z.object({
  type: z.string(),
  number: z.string(),
  revoked: revocation,
  alreadyRevoked: z.literal(true).optional(),
  inFlight: z.array(z.string()).optional(),
});

export type RevocationAnswer = z.infer<typeof revocationContract>;

/** `POST /v1/certificates/revocations`: a result for every item, as an upload reports every row. */
export const revocationReportContract = z.object({
  revoked: z.number().int(),
  alreadyRevoked: z.number().int(),
  notRevoked: z.number().int(),
  results: z.array(
    z.object({
      index: z.number().int(),
      type: z.string().optional(),
      number: z.string().optional(),
      outcome: z.enum(['revoked', 'alreadyRevoked', 'notFound', 'forbidden', 'invalid']),
      reason: z.string().optional(),
      errors: z.array(z.object({ field: z.string(), reason: z.string() })).optional(),
      revoked: revocation.optional(),
      inFlight: z.array(z.string()).optional(),
    }),
  ),
});
