import { readFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  calendarCoverage,
  calendarLoadSchema,
  expiriesDependingOnYear,
  mergeReplan,
  planChanged,
} from '../../functions/core/calendar-load.js';
import { DEFAULT_SEND_WINDOW, DEFAULT_STAGE_POLICY, ZONE, type Plan } from '../../functions/core/model.js';
import { addDays, planReminders, type WorkingDays } from '../../functions/core/planning.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';

/** The invented 2027 arrangement the tests load (not the State Council's: none exists yet). */
const FIXTURE_2027 = JSON.parse(readFileSync(new URL('../fixtures/holidays/2027-invented.json', import.meta.url), 'utf8')) as {
  holidays: string[];
  workdays: string[];
  source: string;
};

function issuesOf(year: number, body: unknown): Array<{ path: string; message: string }> {
  const parsed = calendarLoadSchema(year).safeParse(body);
  if (parsed.success) return [];
  return parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

describe('Schema: calendarLoadSchema', () => {
  it('accepts a notice with its source, days off and make-up workdays, sorted', () => {
    // Prepare
    const body = { source: FIXTURE_2027.source, holidays: [...FIXTURE_2027.holidays].reverse(), workdays: FIXTURE_2027.workdays };

    // Act
    const load = calendarLoadSchema(2027).parse(body);

    // Assess
    expect(load.holidays).toEqual([...FIXTURE_2027.holidays].sort());
    expect(load.workdays).toEqual(FIXTURE_2027.workdays);
    expect(load.source).toBe(FIXTURE_2027.source);
  });

  it('refuses a date outside the year, naming it and the year in Chinese and English', () => {
    // Act
    const issues = issuesOf(2027, { source: '国办发明电〔2026〕N号', holidays: ['2027-01-01', '2026-12-31'], workdays: [] });

    // Assess
    expect(issues).toEqual([{ path: 'holidays.1', message: '2026-12-31 不在 2027 年内 / 2026-12-31 is not in 2027' }]);
  });

  it('refuses a date listed both as a day off and as a make-up workday', () => {
    // Act
    const issues = issuesOf(2027, { source: '国办发明电〔2026〕N号', holidays: ['2027-01-01', '2027-01-02'], workdays: ['2027-01-02'] });

    // Assess
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('workdays.0');
    expect(issues[0]?.message).toContain('2027-01-02 同时列在 holidays 和 workdays 中');
    expect(issues[0]?.message).toContain('is in both holidays and workdays');
  });

  it('refuses a make-up workday that is not a Saturday or Sunday', () => {
    // Act (2027-01-04 is a Monday)
    const issues = issuesOf(2027, { source: '国办发明电〔2026〕N号', holidays: ['2027-01-01'], workdays: ['2027-01-04'] });

    // Assess
    expect(issues).toEqual([
      {
        path: 'workdays.0',
        message: '2027-01-04 是星期一，调休上班日只能是周六或周日 / 2027-01-04 is a weekday; a make-up workday (调休上班) is always a Saturday or Sunday',
      },
    ]);
  });

  it('refuses an empty list of days off', () => {
    // Act
    const issues = issuesOf(2027, { source: '国办发明电〔2026〕N号', holidays: [], workdays: ['2027-01-09'] });

    // Assess
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('holidays');
    expect(issues[0]?.message).toContain('holidays is empty');
  });

  it('refuses a load without a source, or with a blank one', () => {
    // Act
    const missing = issuesOf(2027, { holidays: ['2027-01-01'], workdays: [] });
    const blank = issuesOf(2027, { source: '  ', holidays: ['2027-01-01'], workdays: [] });

    // Assess
    expect(missing.map((i) => i.path)).toEqual(['source']);
    expect(missing[0]?.message).toContain('source is required');
    expect(blank.map((i) => i.path)).toEqual(['source']);
  });

  it('refuses a day that does not exist, and unknown fields', () => {
    // Act
    const issues = issuesOf(2027, { source: 'x', holidays: ['2027-02-29'], workdays: [], year: 2027 });

    // Assess
    expect(issues.map((i) => i.path).sort()).toEqual(['', 'holidays.0']);
    expect(issues.find((i) => i.path === 'holidays.0')?.message).toContain('is not a YYYY-MM-DD date');
  });
});

describe('Function: expiriesDependingOnYear', () => {
  /** A calendar that answers Mon–Fri and remembers every year it was asked about. */
  function askedYears(): WorkingDays & { years: Set<number> } {
    const years = new Set<number>();
    return {
      years,
      isWorkingDay(date) {
        years.add(Number(date.slice(0, 4)));
        const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
        return { working: weekday !== 0 && weekday !== 6, provisional: true };
      },
    };
  }

  it('covers every expiry whose plan, for any catalogue type, reads the year', () => {
    // Prepare
    const { from, to } = expiriesDependingOnYear(2027);
    const now = DateTime.fromISO('2020-01-01T10:00', { zone: ZONE });
    const plansReading2027 = (expiresOn: string) =>
      loadReferenceData()
        .catalogue.all()
        .filter((type) => {
          const calendar = askedYears();
          planReminders({ expiresOn, renewalWindow: type.renewalWindow, calendar, policy: DEFAULT_STAGE_POLICY, sendWindow: DEFAULT_SEND_WINDOW, now });
          return calendar.years.has(2027);
        })
        .map((type) => type.code);

    // Act
    const justBefore = plansReading2027(addDays(from, -1));
    const justAfter = plansReading2027(addDays(to, 1));
    const midYear = plansReading2027('2027-06-30');

    // Assess
    expect(justBefore).toEqual([]);
    expect(justAfter).toEqual([]);
    expect(from < '2027-01-01' && to > '2027-12-31').toBe(true);
    expect(midYear).toHaveLength(loadReferenceData().catalogue.all().length);
  });
});

describe('Function: mergeReplan', () => {
  const stored: Plan = {
    renewalDeadline: '2027-02-01',
    windowOpens: null,
    calendarProvisional: true,
    stages: [
      { stage: 'first', date: '2027-01-01', sendAt: '2027-01-01T09:00:00.000+08:00', status: 'sent', messageId: 'm-1', sentAt: '2027-01-01T09:01:00.000+08:00' },
      { stage: 'final', date: '2027-01-25', sendAt: '2027-01-25T09:00:00.000+08:00', status: 'pending' },
      { stage: 'expired', date: '2027-03-02', sendAt: '2027-03-02T09:00:00.000+08:00', status: 'pending' },
    ],
  };
  const replanned: Plan = {
    renewalDeadline: '2027-01-29',
    windowOpens: null,
    calendarProvisional: false,
    stages: [
      { stage: 'first', date: '2026-12-30', sendAt: '2026-12-30T09:00:00.000+08:00', status: 'pending' },
      { stage: 'final', date: '2027-01-22', sendAt: '2027-01-22T09:00:00.000+08:00', status: 'pending' },
      { stage: 'expired', date: '2027-03-02', sendAt: '2027-03-02T09:00:00.000+08:00', status: 'pending' },
    ],
  };

  it('keeps a sent stage exactly as it was and moves the pending ones to their new dates', () => {
    // Act
    const merged = mergeReplan(stored, replanned);

    // Assess
    expect(merged.renewalDeadline).toBe('2027-01-29');
    expect(merged.calendarProvisional).toBe(false);
    expect(merged.stages).toEqual([stored.stages[0], replanned.stages[1], replanned.stages[2]]);
    expect(planChanged(stored, merged)).toBe(true);
  });

  it('keeps a sent stage the new plan no longer has, and drops a pending one', () => {
    // Prepare
    const withoutFinal: Plan = { ...replanned, stages: replanned.stages.filter((s) => s.stage === 'expired') };

    // Act
    const merged = mergeReplan(stored, withoutFinal);

    // Assess
    expect(merged.stages.map((s) => [s.stage, s.status])).toEqual([
      ['first', 'sent'],
      ['expired', 'pending'],
    ]);
  });

  it('reports no change when re-planning gives the same plan', () => {
    // Act
    const merged = mergeReplan(stored, { ...stored, stages: stored.stages.map((s) => ({ ...s, status: 'pending' as const })) });

    // Assess
    expect(planChanged(stored, merged)).toBe(false);
  });
});

describe('Function: calendarCoverage', () => {
  const loadedTo2026 = Array.from({ length: 23 }, (_, i) => 2004 + i);

  it('warns in December 2026 that reminders in the next 60 days fall in 2027, which is not loaded', () => {
    // Act
    const coverage = calendarCoverage(loadedTo2026, '2026-12-01');

    // Assess
    expect(coverage.coveredThrough).toBe('2026-12-31');
    expect(coverage.warnings).toHaveLength(1);
    expect(coverage.warnings[0]).toMatchObject({ code: 'calendar_year_missing', year: 2027, from: '2027-01-01' });
    expect(coverage.warnings[0]?.message).toContain('certalarm calendar load 2027');
  });

  it('does not warn while the next 60 days stay inside loaded years', () => {
    // Act
    const june = calendarCoverage(loadedTo2026, '2026-06-01');
    const loaded2027 = calendarCoverage([...loadedTo2026, 2027], '2026-12-01');

    // Assess
    expect(june.warnings).toEqual([]);
    expect(loaded2027.warnings).toEqual([]);
    expect(loaded2027.coveredThrough).toBe('2027-12-31');
  });

  it('warns about the current year itself when it is not loaded', () => {
    // Act
    const coverage = calendarCoverage([2026], '2027-03-01');

    // Assess
    expect(coverage.coveredThrough).toBeNull();
    expect(coverage.warnings.map((w) => [w.year, w.from])).toEqual([[2027, '2027-03-01']]);
  });
});
