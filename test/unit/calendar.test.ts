import { describe, expect, it } from 'vitest';
import { calendarYearSchema, WorkingDayCalendar } from '../../functions/core/calendar.js';
import { ReferenceDataError } from '../../functions/core/errors.js';
import { YEAR_2026 } from '../support/calendar-2026.js';


describe('Class: WorkingDayCalendar', () => {
  describe('Method: isWorkingDay', () => {
    it('treats 2026-10-01, National Day, as a day off', () => {
      // Prepare
      const calendar = new WorkingDayCalendar([YEAR_2026]);

      // Act
      const answer = calendar.isWorkingDay('2026-10-01');

      // Assess
      expect(answer).toEqual({ working: false, provisional: false });
    });

    it('treats 2026-10-05, a Monday inside the National Day break, as a day off', () => {
      // Prepare
      const calendar = new WorkingDayCalendar([YEAR_2026]);

      // Act
      const answer = calendar.isWorkingDay('2026-10-05');

      // Assess
      expect(answer).toEqual({ working: false, provisional: false });
    });

    it('treats 2026-10-10, a make-up Saturday, as a working day', () => {
      // Prepare
      const calendar = new WorkingDayCalendar([YEAR_2026]);

      // Act
      const answer = calendar.isWorkingDay('2026-10-10');

      // Assess
      expect(answer).toEqual({ working: true, provisional: false });
    });

    it('treats 2026-09-20, a make-up Sunday, as a working day', () => {
      // Prepare
      const calendar = new WorkingDayCalendar([YEAR_2026]);

      // Act
      const answer = calendar.isWorkingDay('2026-09-20');

      // Assess
      expect(answer).toEqual({ working: true, provisional: false });
    });

    it('treats 2026-10-17, an ordinary Saturday, as a day off', () => {
      // Prepare
      const calendar = new WorkingDayCalendar([YEAR_2026]);

      // Act
      const answer = calendar.isWorkingDay('2026-10-17');

      // Assess
      expect(answer).toEqual({ working: false, provisional: false });
    });

    it('treats 2026-10-08, an ordinary Thursday, as a working day', () => {
      // Prepare
      const calendar = new WorkingDayCalendar([YEAR_2026]);

      // Act
      const answer = calendar.isWorkingDay('2026-10-08');

      // Assess
      expect(answer).toEqual({ working: true, provisional: false });
    });

    it('answers Mon–Fri, marked provisional, for a year no arrangement covers', () => {
      // Prepare: 2027-01-01 is a Friday; the 2027 notice would make it 元旦, but we do not have it.
      const calendar = new WorkingDayCalendar([YEAR_2026]);

      // Act
      const newYearsDay = calendar.isWorkingDay('2027-01-01');
      const saturday = calendar.isWorkingDay('2027-01-02');
      const yearBefore = calendar.isWorkingDay('2025-12-31');

      // Assess
      expect(newYearsDay).toEqual({ working: true, provisional: true });
      expect(saturday).toEqual({ working: false, provisional: true });
      expect(yearBefore).toEqual({ working: true, provisional: true });
    });

    it('answers every day as provisional Mon–Fri when it has no arrangement at all', () => {
      // Prepare
      const calendar = new WorkingDayCalendar([]);

      // Act
      const answer = calendar.isWorkingDay('2026-10-01');

      // Assess
      expect(answer).toEqual({ working: true, provisional: true });
    });

    it('knows the weekday of every day from 1901 to 2099, leap days included', () => {
      // Prepare
      const calendar = new WorkingDayCalendar([]);
      const wrong: string[] = [];

      // Act
      for (let t = Date.UTC(1901, 0, 1); t < Date.UTC(2100, 0, 1); t += 86_400_000) {
        const date = new Date(t);
        const expected = date.getUTCDay() !== 0 && date.getUTCDay() !== 6;
        const iso = date.toISOString().slice(0, 10);
        if (calendar.isWorkingDay(iso).working !== expected) wrong.push(iso);
      }

      // Assess
      expect(wrong).toEqual([]);
    });

    it.each(['2026-02-29', '2026-13-01', '2026-00-10', '2026/10/01', '2026-1-1', '26-10-01', '', '2026-10-0x'])(
      'throws a RangeError for %j, which is not a day',
      (input) => {
        // Prepare
        const calendar = new WorkingDayCalendar([YEAR_2026]);

        // Act
        const act = (): unknown => calendar.isWorkingDay(input);

        // Assess
        expect(act).toThrow(RangeError);
      },
    );
  });

  describe('Method: coveredYears', () => {
    it('lists the years it has an arrangement for, in ascending order', () => {
      // Prepare
      const calendar = new WorkingDayCalendar([
        YEAR_2026,
        { year: 2024, holidays: ['2024-01-01'], workdays: [], source: 'test' },
      ]);

      // Act
      const years = calendar.coveredYears();

      // Assess
      expect(years).toEqual([2024, 2026]);
    });
  });

  describe('Method: sourceOf', () => {
    it('says where a covered year came from, and nothing for an uncovered one', () => {
      // Prepare
      const calendar = new WorkingDayCalendar([YEAR_2026]);

      // Act & Assess
      expect(calendar.sourceOf(2026)).toBe(YEAR_2026.source);
      expect(calendar.sourceOf(2027)).toBeUndefined();
    });
  });

  describe('Constructor', () => {
    it('rejects a year given twice', () => {
      // Act
      const act = (): unknown => new WorkingDayCalendar([YEAR_2026, { ...YEAR_2026, source: 'again' }]);

      // Assess
      expect(act).toThrow(ReferenceDataError);
      expect(act).toThrow(/2026 is given twice/);
    });

    it('rejects a date that lies outside its year', () => {
      // Act
      const act = (): unknown =>
        new WorkingDayCalendar([{ year: 2026, holidays: ['2027-01-01'], workdays: [], source: 'test' }]);

      // Assess
      expect(act).toThrow(/holidays\.0: 2027-01-01 is not in 2026/);
    });
  });
});

describe('Schema: calendarYearSchema', () => {
  it('accepts the 2026 arrangement', () => {
    // Act
    const result = calendarYearSchema.safeParse(YEAR_2026);

    // Assess
    expect(result.success).toBe(true);
  });

  it('rejects a make-up workday that is not a Saturday or Sunday', () => {
    // Prepare: 2026-10-09 is a Friday.
    const year = { ...YEAR_2026, workdays: ['2026-10-09'] };

    // Act
    const result = calendarYearSchema.safeParse(year);

    // Assess
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: ['workdays', 0], message: expect.stringContaining('2026-10-09 is a weekday') }),
    ]);
  });

  it('rejects a day listed both as a holiday and as a workday', () => {
    // Prepare
    const year = { ...YEAR_2026, workdays: [...YEAR_2026.workdays, '2026-10-03'] };

    // Act
    const result = calendarYearSchema.safeParse(year);

    // Assess
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: ['workdays', 6], message: '2026-10-03 is already listed in holidays' }),
    ]);
  });

  it('rejects a date that is not a day of the calendar', () => {
    // Prepare
    const year = { ...YEAR_2026, holidays: ['2026-02-30'] };

    // Act
    const result = calendarYearSchema.safeParse(year);

    // Assess
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: ['holidays', 0], message: '"2026-02-30" is not a YYYY-MM-DD date' }),
    ]);
  });
});
