import * as z from 'zod';
import type { DateTime } from 'luxon';
import { instantInShanghai } from '../../core/time.js';

/**
 * What AWS End User Messaging SMS publishes to the two-way SMS topic for each reply
 * (https://docs.aws.amazon.com/sms-voice/latest/userguide/two-way-sms-payload.html). Only the sender
 * and the text are read; the other fields are kept loose because the service may add to them.
 */
export const twoWaySmsPayloadSchema = z.looseObject({
  originationNumber: z.string().min(1).max(32),
  destinationNumber: z.string().max(32).optional(),
  messageKeyword: z.string().optional(),
  messageBody: z.string().max(1600),
  inboundMessageId: z.string().min(1),
  previousPublishedMessageId: z.string().optional(),
});

/** The Lambda event of an SNS subscription: one record per delivery, the payload as a JSON string. */
const snsEventSchema = z.object({
  Records: z
    .array(
      z.object({
        EventSource: z.literal('aws:sns'),
        Sns: z.object({
          MessageId: z.string(),
          Message: z.string(),
          Timestamp: z.string().refine((s) => instantInShanghai(s).isValid, 'not an ISO-8601 instant'),
        }),
      }),
    )
    .min(1),
});

export class InvalidInboundEventError extends Error {
  override readonly name = 'InvalidInboundEventError';
}

/** One reply as `receiveInboundSms` takes it, with the carrier's id for the logs (never the phone). */
export interface InboundSmsDelivery {
  from: string;
  text: string;
  receivedAt: DateTime;
  inboundMessageId: string;
}

/**
 * The replies an SNS delivery carries. A record that is not a two-way SMS payload is an error, not a
 * reply: nothing is booked from it, and the error (with the SNS message id) lands in the function's log.
 */
export function inboundSmsFromSns(event: unknown): InboundSmsDelivery[] {
  const parsed = snsEventSchema.safeParse(event);
  if (!parsed.success) throw new InvalidInboundEventError(`not an SNS notification event: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
  return parsed.data.Records.map(({ Sns }) => {
    let body: unknown;
    try {
      body = JSON.parse(Sns.Message);
    } catch (error) {
      throw new InvalidInboundEventError(`SNS message ${Sns.MessageId} is not JSON: it is not a two-way SMS payload`, { cause: error });
    }
    const payload = twoWaySmsPayloadSchema.safeParse(body);
    if (!payload.success) throw new InvalidInboundEventError(`SNS message ${Sns.MessageId} is not a two-way SMS payload: ${z.prettifyError(payload.error)}`, { cause: payload.error });
    return {
      from: payload.data.originationNumber,
      text: payload.data.messageBody,
      // When SNS received it from the SMS service: seconds after the carrier did.
      receivedAt: instantInShanghai(Sns.Timestamp),
      inboundMessageId: payload.data.inboundMessageId,
    };
  });
}
