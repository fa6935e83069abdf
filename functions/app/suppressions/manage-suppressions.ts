import { maySeeSuppression, type Principal } from '../../core/access.js';
import { maskPhonesInText } from '../../core/log-masking.js';
import { maskPhone } from '../../core/phone.js';
import type { Page, PhoneHoldings, ProviderOptIn, SuppressionList } from '../../core/ports.js';
import type { ProviderOptInOutcome, Suppression } from '../../core/suppression.js';
import { auditPrincipal, recordAudit, type AuditDeps } from '../audit.js';
import type { ReferenceData } from '../reference-data.js';

export interface SuppressionDeps extends AuditDeps {
  suppressions: SuppressionList;
  /** Which types a phone holds (the `byPhone` index): scopes a bureau's view. */
  holdings: PhoneHoldings;
  reference: ReferenceData;
  /** The provider's own opt-out list (SNS on AWS); absent where there is none, as the local twin. */
  providerOptIn?: ProviderOptIn;
}

/**
 * A bureau's page is filtered entry by entry, so one request looks at no more than this many entries and
 * answers a shorter page with a cursor past them: the work per request stays bounded however few of the
 * list's numbers are the bureau's holders.
 */
export const MAX_ENTRIES_EXAMINED = 500;
/** Holdings lookups in flight at once for one page. */
const HOLDINGS_CONCURRENCY = 8;

/**
 * The suppression list in phone-number order, as the caller may see it: all of it for an operator; for a
 * bureau, the numbers holding at least one certificate of a type it issues (one keys-only Query of the
 * `byPhone` index per entry examined: the list is hundreds of numbers, the table millions of certificates).
 */
export async function listSuppressions(deps: SuppressionDeps, principal: Principal, query: { limit: number; cursor?: string }): Promise<Page<Suppression>> {
  if (principal.role === 'operator') return deps.suppressions.list(query);
  const types = deps.reference.catalogue.all();
  const items: Suppression[] = [];
  let cursor = query.cursor;
  let examined = 0;
  do {
    const page = await deps.suppressions.list({ limit: Math.min(query.limit - items.length, MAX_ENTRIES_EXAMINED - examined), ...(cursor !== undefined ? { cursor } : {}) });
    examined += page.items.length;
    const visible = await mapLimited(page.items, HOLDINGS_CONCURRENCY, async (entry) => maySeeSuppression(principal, await deps.holdings.typesHeldBy(entry.phone), types));
    items.push(...page.items.filter((_, i) => visible[i] === true));
    cursor = page.nextCursor;
  } while (cursor !== undefined && items.length < query.limit && examined < MAX_ENTRIES_EXAMINED);
  return { items, ...(cursor !== undefined ? { nextCursor: cursor } : {}) };
}

export type ReinstateOutcome = { outcome: 'reinstated'; removed: Suppression; providerOptIn: ProviderOptInOutcome } | { outcome: 'not_suppressed' };

/**
 * Takes a number off the list and puts who did it and why on the audit trail, with the number masked:
 * the trail is read by more people than the list. `phone` is E.164.
 *
 * The reinstatement is remembered before the entry goes, so that no crash can leave a reinstated number the
 * daily copy of SNS's list would put back; then the provider is asked to opt the number in too (SNS refuses
 * every SMS to a number on its own list). A refusal there does not undo ours: it is answered and audited.
 */
export async function reinstateSuppression(deps: SuppressionDeps, principal: Principal, phone: string, comment: string): Promise<ReinstateOutcome> {
  if ((await deps.suppressions.get(phone)) === undefined) return { outcome: 'not_suppressed' };
  await deps.suppressions.rememberReinstatement({ phone, at: deps.clock.now().toUTC().toISO() ?? '' });
  const removed = await deps.suppressions.reinstate(phone);
  if (removed === undefined) return { outcome: 'not_suppressed' };
  const providerOptIn = deps.providerOptIn === undefined ? ({ status: 'not-needed' } as const) : await deps.providerOptIn.optIn(phone);
  const masked = maskPhone(phone);
  const note = maskPhonesInText(comment);
  const atProvider = providerOptIn.status === 'refused' ? `refused: ${providerOptIn.reason}` : providerOptIn.status;
  await recordAudit(deps, auditPrincipal(principal), {
    action: 'suppression.reinstate',
    target: `suppression/${masked}`,
    summary: `恢复发送 ${masked}：${note} / reinstated ${masked} (was ${removed.source} since ${removed.at}; SNS opt-in: ${atProvider}): ${note}`,
    details: { phone: masked, source: removed.source, suppressedAt: removed.at, comment: note, providerOptIn: atProvider },
  });
  return { outcome: 'reinstated', removed, providerOptIn };
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
