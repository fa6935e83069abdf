import { randomUUID } from 'node:crypto';
import type { DateTime } from 'luxon';
import { campaignAuthority } from '../../core/campaigns/delivery-scope.js';
import type { Campaign } from '../../core/campaigns/model.js';
import type { RenderedCampaignSms } from '../../core/campaigns/texts.js';
import { isFinished } from '../../core/delivery-status.js';
import { PermanentSendError, RetryableSendError } from '../../core/errors.js';
import { todayIn } from '../../core/planning.js';
import { maskPhone } from '../../core/phone.js';
import type { CampaignMessageId, CampaignMessageListing } from '../../core/ports.js';
import { takeDailySlot } from '../daily-send-slot.js';
import type { CampaignDeps } from './campaign-deps.js';

/**
 * `suppressed`: the number is on our opt-out list; recorded so, nothing sent. `deferred`: the holder's daily
 * cap held it back; it goes out on a later day inside the window.
 */
export type CampaignSendOutcome = 'sent' | 'alreadySent' | 'inFlightElsewhere' | 'retryLater' | 'failed' | 'suppressed' | 'deferred';

/**
 * Sends one campaign SMS exactly once per (visit, phone, kind), by the reminders' protocol: claim the
 * message item, send, record. A claimed message whose sender died before recording is taken over once
 * its lease runs out; a message already recorded is never sent again. `render` runs only after the
 * claim, so a message that is not ours to send is not even rendered.
 */
export async function sendCampaignMessage(
  deps: Pick<CampaignDeps, 'campaigns' | 'sms' | 'settings' | 'logger' | 'wallClock' | 'suppressions' | 'phoneHasher' | 'cap'>,
  id: CampaignMessageId,
  render: () => RenderedCampaignSms,
  now: DateTime,
  /** Who sees the message in the deliveries listing besides operators (campaignAuthority of its campaign); `capExempt`: not counted against the daily cap. */
  scope: { authority?: string | undefined; capExempt?: boolean } = {},
): Promise<CampaignSendOutcome> {
  const wall = deps.wallClock ?? Date.now;
  const ledger = deps.campaigns.messages;
  // Before the claim: a failure here (the hash key unavailable) leaves nothing held for a lease to release.
  const listing = { authority: scope.authority, phoneHash: await deps.phoneHasher?.hash(id.phone) };
  const token = randomUUID();
  const claim = await ledger.claimMessage(id, token, wall() + deps.settings.claimLeaseMs, wall(), todayIn(now));
  if (!claim.claimed) {
    const status = claim.existing?.status;
    if (status === 'deferred') return 'deferred';
    // A receipt may have moved a sent message on to delivered or failed meanwhile: it was still sent.
    return status !== undefined && isFinished(status) ? 'alreadySent' : 'inFlightElsewhere';
  }
  const log = { campaign: id.campaignId, visit: id.visitId, kind: id.kind, to: maskPhone(id.phone) };
  if (await skipIfSuppressed(deps, id, token, now, listing)) {
    deps.logger.info(log, 'campaign SMS not sent: the number opted out');
    return 'suppressed';
  }
  // After the opt-out check: a suppressed number neither uses a slot of the cap nor is held by it.
  const slot = scope.capExempt === true ? undefined : await takeDailySlot(deps, id.phone, now);
  if (slot?.taken === false) {
    await ledger.recordMessageDeferred(id, token, slot.day, now.toISO() ?? '', listing);
    deps.logger.info({ ...log, deferredOn: slot.day }, 'campaign SMS deferred: the holder had the day’s messages');
    return 'deferred';
  }
  let rendered: RenderedCampaignSms | undefined;
  let messageId: string;
  try {
    rendered = render();
    const receipt = await deps.sms.send({
      to: id.phone,
      body: rendered.body,
      idempotencyKey: `campaign#${id.campaignId}#${id.visitId}#${id.phone}#${id.kind}`,
      at: now.toISO() ?? '',
      campaign: { campaignId: id.campaignId, visitId: id.visitId, kind: id.kind },
    });
    messageId = receipt.messageId;
  } catch (error) {
    if (error instanceof RetryableSendError) {
      // Nothing went out: give the day's slot and the claim back so the next run retries at once.
      if (slot?.taken === true) await slot.giveBack();
      await ledger.releaseMessage(id, token);
      deps.logger.warn({ ...log, err: error.message }, 'campaign SMS not sent, will retry');
      return 'retryLater';
    }
    if (error instanceof PermanentSendError) {
      if (slot?.taken === true) await slot.giveBack();
      await ledger.recordMessageFailed(id, token, error.message, now.toISO() ?? '', { body: rendered?.body, listing });
      deps.logger.error({ ...log, err: error.message }, 'campaign SMS refused permanently');
      return 'failed';
    }
    // Unknown outcome: the provider may have accepted it. The claim stays; once its lease runs out a later run retries.
    deps.logger.error({ ...log, err: (error as Error).message }, 'campaign SMS ended in an unknown state');
    return 'retryLater';
  }
  await ledger.recordMessageSent(id, token, { messageId, sentAt: now.toISO() ?? '', to: id.phone, body: rendered.body, segments: rendered.segments }, listing);
  deps.logger.info({ ...log, messageId, segments: rendered.segments }, 'campaign SMS sent');
  return 'sent';
}

/**
 * Right after the claim, before anything is rendered or sent: a number on our suppression list gets no
 * campaign SMS of any kind, and the claimed message is finished as `suppressed` (never retried).
 */
async function skipIfSuppressed(
  deps: Pick<CampaignDeps, 'campaigns' | 'suppressions'>,
  id: CampaignMessageId,
  token: string,
  now: DateTime,
  listing: CampaignMessageListing,
): Promise<boolean> {
  if (deps.suppressions === undefined) return false;
  let suppressed: boolean;
  try {
    suppressed = await deps.suppressions.isSuppressed(id.phone);
  } catch (error) {
    // Nothing was sent: give the claim back so the next run asks again at once.
    await deps.campaigns.messages.releaseMessage(id, token);
    throw error;
  }
  if (suppressed) await deps.campaigns.messages.recordMessageSuppressed(id, token, now.toISO() ?? '', listing);
  return suppressed;
}

/** Which bureau sees the campaign's messages in the deliveries listing. */
export function listedFor(deps: Pick<CampaignDeps, 'reference'>, campaign: Pick<Campaign, 'types'>): { authority?: string } {
  const authority = campaignAuthority(campaign.types, deps.reference.catalogue.all());
  return authority === undefined ? {} : { authority };
}
