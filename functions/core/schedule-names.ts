import { createHash } from 'node:crypto';

/** EventBridge Scheduler's rule for schedule names. */
export const SCHEDULE_NAME_PATTERN = /^[0-9a-zA-Z\-_.]{1,64}$/;
const MAX_NAME = 64;
const HASH_LENGTH = 16;

/**
 * A deterministic schedule name for (kind, id): the same inputs always give the same name, so a
 * retried `scheduleOnce` finds the schedule it already made. Characters Scheduler does not accept become
 * `-`; whenever that changed anything, or the name is too long, a hash of the exact inputs is appended
 * (after truncating), so `CERT#A#1` and `CERT-A-1` can never share a name.
 */
export function scheduleName(kind: string, id: string): string {
  const raw = `${kind}-${id}`;
  const clean = raw.replace(/[^0-9a-zA-Z\-_.]/g, '-');
  if (clean === raw && clean.length > 0 && clean.length <= MAX_NAME) return clean;
  const hash = createHash('sha256').update(kind).update('\u0000').update(id).digest('hex').slice(0, HASH_LENGTH);
  return `${clean.slice(0, MAX_NAME - HASH_LENGTH - 1)}-${hash}`;
}
