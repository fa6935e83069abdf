/**
 * Reminder planning: from a certificate's expiry and its type's renewal window to the dated,
 * timed reminder stages. Pure: the calendar and `now` are inputs.
 *
 * Day arithmetic runs on integer day numbers (days since 1970-01-01) rather than luxon objects,
 * because a bulk import plans hundreds of thousands of certificates and the working-day loops ask
 * about every day they step over. luxon is used only where a wall-clock time of day matters.
 */
import { DateTime } from 'luxon';
import type {
  IsoDate,
  IsoInstant,
  Plan,
  PlannedStage,
  RenewalWindow,
  SendWindow,
  Span,
  StageName,
  StagePolicy,
  StageTiming,
} from './model.js';
import { DEFAULT_STAGE_POLICY, ZONE } from './model.js';
import { civilFromDay, dayFromCivil, daysInMonth } from './civil-days.js';

/** The one question planning asks the official calendar. `WorkingDayCalendar` satisfies it. */
export interface WorkingDays {
  isWorkingDay(date: IsoDate): { working: boolean; provisional: boolean };
}

export interface RenewalDeadline {
  renewalDeadline: IsoDate;
  windowOpens: IsoDate | null;
  /** True when a working-day count touched a year the calendar does not cover. */
  provisional: boolean;
}

export interface PlanInput {
  /** The certificate's last valid day; `null` when its type has no expiry. */
  expiresOn: IsoDate | null;
  renewalWindow: RenewalWindow | null;
  calendar: WorkingDays;
  /** The type's reminder stages, from its rule; without them, the default stages of `policy`. */
  stages?: readonly StageTiming[];
  /** The default rule's offsets, used when no `stages` are given (default `DEFAULT_STAGE_POLICY`). */
  policy?: StagePolicy;
  sendWindow: SendWindow;
  now: DateTime;
  /** `false` for a type without an expiry (the catalogue's `reminders`): nothing is planned. */
  reminders?: boolean;
  /** `false` when an operator switched the type's reminders off: the dates are known, no stage is planned. */
  enabled?: boolean;
}

/**
 * Today's three stages as data: the first reminder 30 days before the deadline, the final one 7
 * days before it, the expiry notice the day after expiry.
 */
export function defaultStageTimings(policy: StagePolicy = DEFAULT_STAGE_POLICY): StageTiming[] {
  return [
    { name: 'first', from: 'deadline', days: -policy.firstDaysBeforeDeadline },
    { name: 'final', from: 'deadline', days: -policy.finalDaysBeforeDeadline },
    { name: 'expired', from: 'expiry', days: policy.expiredDaysAfterExpiry },
  ];
}

/** Built once per policy object: a bulk import plans with the same one for every certificate. */
const DEFAULT_TIMINGS = new WeakMap<StagePolicy, StageTiming[]>();

