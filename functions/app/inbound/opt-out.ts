import { randomUUID } from 'node:crypto';
import type { DateTime } from 'luxon';
import { PermanentSendError, RetryableSendError } from '../../core/errors.js';
import { maskPhone } from '../../core/phone.js';
import { optOutConfirmationText, type Suppression } from '../../core/suppression.js';
import type { CampaignDeps } from '../campaigns/campaign-deps.js';

export type OptOutDeps = Pick<CampaignDeps, 'sms' | 'settings' | 'logger' | 'wallClock' | 'suppressions'>;

/** What became of the one confirmation: as a campaign message's send, without `suppressed` (it is the one message a suppressed number gets). */
export type OptOutConfirmation = 'sent' | 'alreadySent' | 'inFlightElsewhere' | 'retryLater' | 'failed';

export interface OptOutResult {
  /** False when the number was already on the list (the same reply delivered twice, or an earlier opt-out). */
  added: boolean;
  confirmation: OptOutConfirmation;
}

/** The composition did not wire the list: refusing is better than taking an opt-out and forgetting it. */
export class SuppressionListMissing extends Error {
  override readonly name = 'SuppressionListMissing';
  constructor() {
    super('退订名单未配置，无法登记退订 / the suppression list is not wired here, so an opt-out cannot be recorded');
  }
}

/**
 * A holder replied with an opt-out keyword: the number goes on our suppression list, and gets one
 * confirmation SMS. The confirmation is claimed per suppression (see OptOutConfirmations), so the same
 * reply delivered twice, or several arriving at once, confirm once; every later message to the number,
 * whatever its kind, is skipped at send time.
 */
export async function optOut(deps: OptOutDeps, phone: string, keyword: string, receivedAt: DateTime): Promise<OptOutResult> {
  const list = deps.suppressions;
  if (list === undefined) throw new SuppressionListMissing();
  const { added, suppression } = await list.suppress(phone, { source: 'sms-keyword', at: receivedAt.toISO() ?? '', detail: keyword });
  deps.logger.info({ from: maskPhone(phone), added }, added ? 'number opted out: on the suppression list' : 'opt-out repeated: the number was already on the suppression list');
  return { added, confirmation: await confirmOptOut({ ...deps, suppressions: list }, suppression, receivedAt) };
}

/** Claim, send, record: the reminders' protocol, on the confirmation item of this suppression. */
async function confirmOptOut(deps: OptOutDeps & Required<Pick<OptOutDeps, 'suppressions'>>, suppression: Suppression, now: DateTime): Promise<OptOutConfirmation> {
  const wall = deps.wallClock ?? Date.now;
  const ledger = deps.suppressions;
  const token = randomUUID();
  const claim = await ledger.claimConfirmation(suppression, token, wall() + deps.settings.claimLeaseMs, wall());
  if (!claim.claimed) return claim.existing !== undefined && claim.existing.status !== 'claimed' ? 'alreadySent' : 'inFlightElsewhere';
  const log = { to: maskPhone(suppression.phone) };
  const text = optOutConfirmationText(deps.settings.signature, deps.settings.helpPhone);
  let messageId: string;
  try {
    const receipt = await deps.sms.send({
      to: suppression.phone,
      body: text.body,
      idempotencyKey: `optout#${suppression.phone}#${suppression.at}`,
      at: now.toISO() ?? '',
    });
    messageId = receipt.messageId;
  } catch (error) {
    if (error instanceof RetryableSendError) {
      // Nothing went out: give the claim back, so the holder's next opt-out reply (or the transport's retry) confirms.
      await ledger.releaseConfirmation(suppression, token);
      deps.logger.warn({ ...log, err: error.message }, 'opt-out confirmation not sent, will retry');
      return 'retryLater';
    }
    if (error instanceof PermanentSendError) {
      await ledger.recordConfirmationFailed(suppression, token, error.message, now.toISO() ?? '');
      deps.logger.error({ ...log, err: error.message }, 'opt-out confirmation refused permanently');
      return 'failed';
    }
    // Unknown outcome: the provider may have accepted it. The claim stays; once its lease runs out a retry may send.
    deps.logger.error({ ...log, err: (error as Error).message }, 'opt-out confirmation ended in an unknown state');
    return 'retryLater';
  }
  await ledger.recordConfirmationSent(suppression, token, { messageId, sentAt: now.toISO() ?? '', body: text.body, segments: text.segments });
  deps.logger.info({ ...log, messageId }, 'opt-out confirmation sent');
  return 'sent';
}
