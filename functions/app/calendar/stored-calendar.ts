/**
 * The working-day calendar as the store holds it. The bundled data (chinese-days and
 * data/holidays/*.json) only seeds the store; operators' loads live there too, so a load takes
 * effect in every process within the cache's lifetime, without a redeploy.
 */
import { WorkingDayCalendar, type CalendarYear } from '../../core/calendar.js';
import { calendarCoverage, type CalendarCoverage } from '../../core/calendar-load.js';
import { todayIn } from '../../core/planning.js';
import type { CalendarSource, CalendarStore, Clock } from '../../core/ports.js';
import type { Logger } from '../../core/ports.js';

/** How long a process plans with the calendar it read before reading the store again. */
export const CALENDAR_CACHE_MS = 60_000;

export const BUNDLED_LOADER = 'bundled data';

/**
 * Stores each bundled year the store does not hold yet. A year already stored, whether seeded
 * earlier or loaded by an operator, is never overwritten: the write is conditional on its absence.
 */
export async function seedCalendar(store: CalendarStore, bundled: readonly CalendarYear[], clock: Clock, logger: Logger): Promise<number[]> {
  const stored = new Set((await store.listCalendarYears()).map((y) => y.year));
  const seeded: number[] = [];
  const loadedAt = clock.now().toISO() ?? '';
  for (const year of bundled) {
    if (stored.has(year.year)) continue;
    const written = await store.putCalendarYear(
      { year: year.year, source: year.source, holidays: [...year.holidays], workdays: [...year.workdays], version: 1, origin: 'bundled', loadedBy: BUNDLED_LOADER, loadedAt },
      undefined,
    );
    if (written) seeded.push(year.year);
  }
  if (seeded.length > 0) logger.info({ years: seeded }, 'holiday calendar seeded from the bundled data');
  return seeded;
}

/**
 * A CalendarSource over the store with a short cache. The first read of a process seeds the store
 * from the bundled data. Concurrent callers share one read.
 */
export class StoredCalendarSource implements CalendarSource {
  #cached: { calendar: WorkingDayCalendar; readAtMs: number } | undefined;
  #reading: Promise<WorkingDayCalendar> | undefined;
  #seeded = false;

  constructor(
    private readonly deps: { calendars: CalendarStore; bundled: readonly CalendarYear[]; clock: Clock; logger: Logger },
    private readonly ttlMs: number = CALENDAR_CACHE_MS,
  ) {}

  async current(): Promise<WorkingDayCalendar> {
    const nowMs = this.deps.clock.now().toMillis();
    if (this.#cached !== undefined && nowMs - this.#cached.readAtMs < this.ttlMs && nowMs >= this.#cached.readAtMs) return this.#cached.calendar;
    this.#reading ??= this.read(nowMs).finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  invalidate(): void {
    this.#cached = undefined;
  }

  private async read(nowMs: number): Promise<WorkingDayCalendar> {
    if (!this.#seeded) {
      await seedCalendar(this.deps.calendars, this.deps.bundled, this.deps.clock, this.deps.logger);
      this.#seeded = true;
    }
    const years = await this.deps.calendars.listCalendarYears();
    const calendar = new WorkingDayCalendar(years.map(({ year, source, holidays, workdays }) => ({ year, source, holidays, workdays })));
    this.#cached = { calendar, readAtMs: nowMs };
    return calendar;
  }
}

/** Coverage and warnings as of the clock's today, from the calendar a process currently plans with. */
export async function currentCoverage(source: CalendarSource, clock: Clock): Promise<CalendarCoverage> {
  const calendar = await source.current();
  return calendarCoverage(calendar.coveredYears(), todayIn(clock.now()));
}

/** Writes each coverage warning to the service log, where the operations alarms and people look. */
export async function logCalendarWarnings(source: CalendarSource, clock: Clock, logger: Logger): Promise<void> {
  const { warnings } = await currentCoverage(source, clock);
  for (const warning of warnings) logger.warn({ calendarWarning: warning.code, year: warning.year, from: warning.from }, warning.message);
}
