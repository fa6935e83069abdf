import * as z from 'zod';
import { day, instant } from './common.js';

/** How far a calendar load's re-plan has come. */
export const calendarReplanContract = z.object({
  version: z.number().int(),
  pass: z.enum(['load', 'recheck']),
  state: z.enum(['running', 'done']),
  recheckAfter: instant.optional(),
  typesDone: z.array(z.string()),
  cursor: z.string().optional(),
  examined: z.number().int(),
  replanned: z.number().int(),
  startedAt: instant,
  finishedAt: instant.optional(),
});

/** A year of `GET /v1/calendar`: counts of days, not the days. */
export const calendarYearSummaryContract = z.object({
  year: z.number().int(),
  source: z.string(),
  holidays: z.number().int(),
  workdays: z.number().int(),
  version: z.number().int(),
  origin: z.enum(['bundled', 'operator']),
  loadedBy: z.string(),
  loadedAt: instant,
  replan: calendarReplanContract.optional(),
});

export const calendarWarningContract = z.object({
  code: z.literal('calendar_year_missing'),
  year: z.number().int(),
  from: day,
  message: z.string(),
});

export const calendarListContract = z.object({
  years: z.array(calendarYearSummaryContract),
  coveredThrough: day.nullable(),
  warnings: z.array(calendarWarningContract),
});

/** `GET /v1/calendar/{year}`: the days, and every earlier version of the year. */
export const calendarYearContract = calendarYearSummaryContract.extend({
  holidays: z.array(day),
  workdays: z.array(day),
  history: z.array(calendarYearSummaryContract.extend({ holidays: z.array(day), workdays: z.array(day) })),
});

/** `PUT /v1/calendar/{year}`. */
export const calendarLoadContract = z.object({
  year: z.number().int(),
  version: z.number().int(),
  source: z.string(),
  holidays: z.number().int(),
  workdays: z.number().int(),
  replaced: z.object({ version: z.number().int(), source: z.string(), origin: z.string() }).nullable(),
  replan: calendarReplanContract,
});
