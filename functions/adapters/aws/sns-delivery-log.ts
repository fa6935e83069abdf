import { gunzipSync } from 'node:zlib';
import * as z from 'zod';
import type { DeliveryReceipt } from '../../core/delivery-status.js';

/**
 * SNS SMS delivery status logs as a CloudWatch Logs subscription delivers them: `{awslogs: {data}}`,
 * the data base64 of gzip of JSON (`messageType`, `logEvents`), each event's message one SNS log record:
 *
 *   {"notification": {"messageId": "34d9b400-…", "timestamp": "2016-06-28 00:40:34.558"},
 *    "delivery": {"destination": "+86…", "providerResponse": "Message has been accepted by phone carrier", …},
 *    "status": "SUCCESS"}
 *
 * (sns/<region>/<account>/DirectPublishToPhoneNumber for successes, …/Failure for failures.) The
 * destination is the recipient's number: it is never read into anything that could be logged.
 */
export const subscriptionEventSchema = z.object({ awslogs: z.object({ data: z.string().min(1) }) });

const logsPayloadSchema = z.object({
  messageType: z.string(),
  logGroup: z.string().optional(),
  logEvents: z.array(z.object({ id: z.string(), timestamp: z.number(), message: z.string() })).default([]),
});

export const snsDeliveryLogSchema = z.object({
  notification: z.object({ messageId: z.string().min(1).max(200) }),
  delivery: z.object({ providerResponse: z.string().max(1000).optional() }).optional(),
  status: z.enum(['SUCCESS', 'FAILURE']),
});

export class UnreadableLogsEventError extends Error {
  override readonly name = 'UnreadableLogsEventError';
}

export interface ReadLogEvents {
  receipts: DeliveryReceipt[];
  /** Log events that are not SNS delivery records (counted, never logged: they may hold a number). */
  unreadable: number;
}

/** The receipts in one subscription delivery; a CONTROL_MESSAGE (CloudWatch's reachability check) has none. */
export function receiptsFromLogsEvent(event: unknown): ReadLogEvents {
  const envelope = subscriptionEventSchema.safeParse(event);
  if (!envelope.success) throw new UnreadableLogsEventError('not a CloudWatch Logs subscription event (expected {"awslogs": {"data": …}})');
  let payload: z.infer<typeof logsPayloadSchema>;
  try {
    payload = logsPayloadSchema.parse(JSON.parse(gunzipSync(Buffer.from(envelope.data.awslogs.data, 'base64')).toString('utf8')));
  } catch (error) {
    throw new UnreadableLogsEventError(`the subscription data is not gzipped CloudWatch Logs JSON: ${(error as Error).name}`);
  }
  if (payload.messageType !== 'DATA_MESSAGE') return { receipts: [], unreadable: 0 };
  const receipts: DeliveryReceipt[] = [];
  let unreadable = 0;
  for (const logEvent of payload.logEvents) {
    let record: z.infer<typeof snsDeliveryLogSchema>;
    try {
      record = snsDeliveryLogSchema.parse(JSON.parse(logEvent.message));
    } catch {
      unreadable += 1;
      continue;
    }
    const failed = record.status === 'FAILURE';
    receipts.push({
      messageId: record.notification.messageId,
      status: failed ? 'failed' : 'delivered',
      ...(failed ? { reason: record.delivery?.providerResponse ?? 'SNS reported FAILURE without a provider response' } : {}),
      at: new Date(logEvent.timestamp).toISOString(),
    });
  }
  return { receipts, unreadable };
}
