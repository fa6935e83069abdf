import { receiptsFromLogsEvent } from '../adapters/aws/sns-delivery-log.js';
import { recordDeliveryReceipt } from '../app/deliveries/record-receipt.js';
import type { ReceiptOutcome } from '../core/ports.js';
import { deliveryStatusDeps } from './delivery-status-runtime.js';

/** A receipt this young whose send is not recorded yet is worth one more try (Lambda retries an async invocation). */
const RETRY_YOUNGER_THAN_MS = 5 * 60 * 1000;

export type DeliveryStatusResult = Record<ReceiptOutcome | 'unreadable', number>;

/** SNS SMS delivery logs (CloudWatch Logs subscription) → the delivery status of each message. */
export async function handler(event: unknown): Promise<DeliveryStatusResult> {
  const deps = deliveryStatusDeps();
  const { receipts, unreadable } = receiptsFromLogsEvent(event);
  const result: DeliveryStatusResult = { recorded: 0, unchanged: 0, ignored: 0, pending: 0, unknown: 0, unreadable };
  let retry = 0;
  for (const receipt of receipts) {
    const outcome = await recordDeliveryReceipt(deps, receipt);
    result[outcome] += 1;
    const young = deps.clock.now().toMillis() - Date.parse(receipt.at) < RETRY_YOUNGER_THAN_MS;
    if ((outcome === 'pending' || outcome === 'unknown') && young) retry += 1;
  }
  deps.logger.info({ receipts: result }, 'delivery status logs read');
  // Every receipt is idempotent, so the whole batch can run again: the sends it outran are recorded by then.
  if (retry > 0) throw new Error(`${retry} receipt(s) arrived before their send was recorded; the invocation is retried`);
  return result;
}
