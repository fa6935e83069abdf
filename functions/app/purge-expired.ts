import type { DateTime } from 'luxon';
import type { CertificateKey, RetentionStore } from '../core/ports.js';
import { retentionCutoff, type PurgeProgress } from '../core/retention.js';
import { recordAudit, type AuditDeps } from './audit.js';
import type { ReferenceData } from './reference-data.js';
import type { ServiceSettings } from './settings.js';

export interface PurgeDeps extends AuditDeps {
  retention: RetentionStore;
  reference: ReferenceData;
  settings: Pick<ServiceSettings, 'retentionYears'>;
  /** Real elapsed time for the budget; defaults to the clock's. */
  wallClock?: () => number;
}

export interface PurgeOptions {
  /** Count what would be purged; delete and record nothing. */
  dryRun?: boolean;
  /** Stop after this instant (ms on `wallClock`); progress is kept and the next run continues. */
  stopAtMs?: number;
  /** Who asked, for the audit trail; the daily job is `system:retention`. */
  by?: { subject: string; role: string };
}

export interface PurgeResult {
  dryRun: boolean;
  retentionYears: number;
  /** Certificates expiring before this day are purged. */
  cutoff: string;
  /** `running`: the budget ran out; the next run continues from the saved progress. */
  state: 'running' | 'done';
  certificates: number;
  deliveries: number;
  /** Found expired but renewed before their delete: kept. */
  keptRenewed: number;
  /** A dry run: per type, how many certificates would go. */
  byType?: Record<string, number>;
}

export const SYSTEM_RETENTION = { subject: 'system:retention', role: 'system' } as const;

/**
 * Deletes the certificates whose expiry lies more than `retentionYears` years in the past, and their
 * delivery records; suppressions and the audit log are other items and stay. Each type's expired
 * certificates are read from the `byType` index (`gsi2sk < cutoff`), so the work is proportional to
 * what is purged. Progress is saved after every page: a run that stops (budget, crash) is continued by
 * the next one, with the same cutoff, and its counts add up.
 */
export async function purgeExpired(deps: PurgeDeps, now: DateTime, options: PurgeOptions = {}): Promise<PurgeResult> {
  const years = deps.settings.retentionYears;
  if (options.dryRun === true) return dryRun(deps, retentionCutoff(now, years), years);
  const wall = deps.wallClock ?? (() => deps.clock.now().toMillis());
  const by = options.by ?? SYSTEM_RETENTION;
  const saved = await deps.retention.getPurgeProgress();
  const progress: PurgeProgress =
    saved !== undefined && saved.state === 'running'
      ? saved
      : { cutoff: retentionCutoff(now, years), state: 'running', typesDone: [], certificates: 0, deliveries: 0, keptRenewed: 0, startedAt: now.toISO() ?? '', startedBy: by.subject };
  const types = deps.reference.catalogue.all().map((t) => t.code);
  let stopped = false;
  for (const type of types) {
    if (progress.typesDone.includes(type)) continue;
    let cursor: string | undefined;
    do {
      if (options.stopAtMs !== undefined && wall() >= options.stopAtMs) {
        stopped = true;
        break;
      }
      // Purged certificates leave the index, so a page read again after a crash holds only what is left.
      const page = await deps.retention.certificatesExpiredBefore(type, progress.cutoff, cursor);
      for (const key of page.items) await purgeOne(deps, key, progress);
      cursor = page.nextCursor;
      if (cursor === undefined) progress.typesDone.push(type);
      await deps.retention.savePurgeProgress(progress);
    } while (cursor !== undefined);
    if (stopped) break;
  }
  if (!stopped) {
    progress.state = 'done';
    progress.finishedAt = deps.clock.now().toISO() ?? '';
    await deps.retention.savePurgeProgress(progress);
  }
  const result: PurgeResult = {
    dryRun: false,
    retentionYears: years,
    cutoff: progress.cutoff,
    state: progress.state,
    certificates: progress.certificates,
    deliveries: progress.deliveries,
    keptRenewed: progress.keptRenewed,
  };
  deps.logger.info({ purge: result }, progress.state === 'done' ? 'retention purge done' : 'retention purge stopped at its budget; the next run continues');
  // A person's request is always on the trail; the daily job only when it deleted something.
  if (progress.state === 'done' && (by.subject !== SYSTEM_RETENTION.subject || result.certificates + result.deliveries > 0)) {
    await recordAudit(deps, by, {
      action: 'retention.purge',
      target: `retention/${progress.cutoff}`,
      summary: `清除有效期早于 ${progress.cutoff} 的证照 ${result.certificates} 本、发送记录 ${result.deliveries} 条 / purged ${result.certificates} certificates expired before ${progress.cutoff} and ${result.deliveries} delivery records`,
      details: { cutoff: progress.cutoff, retentionYears: years, certificates: result.certificates, deliveries: result.deliveries, keptRenewed: result.keptRenewed, startedAt: progress.startedAt },
    });
  }
  return result;
}

async function purgeOne(deps: PurgeDeps, key: CertificateKey, progress: PurgeProgress): Promise<void> {
  const outcome = await deps.retention.purgeCertificate(key, progress.cutoff);
  progress.deliveries += outcome.deliveries;
  if (outcome.deleted) progress.certificates += 1;
  else progress.keptRenewed += 1;
}

async function dryRun(deps: PurgeDeps, cutoff: string, years: number): Promise<PurgeResult> {
  const result: PurgeResult = { dryRun: true, retentionYears: years, cutoff, state: 'done', certificates: 0, deliveries: 0, keptRenewed: 0, byType: {} };
  for (const { code } of deps.reference.catalogue.all()) {
    let cursor: string | undefined;
    do {
      const page = await deps.retention.certificatesExpiredBefore(code, cutoff, cursor);
      for (const key of page.items) {
        result.certificates += 1;
        result.deliveries += await deps.retention.countDeliveriesBefore(key, cutoff);
        if (result.byType !== undefined) result.byType[code] = (result.byType[code] ?? 0) + 1;
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }
  return result;
}
