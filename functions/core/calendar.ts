import * as z from 'zod';
import { dayFromCivil, daysInMonth } from './civil-days.js';
import { ReferenceDataError } from './errors.js';
import type { IsoDate } from './model.js';

/**
 * One year of the State Council's holiday arrangement (国务院办公厅关于<year>年部分节假日安排的通知).
 * `holidays` are the days off it lists (weekend days inside a holiday run included);
 * `workdays` are the weekend days it turns into working days (调休上班).
 */
export interface CalendarYear {
  year: number;
  holidays: IsoDate[];
  workdays: IsoDate[];
  source: string;
}

export interface WorkingDayAnswer {
  readonly working: boolean;
  /** True when no loaded arrangement covers the year, so the answer is plain Mon–Fri. */
  readonly provisional: boolean;
}

// The planner asks millions of times: hand out shared, frozen answers instead of allocating one per call.
const WORKING: WorkingDayAnswer = Object.freeze({ working: true, provisional: false });
const NOT_WORKING: WorkingDayAnswer = Object.freeze({ working: false, provisional: false });
const PROVISIONAL_WORKING: WorkingDayAnswer = Object.freeze({ working: true, provisional: true });
const PROVISIONAL_NOT_WORKING: WorkingDayAnswer = Object.freeze({ working: false, provisional: true });

/** Day status codes in a year table; 0 means "follow the Mon–Fri rule". */
const LISTED_HOLIDAY = 1;
const LISTED_WORKDAY = 2;

/**
 * Answers "is this a working day in mainland China?" for the planning core.
 *
 * A covered year answers from its arrangement: a listed make-up workday is working, a listed
 * holiday is not, any other day follows Mon–Fri. A year no arrangement covers falls back to
 * Mon–Fri and says so with `provisional: true`, because the State Council publishes each year's
 * arrangement only weeks before it starts.
 */
export class WorkingDayCalendar {
  readonly #firstYear: number;
  /** Indexed by `year - #firstYear`, then by day of year (0-based); undefined for uncovered years. */
  readonly #tables: (Uint8Array | undefined)[] = [];
  /** Day number of 1 January for each covered year, indexed like #tables. */
  readonly #starts: number[] = [];
  readonly #sources = new Map<number, string>();

  constructor(years: readonly CalendarYear[]) {
    for (const calendarYear of years) {
      const problems: string[] = [];
      checkCalendarYear(calendarYear, (path, message) => problems.push(`${path.join('.')}: ${message}`));
      if (problems.length > 0) {
        throw new ReferenceDataError(`calendar year ${calendarYear.year} (${calendarYear.source}): ${problems.join('; ')}`);
      }
      if (this.#sources.has(calendarYear.year)) {
        throw new ReferenceDataError(`calendar year ${calendarYear.year} is given twice`);
      }
      this.#sources.set(calendarYear.year, calendarYear.source);
    }
    this.#firstYear = years.length === 0 ? 0 : Math.min(...years.map((y) => y.year));
    for (const { year, holidays, workdays } of years) {
      const start = dayFromCivil(year, 1, 1);
      const table = new Uint8Array(dayFromCivil(year + 1, 1, 1) - start);
      for (const date of holidays) table[epochDayOf(date) - start] = LISTED_HOLIDAY;
      for (const date of workdays) table[epochDayOf(date) - start] = LISTED_WORKDAY;
      this.#tables[year - this.#firstYear] = table;
      this.#starts[year - this.#firstYear] = start;
    }
  }

