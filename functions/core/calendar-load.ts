/**
 * An operator's load of one year's holiday arrangement (PUT /v1/calendar/{year}), checked before
 * anything is stored, and the pure rules for re-planning once it is stored. Pure: no I/O, no clock.
 */
import * as z from 'zod';
import { civilFromDay, dayFromCivil } from './civil-days.js';
import type { CalendarYear } from './calendar.js';
import type { IsoDate, PlannedStage, Plan } from './model.js';

/** The body of a calendar load; the year comes from the path. */
export interface CalendarLoad {
  source: string;
  holidays: IsoDate[];
  workdays: IsoDate[];
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const WEEKDAY_ZH = ['星期日', '星期一', '星期二', '星期三', '星期四', '星期五', '星期六'];

function dayNumberOf(date: string): number | undefined {
  const match = DATE.exec(date);
  if (match === null) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1) return undefined;
  const dayNumber = dayFromCivil(year, month, day);
  // dayFromCivil rolls 02-30 over into March: a real date comes back as itself.
  const back = civilFromDay(dayNumber);
  return back.year === year && back.month === month && back.day === day ? dayNumber : undefined;
}

function weekdayOf(dayNumber: number): number {
  // 1970-01-01 was a Thursday (4); 0 is Sunday.
  return (((dayNumber + 4) % 7) + 7) % 7;
}

/**
 * The body schema for one year. Every problem is reported with its path and a reason an operator
 * can act on, in Chinese and English, so a typo in a notice's dates is found before it re-plans anything.
 */
export function calendarLoadSchema(year: number) {
  return z
    .strictObject({
      source: z
        .string({ error: '缺少 source：请填写国务院通知的名称或文号 / source is required: the notice\'s title or document number' })
        .trim()
        .min(1, 'source 不能为空：请填写国务院通知的名称或文号 / source is required: the notice\'s title or document number')
        .max(500),
      holidays: z.array(z.string()).min(1, `holidays 不能为空：请列出通知中 ${year} 年的全部放假日期 / holidays is empty: list every day off the notice gives for ${year}`),
      workdays: z.array(z.string()).default([]),
    })
    .superRefine((load, ctx) => {
      const listed = new Map<string, 'holidays' | 'workdays'>();
      const check = (list: 'holidays' | 'workdays', date: string, index: number): void => {
        const path = [list, index];
        const dayNumber = dayNumberOf(date);
        if (dayNumber === undefined) {
          ctx.addIssue({ code: 'custom', path, message: `"${date}" 不是 YYYY-MM-DD 格式的日期 / "${date}" is not a YYYY-MM-DD date` });
          return;
        }
        if (Number(date.slice(0, 4)) !== year) {
          ctx.addIssue({ code: 'custom', path, message: `${date} 不在 ${year} 年内 / ${date} is not in ${year}` });
        }
        const earlier = listed.get(date);
        if (earlier !== undefined && earlier !== list) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: `${date} 同时列在 holidays 和 workdays 中，一天不能既放假又上班 / ${date} is in both holidays and workdays; a day is either off or a make-up workday`,
          });
        } else if (earlier !== undefined) {
          ctx.addIssue({ code: 'custom', path, message: `${date} 重复列出 / ${date} is listed twice in ${list}` });
        }
        listed.set(date, list);
        const weekday = weekdayOf(dayNumber);
        if (list === 'workdays' && weekday !== 0 && weekday !== 6) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: `${date} 是${WEEKDAY_ZH[weekday] ?? ''}，调休上班日只能是周六或周日 / ${date} is a weekday; a make-up workday (调休上班) is always a Saturday or Sunday`,
          });
        }
      };
      load.holidays.forEach((date, index) => check('holidays', date, index));
      load.workdays.forEach((date, index) => check('workdays', date, index));
    })
    .transform((load): CalendarLoad => ({ source: load.source, holidays: [...load.holidays].sort(), workdays: [...load.workdays].sort() }));
}

/** Years an operator may load: a notice is for a year near now, never for 1900 or 3000. */
export const calendarYearParam = z.coerce
  .number()
  .int()
  .min(2000, '年份应在 2000–2100 之间 / the year must be between 2000 and 2100')
  .max(2100, '年份应在 2000–2100 之间 / the year must be between 2000 and 2100');

export function toCalendarYear(year: number, load: CalendarLoad): CalendarYear {
  return { year, source: load.source, holidays: load.holidays, workdays: load.workdays };
}

// ---------------------------------------------------------------------------------------------
// Re-planning after a load

