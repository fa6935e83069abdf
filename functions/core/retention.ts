import type { DateTime } from 'luxon';
import type { IsoDate, IsoInstant } from './model.js';
import { todayIn } from './planning.js';

/** `CERTALARM_RETENTION_YEARS`' default: certificates are kept five years past their expiry. */
export const DEFAULT_RETENTION_YEARS = 5;

/**
 * The first expiry that is kept: certificates expiring before it (more than `years` years before today,
 * in Asia/Shanghai) are purged. A renewal moves the expiry later, so a certificate renewed since is kept
 * by its expiry alone.
 */
export function retentionCutoff(now: DateTime, years: number): IsoDate {
  const today = todayIn(now);
  const [y = '0', m = '01', d = '01'] = today.split('-');
  const year = Number(y) - years;
  // 29 February has no twin in a common year: the day before is the last one "more than N years" ago.
  const day = m === '02' && d === '29' && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) ? '28' : d;
  return `${String(year).padStart(4, '0')}-${m}-${day}`;
}

/** How far a purge got; kept in the store after every page, so a crash continues where it stopped. */
export interface PurgeProgress {
  cutoff: IsoDate;
  state: 'running' | 'done';
  /** Catalogue types whose purgeable certificates are all deleted. */
  typesDone: string[];
  certificates: number;
  deliveries: number;
  /** Certificates found purgeable but renewed before their delete (kept). */
  keptRenewed: number;
  startedAt: IsoInstant;
  finishedAt?: IsoInstant;
  /** Who started the run: an operator's subject, or `system:retention` for the daily job. */
  startedBy: string;
}
