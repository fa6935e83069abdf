import { calendarYearParam } from '../../../core/calendar-load.js';
import type { StoredCalendarYear } from '../../../core/ports.js';
import { CalendarLoadConflict, CalendarLoadRejected, loadCalendarYear, type CalendarDeps } from '../../calendar/load-calendar.js';
import { currentCoverage } from '../../calendar/stored-calendar.js';
import type { HttpAppDeps, Route } from '../app.js';
import { HttpError, reply } from '../http.js';
import type { calendarListContract, calendarLoadContract, calendarYearContract } from '../../../contracts/api/calendar.js';
import { parseJsonBody, parseWith } from '../parse.js';

/** API Gateway gives up after 30 s: a load re-plans for this long, and a running re-plan continues in the scheduled scans. */
const REPLAN_BUDGET_MS = 20_000;

export function calendarDeps(deps: HttpAppDeps): CalendarDeps {
  if (deps.calendars === undefined || deps.calendarSource === undefined || deps.replanSource === undefined) {
    throw new HttpError(404, 'not_found', 'the holiday calendar is not kept in the store in this deployment');
  }
  return { ...deps, calendars: deps.calendars, calendarSource: deps.calendarSource, replanSource: deps.replanSource };
}

function yearOf(params: string[]): number {
  return parseWith(calendarYearParam, params[0] ?? '', 'year');
}

function summaryView(y: StoredCalendarYear) {
  return {
    year: y.year,
    source: y.source,
    holidays: y.holidays.length,
    workdays: y.workdays.length,
    version: y.version,
    origin: y.origin,
    loadedBy: y.loadedBy,
    loadedAt: y.loadedAt,
    ...(y.replan !== undefined ? { replan: y.replan } : {}),
  };
}

export const calendarRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/v1\/calendar$/,
    access: 'readCertificates',
    handler: async (_req, _p, deps) => {
      const calendar = calendarDeps(deps);
      const years = await calendar.calendars.listCalendarYears();
      const coverage = await currentCoverage(calendar.calendarSource, deps.clock);
      return reply<typeof calendarListContract>(200, { years: years.map(summaryView), coveredThrough: coverage.coveredThrough, warnings: coverage.warnings });
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/calendar\/([^/]+)$/,
    access: 'readCertificates',
    handler: async (_req, params, deps) => {
      const calendar = calendarDeps(deps);
      const year = yearOf(params);
      const stored = await calendar.calendars.getCalendarYear(year);
      if (stored === undefined) {
        throw new HttpError(
          404,
          'not_found',
          `${year} 年节假日安排尚未录入，排期暂按周一至周五 / no holiday arrangement is loaded for ${year}: plans treat it as plain Monday–Friday (calendarProvisional)`,
        );
      }
      const history = await calendar.calendars.calendarYearHistory(year);
      return reply<typeof calendarYearContract>(200, {
        year: stored.year,
        source: stored.source,
        holidays: stored.holidays,
        workdays: stored.workdays,
        version: stored.version,
        origin: stored.origin,
        loadedBy: stored.loadedBy,
        loadedAt: stored.loadedAt,
        ...(stored.replan !== undefined ? { replan: stored.replan } : {}),
        history: history.map((h) => ({ ...summaryView(h), holidays: h.holidays, workdays: h.workdays })),
      });
    },
  },
  {
    method: 'PUT',
    pattern: /^\/v1\/calendar\/([^/]+)$/,
    access: 'loadCalendar',
    handler: async (req, params, deps, principal) => {
      const calendar = calendarDeps(deps);
      const year = yearOf(params);
      const wall = deps.wallClock ?? Date.now;
      try {
        const result = await loadCalendarYear(calendar, principal, year, parseJsonBody(req), { stopAtMs: wall() + REPLAN_BUDGET_MS });
        return reply<typeof calendarLoadContract>(200, result);
      } catch (error) {
        if (error instanceof CalendarLoadRejected) throw new HttpError(400, 'invalid_calendar', error.message, error.issues);
        if (error instanceof CalendarLoadConflict) throw new HttpError(409, 'conflict', error.message);
        throw error;
      }
    },
  },
];
