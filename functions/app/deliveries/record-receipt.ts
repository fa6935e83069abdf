import { receiptTransition, type DeliveryReceipt } from '../../core/delivery-status.js';
import type { DeliveryReceipts, Logger, ReceiptOutcome } from '../../core/ports.js';

export interface ReceiptDeps {
  receipts: DeliveryReceipts;
  logger: Logger;
}

/** Enough of a message id to find it in the provider's console, not a handle on anything. */
function shortId(messageId: string): string {
  return messageId.length <= 12 ? messageId : `${messageId.slice(0, 12)}…`;
}

/**
 * Write a provider's receipt onto the delivery it is for, whatever its kind, found by message id.
 * Idempotent: the same receipt twice changes nothing, and a `delivered` or `failed` delivery never moves
 * back. `pending` (the send is not recorded yet) and `unknown` (no delivery has this id yet) are for the
 * caller to retry shortly; an id that stays unknown is not ours (another sender in the account).
 */
export async function recordDeliveryReceipt(deps: ReceiptDeps, receipt: DeliveryReceipt): Promise<ReceiptOutcome> {
  const log = { messageId: shortId(receipt.messageId), status: receipt.status };
  const ref = await deps.receipts.findByMessageId(receipt.messageId);
  if (ref === undefined) {
    deps.logger.info(log, 'receipt for a message id no delivery carries: ignored');
    return 'unknown';
  }
  // Two rounds: a concurrent receipt can win the conditional write once, and then this one is read as it stands.
  for (let round = 0; round < 2; round += 1) {
    const state = await deps.receipts.deliveryState(ref);
    if (state === undefined) {
      deps.logger.info(log, 'receipt for a delivery that no longer exists: ignored');
      return 'unknown';
    }
    if (state.messageId !== undefined && state.messageId !== receipt.messageId) {
      // The pointer of a send whose claim was taken over: the delivery records another message.
      deps.logger.info(log, 'receipt for a message its delivery does not record: ignored');
      return 'ignored';
    }
    const step = receiptTransition(state.status, receipt.status);
    if (step === 'same') return 'unchanged';
    if (step === 'pending') return 'pending';
    if (step === 'ignore') {
      deps.logger.info({ ...log, current: state.status }, 'receipt would move a finished delivery back: ignored');
      return 'ignored';
    }
    if (await deps.receipts.applyReceipt(ref, receipt)) {
      deps.logger.info(log, 'delivery status recorded');
      return 'recorded';
    }
  }
  return 'unchanged';
}
