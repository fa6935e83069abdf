import * as z from 'zod';
import { PROVIDER_OPT_IN_REFUSALS, SUPPRESSION_SOURCES } from '../../core/suppression.js';
import { instant, pageOf } from './common.js';

/** An entry of `GET /v1/suppressions`: the phone always masked. */
export const suppressionContract = z.object({
  phone: z.string(),
  source: z.enum(SUPPRESSION_SOURCES),
  at: instant,
  detail: z.string().optional(),
});

export const suppressionPageContract = pageOf(suppressionContract);

/** `DELETE /v1/suppressions/{phone}`. */
export const reinstatedContract = suppressionContract.extend({
  reinstated: z.literal(true),
  comment: z.string(),
  /** Opting the number back in at the provider: refused says why and what to do, in both languages. */
  providerOptIn: z.discriminatedUnion('status', [
    z.object({ status: z.literal('opted-in') }),
    z.object({ status: z.literal('not-needed') }),
    z.object({ status: z.literal('refused'), reason: z.enum(PROVIDER_OPT_IN_REFUSALS), message: z.string() }),
  ]),
});
