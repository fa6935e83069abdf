import { DateTime } from 'luxon';
import { ZONE } from './model.js';

/**
 * An ISO-8601 instant as Asia/Shanghai time. A string with an offset keeps its instant; one without is
 * read as Shanghai wall time, never as the host's zone (servers here run in UTC).
 */
export function instantInShanghai(iso: string): DateTime {
  return DateTime.fromISO(iso, { zone: ZONE, setZone: true }).setZone(ZONE);
}
