/**
 * An operator loads a year's holiday arrangement: it is checked, stored as the year's new version
 * (earlier versions stay in the history), audited, and every pending plan that could read that
 * year is re-planned on it.
 */
import { DateTime } from 'luxon';
import type { Principal } from '../../core/access.js';
import type { WorkingDays } from '../../core/planning.js';
import { calendarLoadSchema, expiriesDependingOnYear, mergeReplan, planChanged, type CalendarLoad } from '../../core/calendar-load.js';
import type { CalendarSource, CalendarStore, CertificateStore, ReplanProgress, ReplanSource, RuleSource, StoredCalendarYear, StoredCertificate } from '../../core/ports.js';
import { auditPrincipal, recordAudit, type AuditDeps } from '../audit.js';
import type { ReferenceData } from '../reference-data.js';
import { planFor } from '../upload-certificates.js';
import { CALENDAR_CACHE_MS } from './stored-calendar.js';
import type { ServiceSettings } from '../settings.js';

/** Certificates re-planned at once. */
const REPLAN_CONCURRENCY = 8;

export interface CalendarDeps extends AuditDeps {
  calendars: CalendarStore;
  calendarSource: CalendarSource;
  store: CertificateStore;
  replanSource: ReplanSource;
  reference: ReferenceData;
  settings: ServiceSettings;
  /** Real elapsed time for the re-plan's budget, independent of the business clock. */
  wallClock?: () => number;
  /** Operators' reminder rules; without them, the default rule. */
  rules?: RuleSource;
}

/** The load was refused before anything was stored; each issue names the field and the reason. */
export class CalendarLoadRejected extends Error {
  override readonly name = 'CalendarLoadRejected';
  constructor(readonly issues: Array<{ field: string; reason: string }>) {
    super(`日历未录入 / calendar not loaded: ${issues.map((i) => `${i.field || '(body)'}: ${i.reason}`).join('; ')}`);
  }
}

/** Another load of the same year was stored between our read and our write. */
export class CalendarLoadConflict extends Error {
  override readonly name = 'CalendarLoadConflict';
}

export interface CalendarLoadResult {
  year: number;
  version: number;
  source: string;
  holidays: number;
  workdays: number;
  /** The arrangement this load replaced, if any. */
  replaced: { version: number; source: string; origin: string } | null;
  replan: ReplanProgress;
}

export function parseCalendarLoad(year: number, body: unknown): CalendarLoad {
  const parsed = calendarLoadSchema(year).safeParse(body);
  if (parsed.success) return parsed.data;
  throw new CalendarLoadRejected(parsed.error.issues.map((issue) => ({ field: issue.path.join('.'), reason: issue.message })));
}

export async function loadCalendarYear(
  deps: CalendarDeps,
  principal: Principal,
  year: number,
  body: unknown,
  options: { stopAtMs?: number } = {},
): Promise<CalendarLoadResult> {
  const load = parseCalendarLoad(year, body);
  const now = deps.clock.now();
  const nowIso = now.toISO() ?? '';
  const existing = await deps.calendars.getCalendarYear(year);
  const version = (existing?.version ?? 0) + 1;
  const record: StoredCalendarYear = {
    year,
    ...load,
    version,
    origin: 'operator',
    loadedBy: principal.subject,
    loadedAt: nowIso,
    replan: { version, pass: 'load', state: 'running', typesDone: [], examined: 0, replanned: 0, startedAt: nowIso },
  };
  if (!(await deps.calendars.putCalendarYear(record, existing?.version))) {
    throw new CalendarLoadConflict(`${year} 年日历刚被另一次录入修改，请重试 / the ${year} calendar was changed by another load just now; load it again`);
  }
  deps.calendarSource.invalidate();
  deps.logger.info({ year, version, source: load.source, by: principal.subject }, 'holiday calendar year loaded');
  await recordAudit(deps, auditPrincipal(principal), {
    action: 'calendar.load',
    target: `calendar/${year}`,
    summary:
      `录入 ${year} 年节假日安排（第 ${version} 版，${load.holidays.length} 个放假日、${load.workdays.length} 个调休上班日）：${load.source} / ` +
      `loaded the ${year} holiday calendar (version ${version}, ${load.holidays.length} days off, ${load.workdays.length} make-up workdays): ${load.source}`,
    details: { year, version, source: load.source, holidays: load.holidays.length, workdays: load.workdays.length, replacedVersion: existing?.version ?? null },
  });
  const started: ReplanProgress = { version, pass: 'load', state: 'running', typesDone: [], examined: 0, replanned: 0, startedAt: nowIso };
  const replan = (await replanCalendarYear(deps, year, options)) ?? started;
  return {
    year,
    version,
    source: load.source,
    holidays: load.holidays.length,
    workdays: load.workdays.length,
    replaced: existing === undefined ? null : { version: existing.version, source: existing.source, origin: existing.origin },
    replan,
  };
}

/**
 * Brings every pending plan that could read `year` onto the year's current arrangement, from where
 * the last run stopped. Only certificates whose expiry lies within the calendar's reach of the year
 * are read (per type, through the byType index), so the cost follows the certificates affected, not
 * the table. Progress is saved after each page on the year's item: a crash, a time budget running
 * out or a Lambda timeout leaves it `running`, and the next run continues. A newer load of the year
 * supersedes the run, which then stops; the newer load's own re-plan covers the same certificates.
 *
 * Returns the progress as saved, or undefined when the year has no re-plan to run.
 */
