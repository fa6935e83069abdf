import { randomUUID } from 'node:crypto';
import type { DateTime } from 'luxon';
import { campaignAuthority } from '../../core/campaigns/delivery-scope.js';
import type { Campaign } from '../../core/campaigns/model.js';
import type { RenderedCampaignSms } from '../../core/campaigns/texts.js';
import { isFinished } from '../../core/delivery-status.js';
import { PermanentSendError, RetryableSendError } from '../../core/errors.js';
import { maskPhone } from '../../core/phone.js';
import type { CampaignMessageId, CampaignMessageListing } from '../../core/ports.js';
import type { CampaignDeps } from './campaign-deps.js';

/** `suppressed`: the number is on our opt-out list; recorded so, nothing sent. */
export type CampaignSendOutcome = 'sent' | 'alreadySent' | 'inFlightElsewhere' | 'retryLater' | 'failed' | 'suppressed';

/**
 * Sends one campaign SMS exactly once per (visit, phone, kind), by the reminders' protocol: claim the
 * message item, send, record. A claimed message whose sender died before recording is taken over once
 * its lease runs out; a message already recorded is never sent again. `render` runs only after the
 * claim, so a message that is not ours to send is not even rendered.
 */
export async function sendCampaignMessage(
  deps: Pick<CampaignDeps, 'campaigns' | 'sms' | 'settings' | 'logger' | 'wallClock' | 'suppressions' | 'phoneHasher'>,
  id: CampaignMessageId,
  render: () => RenderedCampaignSms,
  now: DateTime,
  /** Who sees the message in the deliveries listing besides operators (campaignAuthority of its campaign). */
  scope: { authority?: string | undefined } = {},
): Promise<CampaignSendOutcome> {
  const wall = deps.wallClock ?? Date.now;
  const ledger = deps.campaigns.messages;
  // Before the claim: a failure here (the hash key unavailable) leaves nothing held for a lease to release.
  const listing = { authority: scope.authority, phoneHash: await deps.phoneHasher?.hash(id.phone) };
  const token = randomUUID();
  const claim = await ledger.claimMessage(id, token, wall() + deps.settings.claimLeaseMs, wall());
  // A receipt may have moved a sent message on to delivered or failed meanwhile: it was still sent.
  if (!claim.claimed) return claim.existing !== undefined && isFinished(claim.existing.status) ? 'alreadySent' : 'inFlightElsewhere';
  const log = { campaign: id.campaignId, visit: id.visitId, kind: id.kind, to: maskPhone(id.phone) };
  if (await skipIfSuppressed(deps, id, token, now, listing)) {
    deps.logger.info(log, 'campaign SMS not sent: the number opted out');
    return 'suppressed';
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
      // Nothing went out: give the claim back so the next run retries at once.
      await ledger.releaseMessage(id, token);
      deps.logger.warn({ ...log, err: error.message }, 'campaign SMS not sent, will retry');
      return 'retryLater';
    }
    if (error instanceof PermanentSendError) {
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