/**
 * How far from its expiry a plan can read the calendar. Before: the longest renewal window in the
 * catalogue (6 months, or 90 working days ≈ 4½ months with holidays), the first reminder 30 days
 * before the deadline, and a month of moving off days off; 400 days is a safe bound. After: the
 * `expired` stage moves forward off days off for at most a month. A unit test holds every
 * catalogue type to these bounds.
 */
export const CALENDAR_REACH_BEFORE_EXPIRY_DAYS = 400;
export const CALENDAR_REACH_AFTER_EXPIRY_DAYS = 40;

/** The expiry dates whose plans may read `year`'s calendar: only these are re-planned when it is loaded. */
export function expiriesDependingOnYear(year: number): { from: IsoDate; to: IsoDate } {
  return {
    from: isoOfDay(dayFromCivil(year, 1, 1) - CALENDAR_REACH_AFTER_EXPIRY_DAYS),
    to: isoOfDay(dayFromCivil(year, 12, 31) + CALENDAR_REACH_BEFORE_EXPIRY_DAYS),
  };
}

function isoOfDay(dayNumber: number): IsoDate {
  const { year, month, day } = civilFromDay(dayNumber);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/**
 * A stored plan re-planned on a new calendar. What already happened stays as it was: a stage sent
 * or skipped keeps its record (a sent reminder is never sent again), and only pending stages take
 * their new dates. A pending stage the new plan no longer has (a `final` that now falls on or before
 * `first`) is dropped.
 */
export function mergeReplan(stored: Plan, replanned: Plan): Plan {
  const done = new Map<string, PlannedStage>();
  for (const stage of stored.stages) if (stage.status !== 'pending') done.set(stage.stage, stage);
  const stages = replanned.stages.map((stage) => done.get(stage.stage) ?? stage);
  for (const [name, stage] of done) if (!stages.some((s) => s.stage === name)) stages.push(stage);
  // Stages are named by rules, so their order is their dates' order.
  stages.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return { ...replanned, stages };
}

/** Whether writing `next` over `stored` would change anything a reader or the scan sees. */
export function planChanged(stored: Plan, next: Plan): boolean {
  if (stored.renewalDeadline !== next.renewalDeadline || stored.windowOpens !== next.windowOpens) return true;
  if (stored.calendarProvisional !== next.calendarProvisional || stored.stages.length !== next.stages.length) return true;
  return stored.stages.some((s, i) => {
    const n = next.stages[i];
    return n === undefined || s.stage !== n.stage || s.date !== n.date || s.sendAt !== n.sendAt || s.status !== n.status || s.note !== n.note;
  });
}

// ---------------------------------------------------------------------------------------------
// Coverage warnings

/** Reminders this many days ahead are watched for a year with no loaded arrangement. */
export const COVERAGE_HORIZON_DAYS = 60;

export interface CalendarWarning {
  code: 'calendar_year_missing';
  year: number;
  /** The first day in the horizon that the missing year holds. */
  from: IsoDate;
  message: string;
}

export interface CalendarCoverage {
  /** The last day of the unbroken run of loaded years that starts with today's year; null if today's year is missing. */
  coveredThrough: IsoDate | null;
  warnings: CalendarWarning[];
}

/**
 * Which loaded years reach ahead from `today`, and a warning for each year without an arrangement
 * that a day in the next 60 days falls in: reminders on those days are planned on plain
 * Monday–Friday (`calendarProvisional`) until an operator loads the State Council's notice.
 */
export function calendarCoverage(coveredYears: readonly number[], today: IsoDate): CalendarCoverage {
  const covered = new Set(coveredYears);
  const todayYear = Number(today.slice(0, 4));
  let last: number | undefined;
  for (let year = todayYear; covered.has(year); year += 1) last = year;
  const horizonEnd = isoOfDay(dayNumberOf(today)! + COVERAGE_HORIZON_DAYS);
  const warnings: CalendarWarning[] = [];
  for (let year = todayYear; year <= Number(horizonEnd.slice(0, 4)); year += 1) {
    if (covered.has(year)) continue;
    const from = year === todayYear ? today : `${year}-01-01`;
    warnings.push({
      code: 'calendar_year_missing',
      year,
      from,
      message:
        `${year} 年节假日安排尚未录入：${from} 起 ${COVERAGE_HORIZON_DAYS} 天内的提醒暂按周一至周五排期（calendarProvisional）。` +
        `请录入国务院通知：certalarm calendar load ${year} FILE --source "…" / ` +
        `the ${year} holiday calendar is not loaded: reminders from ${from} within the next ${COVERAGE_HORIZON_DAYS} days are planned on plain ` +
        `Monday–Friday (calendarProvisional). Load the State Council's notice: certalarm calendar load ${year} FILE --source "…"`,
    });
  }
  return { coveredThrough: last === undefined ? null : `${last}-12-31`, warnings };
}
