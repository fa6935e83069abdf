import type { DateTime } from 'luxon';
import { TOWNSHIP_TYPE_INDEX_VERSION, type IndexBackfillProgress } from '../core/index-backfill.js';
import type { Clock, Logger, TownshipTypeBackfillStore } from '../core/ports.js';
import type { ReferenceData } from './reference-data.js';

export interface IndexBackfillDeps {
  backfill: TownshipTypeBackfillStore;
  reference: ReferenceData;
  clock: Clock;
  logger: Logger;
  /** Real elapsed time for the budget; defaults to the clock's. */
  wallClock?: () => number;
}

export interface IndexBackfillOptions {
  /** Stop after this instant (ms on `wallClock`); progress is kept and the next run continues. */
  stopAtMs?: number;
}

export interface IndexBackfillResult {
  /** `running`: the budget ran out; the next run continues from the saved progress. `done`: nothing is left, now or later. */
  state: 'running' | 'done';
  /** Certificates given the keys, by this run and the earlier ones of the same backfill. */
  updated: number;
  /** Certificates rewritten since they were read (they carry their current keys): left alone. */
  skipped: number;
  /** Catalogue types still to walk. */
  typesLeft: number;
}

/** Conditional updates in flight at once: a page's worth finishes in well under a second. */
const UPDATE_CONCURRENCY = 8;

/**
 * Gives the certificates stored before the `byTownshipType` index existed its keys, so a campaign finds
 * them. Certificates written since carry the keys already; they are read but not written.
 *
 * Each catalogue type's certificates are walked on the `byType` index rather than by a parallel Scan of
 * the table: a Scan reads (and is billed for) every item, and the table holds several delivery records per
 * certificate, campaign items and the audit trail; the type walk reads each certificate once and nothing
 * else, and needs no Scan permission. A type's pages come in order, so the progress saved after every page
 * (the types done, and the cursor in the current one) lets a run stopped by its budget, a crash or a
 * throttle continue where it stopped: the cost of a run is what is left. Once done for this index version,
 * a run reads the progress item and returns.
 */
export async function backfillTownshipTypeIndex(deps: IndexBackfillDeps, now: DateTime, options: IndexBackfillOptions = {}): Promise<IndexBackfillResult> {
  const wall = deps.wallClock ?? (() => deps.clock.now().toMillis());
  const types = deps.reference.catalogue.all().map((t) => t.code);
  const saved = await deps.backfill.getTownshipTypeBackfill();
  if (saved !== undefined && saved.state === 'done' && saved.version === TOWNSHIP_TYPE_INDEX_VERSION) return resultOf(saved, types);
  const progress: IndexBackfillProgress =
    saved !== undefined && saved.state === 'running' && saved.version === TOWNSHIP_TYPE_INDEX_VERSION
      ? saved
      : { version: TOWNSHIP_TYPE_INDEX_VERSION, state: 'running', typesDone: [], updated: 0, skipped: 0, startedAt: now.toISO() ?? '' };
  let stopped = false;
  for (const type of types) {
    if (progress.typesDone.includes(type)) continue;
    let cursor = progress.position?.type === type ? progress.position.cursor : undefined;
    do {
      if (options.stopAtMs !== undefined && wall() >= options.stopAtMs) {
        stopped = true;
        break;
      }
      const page = await deps.backfill.certificatesLackingTownshipTypeKeys(type, cursor);
      for (let i = 0; i < page.items.length; i += UPDATE_CONCURRENCY) {
        const outcomes = await Promise.all(page.items.slice(i, i + UPDATE_CONCURRENCY).map((snapshot) => deps.backfill.setTownshipTypeKeys(snapshot)));
        for (const set of outcomes) {
          if (set) progress.updated += 1;
          else progress.skipped += 1;
        }
      }
      cursor = page.nextCursor;
      if (cursor === undefined) {
        progress.typesDone.push(type);
        delete progress.position;
      } else {
        progress.position = { type, cursor };
      }
      await deps.backfill.saveTownshipTypeBackfill(progress);
    } while (cursor !== undefined);
    if (stopped) break;
  }
  if (!stopped) {
    progress.state = 'done';
    progress.finishedAt = deps.clock.now().toISO() ?? '';
    await deps.backfill.saveTownshipTypeBackfill(progress);
  }
  const result = resultOf(progress, types);
  deps.logger.info({ indexBackfill: result }, progress.state === 'done' ? 'byTownshipType keys backfill done' : 'byTownshipType keys backfill stopped at its budget; the next run continues');
  return result;
}

function resultOf(progress: IndexBackfillProgress, types: string[]): IndexBackfillResult {
  return { state: progress.state, updated: progress.updated, skipped: progress.skipped, typesLeft: progress.state === 'done' ? 0 : types.filter((t) => !progress.typesDone.includes(t)).length };
}
