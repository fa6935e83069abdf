import type { DateTime } from 'luxon';
import { visibleTypes, type Principal } from '../../core/access.js';
import { UNCONFIRMED_AFTER_HOURS, DELIVERY_STATUSES, type DeliveryStatus } from '../../core/delivery-status.js';
import type { DeliveryHistory, DeliveryListing, Page } from '../../core/ports.js';

export interface DeliveryListDeps {
  deliveries: DeliveryHistory;
  reference: { catalogue: { all(): ReadonlyArray<{ code: string; authority: string }> } };
}

export interface DeliveryFilter {
  status?: DeliveryStatus;
  /** A resolved type code the caller may see. */
  type?: string;
  number?: string;
  phoneHash?: string;
  since?: string;
  limit: number;
  cursor?: string;
}

/** A scope that sees nothing: a bureau whose authority issues no type. */
const NOTHING: Page<DeliveryListing> = { items: [] };

/**
 * Who was told what and when, newest first. A bureau sees the deliveries of its own types (reminders,
 * and any message item that carries one of its types) and the messages of the campaigns it may manage;
 * an operator sees all.
 */
export async function listDeliveries(deps: DeliveryListDeps, principal: Principal, filter: DeliveryFilter): Promise<Page<DeliveryListing>> {
  const scope = filter.type === undefined ? visibleTypes(principal, deps.reference.catalogue.all()) : undefined;
  if (scope !== undefined && scope.length === 0) return NOTHING;
  return deps.deliveries.listDeliveries({
    statuses: filter.status === undefined ? DELIVERY_STATUSES : [filter.status],
    limit: filter.limit,
    ...(filter.type !== undefined ? { type: filter.type } : {}),
    ...(scope !== undefined ? { types: scope, ...(principal.authority !== undefined ? { authority: principal.authority } : {}) } : {}),
    ...(filter.number !== undefined ? { number: filter.number } : {}),
    ...(filter.phoneHash !== undefined ? { phoneHash: filter.phoneHash } : {}),
    ...(filter.since !== undefined ? { since: filter.since } : {}),
    ...(filter.cursor !== undefined ? { cursor: filter.cursor } : {}),
  });
}

export type AttentionItem = DeliveryListing & { why: 'failed' | 'unconfirmed' };

/**
 * Reminders a person should follow up by phone (the 许昌 practice): those whose final stage failed, and
 * those whose final stage was sent but not confirmed within 24 hours. Read from the deliveries index:
 * the `failed` partition, and the `sent` partition below `now` − 24 h, final stages only.
 */
export async function deliveriesNeedingAttention(
  deps: DeliveryListDeps,
  principal: Principal,
  now: DateTime,
  options: { since?: string; limit: number; cursor?: string },
): Promise<Page<AttentionItem>> {
  const scope = visibleTypes(principal, deps.reference.catalogue.all());
  if (scope !== undefined && scope.length === 0) return NOTHING as Page<AttentionItem>;
  const page = await deps.deliveries.listDeliveries({
    statuses: ['failed', 'sent'],
    sentBefore: { sent: now.minus({ hours: UNCONFIRMED_AFTER_HOURS }).toUTC().toISO() ?? '' },
    finalOnly: true,
    limit: options.limit,
    ...(scope !== undefined ? { types: scope } : {}),
    ...(options.since !== undefined ? { since: options.since } : {}),
    ...(options.cursor !== undefined ? { cursor: options.cursor } : {}),
  });
  return { ...page, items: page.items.map((item) => ({ ...item, why: item.status === 'failed' ? 'failed' : 'unconfirmed' })) };
}
