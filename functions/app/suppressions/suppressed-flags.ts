import { mayPerform, type Principal } from '../../core/access.js';
import type { SuppressedPhones } from '../../core/ports.js';

/**
 * The `suppressed` flag of the certificates in one answer: a holder who opted out stays visible, flagged, so
 * staff know to phone rather than wait for an SMS. One batch read of the page's distinct phones. Undefined
 * (no flag at all) where the list is not kept, or for a caller who may not read it (a viewer).
 */
export async function suppressedFlags(
  deps: { suppressedPhones?: SuppressedPhones | undefined },
  principal: Principal,
  phones: readonly string[],
): Promise<((phone: string) => boolean) | undefined> {
  if (deps.suppressedPhones === undefined || !mayPerform(principal, 'readSuppressions').allowed) return undefined;
  const suppressed = phones.length === 0 ? new Set<string>() : await deps.suppressedPhones.suppressedAmong(phones);
  return (phone) => suppressed.has(phone);
}
