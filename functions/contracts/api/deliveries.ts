import * as z from 'zod';
import { DELIVERY_STATUSES } from '../../core/delivery-status.js';
import { instant, pageOf } from './common.js';

/** An item of `GET /v1/deliveries`: the phone always masked. */
export const deliveryContract = z.object({
  source: z.enum(['reminder', 'campaign', 'other']),
  type: z.string().optional(),
  number: z.string().optional(),
  /** A reminder's stage, or a campaign message's kind. */
  kind: z.string(),
  to: z.string().nullable(),
  status: z.enum(DELIVERY_STATUSES),
  reason: z.string().optional(),
  body: z.string().nullable(),
  messageId: z.string().nullable(),
  sentAt: instant,
  statusAt: instant.optional(),
  final: z.boolean(),
});

export const deliveryPageContract = pageOf(deliveryContract);

/** An item of `GET /v1/deliveries/attention`: why it needs a person. */
export const attentionContract = deliveryContract.extend({ why: z.string() });

export const attentionPageContract = pageOf(attentionContract);
