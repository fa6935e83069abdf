import * as z from 'zod';
import { sendOutcome } from './campaigns.js';

const reply = z.enum(['sent', 'skipped', 'failed', 'suppressed', 'capped']);

/** `POST /v1/inbound-sms` (local) and the two-way SMS function: what a reply from a holder did. */
export const inboundOutcomeContract = z.discriminatedUnion('action', [
  z.object({ action: z.enum(['booked', 'moved', 'unchanged']), campaignId: z.string(), bookingId: z.string(), slot: z.number().int(), confirmation: z.union([sendOutcome, z.literal('unchanged')]) }),
  z.object({ action: z.literal('cancelled'), campaignId: z.string(), bookingId: z.string(), confirmation: sendOutcome }),
  z.object({ action: z.literal('full'), campaignId: z.string(), reply }),
  z.object({ action: z.literal('optedOut'), added: z.boolean(), confirmation: z.enum(['sent', 'alreadySent', 'inFlightElsewhere', 'retryLater', 'failed']) }),
  z.object({ action: z.literal('help'), reason: z.enum(['notUnderstood', 'unknownCode', 'notOwner', 'refused']), reply }),
  z.object({ action: z.literal('ignored'), reason: z.string() }),
]);
