import type { DateTime } from 'luxon';
import { OptedOutSendError } from '../../core/errors.js';
import { maskPhone, normaliseMainlandMobile } from '../../core/phone.js';
import type { Clock, Logger, ProviderOptOutList, SmsMessage, SmsReceipt, SmsSender, SuppressionList } from '../../core/ports.js';

/**
 * SNS keeps an opt-out list of its own (numbers that replied STOP and the like to this account). Our list
 * is the one every send checks, so what SNS knows is copied into it: daily from the whole list, and at
 * once when a publish is refused because the number opted out.
 */

export interface ProviderOptOutDeps {
  suppressions: SuppressionList;
  optOuts: ProviderOptOutList;
  logger: Logger;
}

export interface ProviderOptOutsResult {
  /** Numbers on the provider's list. */
  listed: number;
  /** Put on our list by this run (`sns-opted-out`). */
  added: number;
  /** Already on our list, whatever the source: the entry is kept as it was. */
  alreadySuppressed: number;
  /** Not a mainland mobile: we never text those, so there is nothing to suppress. */
  notMainlandMobile: number;
  /** Listed by the provider, but an operator reinstated the number since it was listed: left off ours. */
  reinstated: number;
}

/** The list page read at once: ours is hundreds of numbers, so a few pages. */
const OUR_PAGE = 1_000;

/**
 * Copies the provider's opt-out list into ours (the daily job). Our list is read first, so a run costs one
 * write per number new to it, not one per number on the provider's list.
 *
 * A number an operator reinstated is left off ours while the provider keeps listing it (the listing predates
 * the reinstatement: SNS refused the opt-in, or its list lags). The first run that reads the provider's whole
 * list without the number forgets the reinstatement, so the provider listing it again later is a new opt-out
 * and is copied. A run that fails part-way forgets nothing: it did not see the whole list.
 */
export async function copyProviderOptOuts(deps: ProviderOptOutDeps, now: DateTime): Promise<ProviderOptOutsResult> {
  const ours = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await deps.suppressions.list({ limit: OUR_PAGE, ...(cursor !== undefined ? { cursor } : {}) });
    for (const entry of page.items) ours.add(entry.phone);
    cursor = page.nextCursor;
  } while (cursor !== undefined);

  const reinstated = new Map((await deps.suppressions.reinstatements()).map((r) => [r.phone, r]));
  const stillListed = new Set<string>();

  const at = now.toUTC().toISO() ?? '';
  const result: ProviderOptOutsResult = { listed: 0, added: 0, alreadySuppressed: 0, notMainlandMobile: 0, reinstated: 0 };
  for await (const number of deps.optOuts.optedOutNumbers()) {
    result.listed += 1;
    const phone = normaliseMainlandMobile(number);
    if (!phone.ok) {
      result.notMainlandMobile += 1;
      continue;
    }
    if (reinstated.has(phone.e164)) stillListed.add(phone.e164);
    if (ours.has(phone.e164)) {
      result.alreadySuppressed += 1;
      continue;
    }
    if (reinstated.has(phone.e164)) {
      result.reinstated += 1;
      continue;
    }
    const { added } = await deps.suppressions.suppress(phone.e164, { source: 'sns-opted-out', at, detail: 'SNS ListPhoneNumbersOptedOut' });
    ours.add(phone.e164);
    if (added) result.added += 1;
    else result.alreadySuppressed += 1;
  }
  let reinstatementsEnded = 0;
  for (const [phone, reinstatement] of reinstated) {
    if (stillListed.has(phone)) continue;
    await deps.suppressions.forgetReinstatement(reinstatement);
    reinstatementsEnded += 1;
  }
  deps.logger.info({ ...result, reinstatementsEnded }, 'provider opt-out list copied into the suppression list');
  return result;
}

export interface OptOutHonouringDeps {
  suppressions: SuppressionList;
  clock: Clock;
  logger: Logger;
}

/**
 * Every message kind goes through one sender, so the rule "the provider refused this number because it
 * opted out: put it on our list" is applied here, once, for reminders, campaign messages and replies alike.
 * The adapter only names the refusal (`OptedOutSendError`); the send still fails as the permanent failure
 * it is, and the next message to the number is skipped as suppressed.
 */
export class OptOutHonouringSender implements SmsSender {
  constructor(
    private readonly inner: SmsSender,
    private readonly deps: OptOutHonouringDeps,
  ) {}

  async send(message: SmsMessage): Promise<SmsReceipt> {
    try {
      return await this.inner.send(message);
    } catch (error) {
      if (error instanceof OptedOutSendError) await this.suppress(message);
      throw error;
    }
  }

  private async suppress(message: SmsMessage): Promise<void> {
    const phone = normaliseMainlandMobile(message.to);
    if (!phone.ok) return;
    const at = (message.at !== undefined ? message.at : this.deps.clock.now().toISO()) ?? '';
    try {
      const { added } = await this.deps.suppressions.suppress(phone.e164, { source: 'sns-publish-error', at: new Date(at).toISOString(), detail: 'SNS OptedOut' });
      this.deps.logger.warn({ to: maskPhone(phone.e164), added }, 'SNS refused the SMS: the number opted out there; it is on the suppression list');
    } catch (err) {
      // The send's own failure is what the caller records; a lost suppression is caught by the daily copy.
      this.deps.logger.error({ to: maskPhone(phone.e164), err: (err as Error).message }, 'could not put an SNS opted-out number on the suppression list');
    }
  }
}