export async function replanCalendarYear(deps: CalendarDeps, year: number, options: { stopAtMs?: number } = {}): Promise<ReplanProgress | undefined> {
  const stored = await deps.calendars.getCalendarYear(year);
  if (stored?.replan === undefined || stored.replan.state === 'done') return stored?.replan;
  let progress: ReplanProgress = { ...stored.replan, typesDone: [...stored.replan.typesDone] };
  deps.calendarSource.invalidate();
  const calendar = await deps.calendarSource.current();
  const { from, to } = expiriesDependingOnYear(year);
  const wall = deps.wallClock ?? Date.now;
  const save = async (changes: Partial<ReplanProgress>): Promise<boolean> => {
    const next: ReplanProgress = { ...progress, ...changes };
    if (next.cursor === undefined) delete next.cursor;
    if (!(await deps.calendars.saveReplanProgress(year, next))) return false;
    progress = next;
    return true;
  };
  for (const type of deps.reference.catalogue.all().map((t) => t.code)) {
    if (progress.typesDone.includes(type)) continue;
    let cursor = progress.cursor;
    do {
      const page = await deps.replanSource.pendingCertificatesExpiring(type, from, to, cursor);
      let replanned = 0;
      // A few certificates at once: each is a read-modify-write of its own item, independent of the others.
      for (let i = 0; i < page.items.length; i += REPLAN_CONCURRENCY) {
        const changed = await Promise.all(page.items.slice(i, i + REPLAN_CONCURRENCY).map((c) => replanOne(deps, c, calendar, deps.clock.now())));
        replanned += changed.filter(Boolean).length;
      }
      cursor = page.nextCursor;
      const saved = await save({ examined: progress.examined + page.items.length, replanned: progress.replanned + replanned, cursor });
      if (!saved) {
        deps.logger.info({ year, version: progress.version }, 're-plan superseded by a newer load of the year');
        return progress;
      }
      if (options.stopAtMs !== undefined && wall() >= options.stopAtMs) {
        deps.logger.info({ year, version: progress.version, examined: progress.examined }, 're-plan paused; it continues on the next run');
        return progress;
      }
    } while (cursor !== undefined);
    if (!(await save({ typesDone: [...progress.typesDone, type], cursor: undefined }))) return progress;
  }
  // Other processes may have planned on their cached, older calendar until their cache ran out: once it
  // has everywhere (twice the cache's life, for clock differences), one more pass catches those plans.
  const recheckAfter = DateTime.fromISO(stored.loadedAt).plus({ milliseconds: 2 * CALENDAR_CACHE_MS }).toISO() ?? stored.loadedAt;
  await save({ state: 'done', finishedAt: deps.clock.now().toISO() ?? '', ...(progress.pass === 'load' ? { recheckAfter } : {}) });
  deps.logger.info({ year, version: progress.version, examined: progress.examined, replanned: progress.replanned }, 're-plan after calendar load done');
  return progress;
}

/**
 * Finishes every re-plan a crash or a time budget left running, and starts each recheck pass whose
 * time has come (at start, and before scheduled scans). Returns the years it worked on.
 */
export async function continueCalendarReplans(deps: CalendarDeps, options: { stopAtMs?: number } = {}): Promise<number[]> {
  const now = deps.clock.now();
  const nowIso = now.toISO() ?? '';
  const worked: number[] = [];
  for (const year of await deps.calendars.listCalendarYears()) {
    const replan = year.replan;
    if (replan === undefined) continue;
    if (replan.state === 'done') {
      if (replan.recheckAfter === undefined || now.toMillis() < DateTime.fromISO(replan.recheckAfter).toMillis()) continue;
      const recheck: ReplanProgress = { version: replan.version, pass: 'recheck', state: 'running', typesDone: [], examined: 0, replanned: 0, startedAt: nowIso };
      if (!(await deps.calendars.saveReplanProgress(year.year, recheck))) continue;
    }
    deps.logger.info({ year: year.year, version: year.version, pass: replan.state === 'done' ? 'recheck' : replan.pass }, 'continuing a calendar re-plan');
    worked.push(year.year);
    const progress = await replanCalendarYear(deps, year.year, options);
    if (progress?.state !== 'done') break;
  }
  return worked;
}

/**
 * Re-plans one certificate on `calendar`, keeping what was sent or skipped. Written only when the
 * plan changes, conditional on the certificate's version; a concurrent writer (a scan marking a
 * stage sent, a renewal) makes it read again and retry on the fresh record.
 */
async function replanOne(deps: CalendarDeps, stored: StoredCertificate, calendar: WorkingDays, now: DateTime): Promise<boolean> {
  let current: StoredCertificate | undefined = stored;
  for (let attempt = 0; attempt < 5 && current !== undefined; attempt += 1) {
    const type = deps.reference.catalogue.get(current.certificate.type);
    if (type === undefined) return false;
    const rule = deps.rules === undefined ? undefined : await deps.rules.ruleFor(type.code);
    const fresh = planFor(deps, current.certificate, now, calendar, rule);
    const next = mergeReplan(current.plan, fresh);
    if (!planChanged(current.plan, next)) return false;
    if (await deps.store.updatePlan(current.certificate, current.version, next, now.toISO() ?? '')) return true;
    current = await deps.store.getCertificate(current.certificate);
  }
  return false;
}
