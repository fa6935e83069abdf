import { receiptTransition, type DeliveryReceipt } from '../../core/delivery-status.js';
import type { DeliveryReceipts, DeliveryRef, Logger, ReceiptOutcome } from '../../core/ports.js';

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
  const { receipts } = deps;
  const found = receipts.findAllByMessageId !== undefined ? await receipts.findAllByMessageId(receipt.messageId) : [await receipts.findByMessageId(receipt.messageId)];
  const refs = found.filter((ref): ref is DeliveryRef => ref !== undefined);
  if (refs.length === 0) {
    deps.logger.info(log, 'receipt for a message id no delivery carries: ignored');
    return 'unknown';
  }
  // A merged reminder: one receipt speaks for every certificate it carried. The answer that asks most of the caller wins.
  const outcomes: ReceiptOutcome[] = [];
  for (const ref of refs) outcomes.push(await applyTo(deps, ref, receipt, log));
  return RECEIPT_PRECEDENCE.find((o) => outcomes.includes(o)) ?? 'unchanged';
}

const RECEIPT_PRECEDENCE: readonly ReceiptOutcome[] = ['pending', 'recorded', 'unchanged', 'ignored', 'unknown'];

async function applyTo(deps: ReceiptDeps, ref: DeliveryRef, receipt: DeliveryReceipt, log: { messageId: string; status: string }): Promise<ReceiptOutcome> {
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