function timingsOf(input: PlanInput): readonly StageTiming[] {
  if (input.stages !== undefined) return input.stages;
  const policy = input.policy ?? DEFAULT_STAGE_POLICY;
  let timings = DEFAULT_TIMINGS.get(policy);
  if (timings === undefined) DEFAULT_TIMINGS.set(policy, (timings = defaultStageTimings(policy)));
  return timings;
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

/**
 * Asia/Shanghai last observed daylight saving in 1991; from 1992 on it is UTC+8 all year, so a
 * local time can be turned into an instant by arithmetic. Earlier dates go through luxon.
 */
const FIXED_OFFSET_FROM_DAY = 8035; // 1992-01-01

/**
 * The longest official run of days off is the nine-day Spring Festival break. A calendar that
 * reports a month without a single working day is broken, and stepping on would never end.
 */
const MAX_DAYS_WITHOUT_WORK = 31;

// ---------------------------------------------------------------------------------------------
// Dates as day numbers

function digit(iso: string, at: number): number {
  const d = iso.charCodeAt(at) - 48;
  return d >= 0 && d <= 9 ? d : NaN;
}

/** "YYYY-MM-DD" to days since 1970-01-01. Throws on anything that is not a real date. */
function dayOf(iso: IsoDate): number {
  const year = digit(iso, 0) * 1000 + digit(iso, 1) * 100 + digit(iso, 2) * 10 + digit(iso, 3);
  const month = digit(iso, 5) * 10 + digit(iso, 6);
  const day = digit(iso, 8) * 10 + digit(iso, 9);
  if (
    iso.length !== 10 || iso[4] !== '-' || iso[7] !== '-' || Number.isNaN(year + month + day) ||
    month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)
  ) {
    throw new RangeError(`"${iso}" is not a date (YYYY-MM-DD)`);
  }
  return dayFromCivil(year, month, day);
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function formatIso(dayNumber: number): IsoDate {
  const { year, month, day } = civilFromDay(dayNumber);
  const yyyy = year >= 1000 && year <= 9999 ? `${year}` : String(year).padStart(4, '0');
  return `${yyyy}-${pad2(month)}-${pad2(day)}`;
}

/**
 * Every working-day question hands the calendar a date string, so the strings for 1970–2149 are
 * kept once made instead of being rebuilt for each of a million certificates.
 */
const ISO_CACHE: (IsoDate | undefined)[] = new Array<IsoDate | undefined>(65_536);

/** Days since 1970-01-01 to "YYYY-MM-DD". */
function isoOf(dayNumber: number): IsoDate {
  if (dayNumber >= 0 && dayNumber < ISO_CACHE.length) {
    return (ISO_CACHE[dayNumber] ??= formatIso(dayNumber));
  }
  return formatIso(dayNumber);
}

/** Calendar months, clamped to the target month's last day (31 May − 3 months = 28/29 Feb). */
function addMonthsToDay(dayNumber: number, months: number): number {
  const { year, month, day } = civilFromDay(dayNumber);
  const monthIndex = year * 12 + (month - 1) + months;
  const toYear = Math.floor(monthIndex / 12);
  const toMonth = monthIndex - toYear * 12 + 1;
  return dayFromCivil(toYear, toMonth, Math.min(day, daysInMonth(toYear, toMonth)));
}

/** `iso` plus `n` calendar days (negative steps back). */
export function addDays(iso: IsoDate, n: number): IsoDate {
  return isoOf(dayOf(iso) + n);
}

/** `iso` plus `n` calendar months, clamped to the month's end: addMonths('2026-05-31', -3) is '2026-02-28'. */
export function addMonths(iso: IsoDate, n: number): IsoDate {
  return isoOf(addMonthsToDay(dayOf(iso), n));
}

/** The calendar day `now` falls on in Asia/Shanghai. */
export function todayIn(now: DateTime): IsoDate {
  const today = now.setZone(ZONE).toISODate();
  if (today === null) throw new RangeError(`invalid instant: ${now.invalidReason ?? 'unknown reason'}`);
  return today;
}

// ---------------------------------------------------------------------------------------------
// Working days

/** Asks the calendar and remembers whether any answer was provisional, for one plan. */
class CalendarQuestions {
  provisional = false;

  constructor(private readonly calendar: WorkingDays) {}

  working(dayNumber: number): boolean {
    const answer = this.calendar.isWorkingDay(isoOf(dayNumber));
    if (answer.provisional) this.provisional = true;
    return answer.working;
  }

  /** The nearest working day from `dayNumber` (inclusive) in direction `step` (-1 or +1). */
  nearestWorking(dayNumber: number, step: -1 | 1): number {
    let day = dayNumber;
    for (let idle = 0; !this.working(day); idle++) {
      if (idle >= MAX_DAYS_WITHOUT_WORK) throw brokenCalendar(dayNumber);
      day += step;
    }
    return day;
  }

  /** Steps back from the day before `dayNumber`; the day on which the count reaches `n` working days. */
  workingDaysBefore(dayNumber: number, n: number): number {
    let day = dayNumber;
    let counted = 0;
    let idle = 0;
    while (counted < n) {
      day -= 1;
      if (this.working(day)) {
        counted += 1;
        idle = 0;
      } else if (++idle > MAX_DAYS_WITHOUT_WORK) {
        throw brokenCalendar(day);
      }
    }
    return day;
  }

  /** Steps forward from the day after `dayNumber`; the day on which the count reaches `n` working days. */
  workingDaysAfter(dayNumber: number, n: number): number {
    let day = dayNumber;
    let counted = 0;
    let idle = 0;
    while (counted < n) {
      day += 1;
      if (this.working(day)) {
        counted += 1;
        idle = 0;
      } else if (++idle > MAX_DAYS_WITHOUT_WORK) {
        throw brokenCalendar(day);
      }
    }
    return day;
  }
}

function brokenCalendar(dayNumber: number): RangeError {
  return new RangeError(`the calendar has no working day within ${MAX_DAYS_WITHOUT_WORK} days of ${isoOf(dayNumber)}`);
}

// ---------------------------------------------------------------------------------------------
// Renewal deadline

function spanBefore(dayNumber: number, span: Span, questions: CalendarQuestions): number {
  if ('days' in span) return dayNumber - span.days;
  if ('months' in span) return addMonthsToDay(dayNumber, -span.months);
  return questions.workingDaysBefore(dayNumber, span.workingDays);
}

function deadlineDays(
  expiry: number,
  window: RenewalWindow | null,
  questions: CalendarQuestions,
): { deadline: number; opens: number | null } {
  // No window, or the construction permit's start deadline: the key date itself is the deadline.
  if (window === null || 'beforeDeadline' in window) return { deadline: expiry, opens: null };
  if (window.semantics === 'between') {
    return { deadline: spanBefore(expiry, window.to, questions), opens: spanBefore(expiry, window.from, questions) };
  }
  if (window.semantics === 'withinBefore') {
    return { deadline: expiry, opens: spanBefore(expiry, window, questions) };
  }
  return { deadline: spanBefore(expiry, window, questions), opens: null };
}

/** The last day to apply for renewal, and the first day an application is accepted (if the rules say). */
export function renewalDeadline(
  expiresOn: IsoDate,
  window: RenewalWindow | null,
  calendar: WorkingDays,
): RenewalDeadline {
  const questions = new CalendarQuestions(calendar);
  const { deadline, opens } = deadlineDays(dayOf(expiresOn), window, questions);
  return {
    renewalDeadline: isoOf(deadline),
    windowOpens: opens === null ? null : isoOf(opens),
    provisional: questions.provisional,
  };
}

// ---------------------------------------------------------------------------------------------
// Send window

/** "HH:mm" to minutes after midnight, or NaN. Read by character: it runs once per plan. */
function minutesOf(clock: string): number {
  const hour = digit(clock, 0) * 10 + digit(clock, 1);
  const minute = digit(clock, 3) * 10 + digit(clock, 4);
  return clock.length === 5 && clock[2] === ':' && hour < 24 && minute < 60 ? hour * 60 + minute : NaN;
}

function windowMinutes(window: SendWindow): { start: number; end: number } {
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  if (Number.isNaN(start + end)) {
    throw new RangeError(`send window ${window.start}–${window.end} is not two times of day (HH:mm)`);
  }
  // An SMS to a citizen is never sent overnight, so a window that wraps past midnight is a mistake.
  if (start >= end) throw new RangeError(`send window start ${window.start} must be before its end ${window.end}`);
  return { start, end };
}

function msIntoLocalDay(local: DateTime): number {
  return ((local.hour * 60 + local.minute) * 60 + local.second) * 1000 + local.millisecond;
}

/** Whether `now` is inside the send window in Asia/Shanghai: start inclusive, end exclusive. */
export function isInsideSendWindow(now: DateTime, window: SendWindow): boolean {
  const { start, end } = windowMinutes(window);
  const ms = msIntoLocalDay(now.setZone(ZONE));
  return ms >= start * MINUTE_MS && ms < end * MINUTE_MS;
}

/** `now` if it is inside the send window, otherwise the next time the window opens (Asia/Shanghai). */
export function nextSendableInstant(now: DateTime, window: SendWindow): DateTime {
  const { start, end } = windowMinutes(window);
  const local = now.setZone(ZONE);
  const ms = msIntoLocalDay(local);
  if (ms >= start * MINUTE_MS && ms < end * MINUTE_MS) return local;
  const day = ms < start * MINUTE_MS ? local : local.plus({ days: 1 });
  return day.set({ hour: Math.floor(start / 60), minute: start % 60, second: 0, millisecond: 0 });
}

/** The instant the send window opens on a day, as epoch milliseconds and as an ISO string. */
function windowStartOn(dayNumber: number, date: IsoDate, startMinutes: number, startClock: string): { sendMs: number; sendAt: IsoInstant } {
  if (dayNumber >= FIXED_OFFSET_FROM_DAY) {
    return {
      sendMs: dayNumber * DAY_MS + startMinutes * MINUTE_MS - SHANGHAI_OFFSET_MS,
      sendAt: `${date}T${startClock}:00.000+08:00`,
    };
  }
  const local = DateTime.fromISO(`${date}T${startClock}`, { zone: ZONE });
  const sendAt = local.toISO();
  if (sendAt === null) throw new RangeError(`no send instant on ${date} at ${startClock}`);
  return { sendMs: local.toMillis(), sendAt };
}

// ---------------------------------------------------------------------------------------------
// Stages

/**
 * A stage on a day off before its anchor goes to the working day before it, so the holder hears
 * of it early rather than late; unless that is before the window opens, when an application
 * would be refused, so it goes to the next working day instead.
 */
function reminderWorkingDay(dayNumber: number, opens: number | null, questions: CalendarQuestions): number {
  const back = questions.nearestWorking(dayNumber, -1);
  if (opens !== null && back < opens) return questions.nearestWorking(dayNumber + 1, 1);
  return back;
}

/**
 * The day one stage falls on, or undefined when its anchor does not exist for the type (a stage
 * counted from `windowOpens` of a type without a window). No stage is dated before the window opens.
 */
function stageDay(
  stage: StageTiming,
  anchors: { windowOpens: number | null; deadline: number; expiry: number },
  questions: CalendarQuestions,
): number | undefined {
  const anchor = anchors[stage.from];
  if (anchor === null) return undefined;
  const opens = anchors.windowOpens;
  let day: number;
  let after: boolean;
  if (stage.workingDays !== undefined) {
    const n = stage.workingDays;
    day = n < 0 ? questions.workingDaysBefore(anchor, -n) : n > 0 ? questions.workingDaysAfter(anchor, n) : anchor;
    after = n > 0;
  } else {
    day = anchor + stage.days;
    after = stage.days > 0;
  }
  if (opens !== null && day < opens) day = opens;
  // After its anchor there is nothing to be early for: a stage on a day off goes on the next working day.
  return after ? questions.nearestWorking(day, 1) : reminderWorkingDay(day, opens, questions);
}

interface Candidate {
  stage: StageName;
  date: IsoDate;
  sendMs: number;
  sendAt: IsoInstant;
}

/**
 * The reminder stages for one certificate, from its type's rule (the default rule without one).
 * Stages whose time has already passed at `now` (a late upload, or an expired certificate) do not
 * all fire: only the latest becomes one catch-up message.
 */
export function planReminders(input: PlanInput): Plan {
  if (input.reminders === false || input.expiresOn === null) {
    return { renewalDeadline: input.expiresOn, windowOpens: null, calendarProvisional: false, stages: [] };
  }
  const { calendar, sendWindow, now } = input;
  const questions = new CalendarQuestions(calendar);
  const expiry = dayOf(input.expiresOn);
  const { deadline, opens } = deadlineDays(expiry, input.renewalWindow, questions);
  const { start } = windowMinutes(sendWindow);

  const candidates: Candidate[] = [];
  if (input.enabled !== false) {
    const anchors = { windowOpens: opens, deadline, expiry };
    const dated: Array<{ name: StageName; day: number }> = [];
    for (const stage of timingsOf(input)) {
      const day = stageDay(stage, anchors, questions);
      if (day !== undefined) dated.push({ name: stage.name, day });
    }
    // In date order (stable: a rule's order breaks ties). Two stages on one day would only repeat each
    // other (a final reminder the window pushed onto the first), so the one listed first goes alone.
    dated.sort((a, b) => a.day - b.day);
    let previous = -Infinity;
    for (const { name, day } of dated) {
      if (day === previous) continue;
      previous = day;
      const date = isoOf(day);
      candidates.push({ stage: name, date, ...windowStartOn(day, date, start, sendWindow.start) });
    }
  }

  return {
    renewalDeadline: isoOf(deadline),
    windowOpens: opens === null ? null : isoOf(opens),
    calendarProvisional: questions.provisional,
    stages: settleLateStages(candidates, now, sendWindow),
  };
}

/**
 * A certificate uploaded after some of its reminder times sends at most one catch-up: the latest
 * passed stage, as soon as the send window allows. Older passed stages are skipped, never sent in
 * a burst. If the next future stage would go out no later than the catch-up, it says the same thing
 * more recently, so the catch-up is skipped as superseded.
 */
function settleLateStages(candidates: Candidate[], now: DateTime, sendWindow: SendWindow): PlannedStage[] {
  const nowMs = now.toMillis();
  if (Number.isNaN(nowMs)) throw new RangeError(`invalid instant: ${now.invalidReason ?? 'unknown reason'}`);

  let latestPassed: Candidate | undefined;
  let earliestFuture: Candidate | undefined;
  for (const c of candidates) {
    if (c.sendMs <= nowMs) {
      if (latestPassed === undefined || c.sendMs > latestPassed.sendMs) latestPassed = c;
    } else if (earliestFuture === undefined || c.sendMs < earliestFuture.sendMs) {
      earliestFuture = c;
    }
  }

  if (latestPassed === undefined) {
    return candidates.map((c) => ({ stage: c.stage, date: c.date, sendAt: c.sendAt, status: 'pending' }));
  }

  const next = nextSendableInstant(now, sendWindow);
  const catchUpMs = Math.max(next.toMillis(), latestPassed.sendMs);
  const catchUpAt = catchUpMs === latestPassed.sendMs ? latestPassed.sendAt : next.toISO() ?? latestPassed.sendAt;
  const superseded = earliestFuture !== undefined && earliestFuture.sendMs <= catchUpMs;

  return candidates.map((c): PlannedStage => {
    const { stage, date } = c;
    if (c.sendMs > nowMs) return { stage, date, sendAt: c.sendAt, status: 'pending' };
    if (c !== latestPassed) return { stage, date, sendAt: c.sendAt, status: 'skipped', note: 'passedBeforeUpload' };
    if (superseded) return { stage, date, sendAt: c.sendAt, status: 'skipped', note: 'superseded' };
    return { stage, date, sendAt: catchUpAt, status: 'pending', note: 'catchUp' };
  });
}

/** True when the renewal deadline day is already behind `now`'s day in Asia/Shanghai. */
export function deadlinePassed(plan: Plan, now: DateTime): boolean {
  return plan.renewalDeadline !== null && plan.renewalDeadline < todayIn(now);
}
