/**
 * What became of one message, for every kind of delivery (reminders, campaign notices, confirmations).
 *
 *   claimed ─send─▶ sent ─receipt─▶ delivered | failed
 *   claimed ─refused at send─▶ failed
 *   (suppressed and deferred are recorded instead of a send, by the opt-out and the daily cap)
 *
 * Pure: the ledger stores the status, receipts come from the provider; this module only decides
 * which transitions a receipt may make.
 */
import type { IsoDate, IsoInstant, PlannedStage, StageName } from './model.js';

/** The statuses a finished delivery record can have, as the API lists and filters them. */
export const DELIVERY_STATUSES = ['sent', 'delivered', 'failed', 'suppressed', 'deferred'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * `claimed`: a scan holds it (see "Exactly once"), before anything is known of the send; `cancelled`: a
 * revocation wrote it for a stage no scan had claimed, so none can claim it afterwards.
 */
export type LedgerStatus = 'claimed' | DeliveryStatus | 'cancelled';

/** What a provider's receipt says of a message. */
export interface DeliveryReceipt {
  messageId: string;
  status: 'delivered' | 'failed';
  /** The provider's words, kept for a failure (`空号 / number does not exist`, `Unknown error attempting to reach phone`). */
  reason?: string | undefined;
  /** When the provider reported it. */
  at: IsoInstant;
}

/**
 * What a receipt does to a record in `current`:
 * - `apply`: the status moves (sent → delivered or failed);
 * - `same`: the record already says this (a receipt delivered twice): nothing to do;
 * - `pending`: the send is not recorded yet (the receipt outran it): try again shortly;
 * - `ignore`: the record is final in another way, or never went out; a receipt never moves it back.
 */
export function receiptTransition(current: LedgerStatus, receipt: DeliveryReceipt['status']): 'apply' | 'same' | 'pending' | 'ignore' {
  if (current === 'claimed') return 'pending';
  if (current === 'sent') return 'apply';
  if (current === receipt) return 'same';
  return 'ignore';
}

/**
 * A record in one of these statuses is done with: a scan that finds it only finishes the plan's bookkeeping.
 * `deferred` is not: the daily cap held the message back, it stays due and is claimed again the next day.
 */
export function isFinished(status: LedgerStatus): boolean {
  return status !== 'claimed' && status !== 'deferred';
}

/** How long after its send an unconfirmed final reminder needs a person to phone the holder. */
export const UNCONFIRMED_AFTER_HOURS = 24;

/**
 * The plan's final reminder: its last stage on or before the expiry day (the default rule's `final`,
 * not the notice after expiry), or its last stage when every stage lies after expiry. A phone call
 * still helps the holder renew in time after this one fails, which is why the attention list is about it.
 */
export function finalReminderStage(stages: ReadonlyArray<Pick<PlannedStage, 'stage' | 'date'>>, expiresOn: IsoDate): StageName | undefined {
  let final: Pick<PlannedStage, 'stage' | 'date'> | undefined;
  for (const stage of stages) {
    if (stage.date <= expiresOn && (final === undefined || stage.date >= final.date)) final = stage;
  }
  return (final ?? stages[stages.length - 1])?.stage;
}