  /** Throws a RangeError when `date` is not a real "YYYY-MM-DD" day. */
  isWorkingDay(date: IsoDate): WorkingDayAnswer {
    const dayNumber = epochDayOf(date);
    // 1970-01-01 was a Thursday (4); 0 is Sunday.
    const weekday = (((dayNumber + 4) % 7) + 7) % 7;
    const weekdayRule = weekday !== 0 && weekday !== 6;
    // epochDayOf has checked the four year digits, so reading them again cannot fail.
    const year =
      (date.charCodeAt(0) - 48) * 1000 + (date.charCodeAt(1) - 48) * 100 + (date.charCodeAt(2) - 48) * 10 + (date.charCodeAt(3) - 48);
    const index = year - this.#firstYear;
    const table = index >= 0 ? this.#tables[index] : undefined;
    if (table === undefined) return weekdayRule ? PROVISIONAL_WORKING : PROVISIONAL_NOT_WORKING;
    const status = table[dayNumber - (this.#starts[index] ?? 0)];
    if (status === LISTED_WORKDAY) return WORKING;
    if (status === LISTED_HOLIDAY) return NOT_WORKING;
    return weekdayRule ? WORKING : NOT_WORKING;
  }

  /** Years answered from an arrangement, ascending. */
  coveredYears(): number[] {
    return [...this.#sources.keys()].sort((a, b) => a - b);
  }

  /** Where a covered year's arrangement came from, e.g. "chinese-days 1.5.7". */
  sourceOf(year: number): string | undefined {
    return this.#sources.get(year);
  }
}

/** The schema of a `data/holidays/<year>.json` file. */
export const calendarYearSchema = z
  .strictObject({
    year: z.int().min(1949).max(9999),
    holidays: z.array(z.string()),
    workdays: z.array(z.string()),
    source: z.string().trim().min(1),
  })
  .superRefine((calendarYear, ctx) => {
    checkCalendarYear(calendarYear, (path, message) => ctx.addIssue({ code: 'custom', path, message }));
  });

/**
 * The rules a year arrangement must satisfy, shared by the file schema and the constructor so a
 * calendar built in code is held to the same standard as one read from disk.
 */
function checkCalendarYear(
  calendarYear: CalendarYear,
  report: (path: (string | number)[], message: string) => void,
): void {
  const seen = new Map<string, string>();
  const check = (list: 'holidays' | 'workdays', date: string, index: number): void => {
    let dayNumber: number;
    try {
      dayNumber = epochDayOf(date);
    } catch {
      report([list, index], `"${date}" is not a YYYY-MM-DD date`);
      return;
    }
    if (Number(date.slice(0, 4)) !== calendarYear.year) {
      report([list, index], `${date} is not in ${calendarYear.year}`);
    }
    const earlier = seen.get(date);
    if (earlier !== undefined) {
      report([list, index], `${date} is already listed in ${earlier}`);
    }
    seen.set(date, list);
    if (list === 'workdays') {
      const weekday = (((dayNumber + 4) % 7) + 7) % 7;
      if (weekday !== 0 && weekday !== 6) {
        report([list, index], `${date} is a weekday; a make-up workday (调休上班) is always a Saturday or Sunday`);
      }
    }
  };
  if (!Number.isInteger(calendarYear.year)) report(['year'], `${calendarYear.year} is not a year`);
  calendarYear.holidays.forEach((date, index) => check('holidays', date, index));
  calendarYear.workdays.forEach((date, index) => check('workdays', date, index));
}

/** Validates a "YYYY-MM-DD" day and returns its day number; throws a RangeError otherwise. */
function epochDayOf(date: string): number {
  if (date.length !== 10 || date.charCodeAt(4) !== 45 || date.charCodeAt(7) !== 45) {
    throw new RangeError(`"${date}" is not a YYYY-MM-DD date`);
  }
  const year = digit(date, 0) * 1000 + digit(date, 1) * 100 + digit(date, 2) * 10 + digit(date, 3);
  const month = digit(date, 5) * 10 + digit(date, 6);
  const day = digit(date, 8) * 10 + digit(date, 9);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new RangeError(`"${date}" is not a day of the calendar`);
  }
  return dayFromCivil(year, month, day);
}

function digit(text: string, index: number): number {
  const value = text.charCodeAt(index) - 48;
  if (value < 0 || value > 9) throw new RangeError(`"${text}" is not a YYYY-MM-DD date`);
  return value;
}

