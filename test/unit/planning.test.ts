import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  addMonths,
  deadlinePassed,
  isInsideSendWindow,
  nextSendableInstant,
  planReminders,
  renewalDeadline,
  todayIn,
  type PlanInput,
  type WorkingDays,
} from '../../functions/core/planning.js';
import {
  DEFAULT_SEND_WINDOW,
  DEFAULT_STAGE_POLICY,
  ZONE,
  type RenewalWindow,
} from '../../functions/core/model.js';

/** Every day from `from` to `to`, inclusive. */
function daysFrom(from: string, to: string): string[] {
  const days: string[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) days.push(day);
  return days;
}

/**
 * 2026 as the State Council notice sets it (checked against chinese-days). Any other year is not
 * covered: weekends are days off, and every answer is provisional.
 */
const DAYS_OFF_2026 = new Set([
  ...daysFrom('2026-01-01', '2026-01-03'), // 元旦
  ...daysFrom('2026-02-15', '2026-02-23'), // 春节
  ...daysFrom('2026-04-04', '2026-04-06'), // 清明
  ...daysFrom('2026-05-01', '2026-05-05'), // 劳动节
  ...daysFrom('2026-06-19', '2026-06-21'), // 端午
  ...daysFrom('2026-09-25', '2026-09-27'), // 中秋
  ...daysFrom('2026-10-01', '2026-10-07'), // 国庆
]);
const MAKE_UP_WORKDAYS_2026 = new Set(['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10']);

const calendar2026: WorkingDays = {
  isWorkingDay(date) {
    const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
    const weekend = weekday === 0 || weekday === 6;
    if (!date.startsWith('2026-')) return { working: !weekend, provisional: true };
    if (MAKE_UP_WORKDAYS_2026.has(date)) return { working: true, provisional: false };
    return { working: !weekend && !DAYS_OFF_2026.has(date), provisional: false };
  },
};

function shanghai(local: string): DateTime {
  return DateTime.fromISO(local, { zone: ZONE });
}

/** Long before any stage in these tests is due, so nothing counts as a late upload. */
const EARLY = shanghai('2026-01-05T10:00');

/** 农药经营许可证: apply at least 90 days before expiry. */
const NINETY_DAYS_BEFORE: RenewalWindow = { days: 90, semantics: 'atLeastBefore' };

function planFor(overrides: Partial<PlanInput> & Pick<PlanInput, 'expiresOn' | 'renewalWindow'>) {
  return planReminders({
    calendar: calendar2026,
    policy: DEFAULT_STAGE_POLICY,
    sendWindow: DEFAULT_SEND_WINDOW,
    now: EARLY,
    ...overrides,
  });
}

/** `date` of each stage, keyed by stage name. */
function stageDates(plan: ReturnType<typeof planReminders>): Record<string, string> {
  return Object.fromEntries(plan.stages.map((s) => [s.stage, s.date]));
}

describe('Function: addMonths', () => {
  it('clamps to the end of a shorter month: 31 May minus 3 months is 28 February', () => {
    // Act & Assess
    expect(addMonths('2026-05-31', -3)).toBe('2026-02-28');
  });

  it('clamps to 29 February in a leap year', () => {
    // Act & Assess
    expect(addMonths('2028-05-31', -3)).toBe('2028-02-29');
  });

  it('keeps the day of the month when the target month has it, across a year end', () => {
    // Act & Assess
    expect(addMonths('2026-12-15', 2)).toBe('2027-02-15');
  });
});

describe('Function: addDays', () => {
  it('steps across month ends, year ends and leap days', () => {
    // Act & Assess
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-12-20', -90)).toBe('2026-09-21');
  });

  it('throws when given something that is not a date', () => {
    // Act & Assess
    expect(() => addDays('2026-02-30', 1)).toThrow(RangeError);
    expect(() => addDays('2026/02/01', 1)).toThrow(RangeError);
  });
});

describe('Function: todayIn', () => {
  it('takes the calendar day in Asia/Shanghai, not in UTC', () => {
    // Prepare: 17:00 UTC is 01:00 the next morning in Xingguo.
    const now = DateTime.fromISO('2026-03-31T17:00:00Z', { zone: 'utc' });

    // Act & Assess
    expect(todayIn(now)).toBe('2026-04-01');
  });
});

describe('Function: renewalDeadline', () => {
  it('puts an atLeastBefore deadline the window length before expiry, with no opening day', () => {
    // Act
    const result = renewalDeadline('2026-12-20', NINETY_DAYS_BEFORE, calendar2026);

    // Assess
    expect(result).toEqual({ renewalDeadline: '2026-09-21', windowOpens: null, provisional: false });
  });

  it('clamps a months window to the end of the month', () => {
    // Prepare
    const threeMonths: RenewalWindow = { months: 3, semantics: 'atLeastBefore' };

    // Act
    const common = renewalDeadline('2026-05-31', threeMonths, calendar2026);
    const leap = renewalDeadline('2028-05-31', threeMonths, calendar2026);

    // Assess: months are calendar arithmetic, so no working-day question makes 2028 provisional.
    expect(common).toEqual({ renewalDeadline: '2026-02-28', windowOpens: null, provisional: false });
    expect(leap).toEqual({ renewalDeadline: '2028-02-29', windowOpens: null, provisional: false });
  });

  it('counts working days back across the National Day holiday and its make-up Saturday', () => {
    // Prepare: expiry Friday 2026-10-16, 10 working days. Stepping back from the day before:
    // 10-15 Thu (1), 10-14 Wed (2), 10-13 Tue (3), 10-12 Mon (4), 10-11 Sun (off),
    // 10-10 Sat make-up workday (5), 10-09 Fri (6), 10-08 Thu (7), 10-07..10-01 National Day (off),
    // 09-30 Wed (8), 09-29 Tue (9), 09-28 Mon (10). A weekends-only count would say 10-02.
    const tenWorkingDays: RenewalWindow = { workingDays: 10, semantics: 'atLeastBefore' };

    // Act
    const result = renewalDeadline('2026-10-16', tenWorkingDays, calendar2026);

    // Assess
    expect(result).toEqual({ renewalDeadline: '2026-09-28', windowOpens: null, provisional: false });
  });

  it('is provisional when counting working days in a year the calendar does not cover', () => {
    // Prepare
    const tenWorkingDays: RenewalWindow = { workingDays: 10, semantics: 'atLeastBefore' };

    // Act
    const result = renewalDeadline('2027-03-15', tenWorkingDays, calendar2026);

    // Assess: weekdays only, 03-12 back to 03-01, until the 2027 holidays are published.
    expect(result).toEqual({ renewalDeadline: '2027-03-01', windowOpens: null, provisional: true });
  });

  it('makes the expiry the deadline of a withinBefore window, which opens the window length before', () => {
    // Prepare
    const within90: RenewalWindow = { days: 90, semantics: 'withinBefore' };

    // Act
    const result = renewalDeadline('2026-12-20', within90, calendar2026);

    // Assess
    expect(result).toEqual({ renewalDeadline: '2026-12-20', windowOpens: '2026-09-21', provisional: false });
  });

  it('closes a between window at expiry minus `to` and opens it at expiry minus `from`', () => {
    // Prepare
    const sixToThreeMonths: RenewalWindow = { from: { months: 6 }, to: { months: 3 }, semantics: 'between' };

    // Act
    const result = renewalDeadline('2026-08-31', sixToThreeMonths, calendar2026);

    // Assess
    expect(result).toEqual({ renewalDeadline: '2026-05-31', windowOpens: '2026-02-28', provisional: false });
  });

  it('makes the expiry the deadline when the type has no renewal window', () => {
    // Act & Assess
    expect(renewalDeadline('2026-11-20', null, calendar2026)).toEqual({
      renewalDeadline: '2026-11-20',
      windowOpens: null,
      provisional: false,
    });
  });

  it('makes the key date the deadline for a window with no length (construction permit start)', () => {
    // Prepare
    const startDeadline: RenewalWindow = { beforeDeadline: true, semantics: 'atLeastBefore' };

    // Act & Assess
    expect(renewalDeadline('2026-11-20', startDeadline, calendar2026)).toEqual({
      renewalDeadline: '2026-11-20',
      windowOpens: null,
      provisional: false,
    });
  });
});

describe('Function: planReminders', () => {
  describe('types without reminders', () => {
    it('plans no stage for a type that sends no reminders, keeping the deadline a reader would compute', () => {
      // Act
      const plan = planFor({ expiresOn: '2026-12-20', renewalWindow: null, reminders: false });

      // Assess
      expect(plan).toEqual({ renewalDeadline: '2026-12-20', windowOpens: null, calendarProvisional: false, stages: [] });
    });

    it('plans nothing for a certificate without an expiry: no deadline, no window, no stage', () => {
      // Act
      const plan = planFor({ expiresOn: null, renewalWindow: null, reminders: false });

      // Assess
      expect(plan).toEqual({ renewalDeadline: null, windowOpens: null, calendarProvisional: false, stages: [] });
    });
  });

  describe('stage dates', () => {
    it('plans first 30 and final 7 days before the deadline, and expired the day after expiry', () => {
      // Act
      const plan = planFor({ expiresOn: '2026-12-20', renewalWindow: NINETY_DAYS_BEFORE });

      // Assess: first would be Saturday 08-22 and moves back to Friday 08-21.
      expect(plan.renewalDeadline).toBe('2026-09-21');
      expect(plan.windowOpens).toBeNull();
      expect(plan.calendarProvisional).toBe(false);
      expect(plan.stages).toEqual([
        { stage: 'first', date: '2026-08-21', sendAt: '2026-08-21T09:00:00.000+08:00', status: 'pending' },
        { stage: 'final', date: '2026-09-14', sendAt: '2026-09-14T09:00:00.000+08:00', status: 'pending' },
        { stage: 'expired', date: '2026-12-21', sendAt: '2026-12-21T09:00:00.000+08:00', status: 'pending' },
      ]);
    });

    it('moves a final reminder off a holiday to the previous working day', () => {
      // Prepare: deadline 10-12, so final falls on 10-05, inside National Day; the working day
      // before the holiday is Wednesday 09-30. First falls on Saturday 09-12 and moves to 09-11.
      const thirtyDays: RenewalWindow = { days: 30, semantics: 'atLeastBefore' };

      // Act
      const plan = planFor({ expiresOn: '2026-11-11', renewalWindow: thirtyDays });

      // Assess
      expect(plan.renewalDeadline).toBe('2026-10-12');
      expect(stageDates(plan)).toEqual({ first: '2026-09-11', final: '2026-09-30', expired: '2026-11-12' });
    });

    it('moves a first reminder off a public holiday to the previous working day', () => {
      // Prepare: deadline 05-31, so first falls on 05-01 (Labour Day) and moves back to Thursday 04-30.
      const sixToThreeMonths: RenewalWindow = { from: { months: 6 }, to: { months: 3 }, semantics: 'between' };

      // Act
      const plan = planFor({ expiresOn: '2026-08-31', renewalWindow: sixToThreeMonths });

      // Assess
      expect(stageDates(plan)).toEqual({ first: '2026-04-30', final: '2026-05-22', expired: '2026-09-01' });
    });

    it('does not place the first reminder before the window opens', () => {
      // Prepare: the window opens Tuesday 11-17, later than 30 days before the 11-27 deadline.
      const within10: RenewalWindow = { days: 10, semantics: 'withinBefore' };

      // Act
      const plan = planFor({ expiresOn: '2026-11-27', renewalWindow: within10 });

      // Assess
      expect(plan.windowOpens).toBe('2026-11-17');
      expect(stageDates(plan)).toEqual({ first: '2026-11-17', final: '2026-11-20', expired: '2026-11-30' });
    });

    it('moves a first reminder forward when the previous working day is before the window opens', () => {
      // Prepare: the window opens Saturday 11-07; Friday 11-06 is too early to apply, so Monday 11-09.
      const within20: RenewalWindow = { days: 20, semantics: 'withinBefore' };

      // Act
      const plan = planFor({ expiresOn: '2026-11-27', renewalWindow: within20 });

      // Assess
      expect(plan.windowOpens).toBe('2026-11-07');
      expect(stageDates(plan)).toEqual({ first: '2026-11-09', final: '2026-11-20', expired: '2026-11-30' });
    });

    it('drops the final reminder when it falls on the first reminder’s day', () => {
      // Prepare: a 7-day window opens on the very day the final reminder is due (Friday 11-20).
      const within7: RenewalWindow = { days: 7, semantics: 'withinBefore' };

      // Act
      const plan = planFor({ expiresOn: '2026-11-27', renewalWindow: within7 });

      // Assess
      expect(stageDates(plan)).toEqual({ first: '2026-11-20', expired: '2026-11-30' });
    });

    it('drops the final reminder when moving both off a weekend lands them on the same day', () => {
      // Prepare: the window opens Saturday 11-14. First (11-14) and final (Sunday 11-15) differ,
      // but both must move forward past the window opening to Monday 11-16.
      const within8: RenewalWindow = { days: 8, semantics: 'withinBefore' };

      // Act
      const plan = planFor({ expiresOn: '2026-11-22', renewalWindow: within8 });

      // Assess
      expect(stageDates(plan)).toEqual({ first: '2026-11-16', expired: '2026-11-23' });
    });

    it('moves an expired notice off a weekend to the next working day', () => {
      // Act: expiry Friday 11-20; the day after is Saturday.
      const plan = planFor({ expiresOn: '2026-11-20', renewalWindow: null });

      // Assess
      expect(stageDates(plan)).toEqual({ first: '2026-10-21', final: '2026-11-13', expired: '2026-11-23' });
    });

    it('moves an expired notice past the whole National Day holiday', () => {
      // Act: expiry 09-30; 10-01 to 10-07 are off.
      const plan = planFor({ expiresOn: '2026-09-30', renewalWindow: null });

      // Assess
      expect(stageDates(plan).expired).toBe('2026-10-08');
    });

    it('sends on a make-up Saturday, which is a working day', () => {
      // Act: expiry 10-09; the day after is Saturday 10-10, worked in exchange for National Day.
      const plan = planFor({ expiresOn: '2026-10-09', renewalWindow: null });

      // Assess: final (10-02, a holiday) moves back to 09-30.
      expect(stageDates(plan)).toEqual({ first: '2026-09-09', final: '2026-09-30', expired: '2026-10-10' });
    });

    it('follows the stage policy it is given', () => {
      // Prepare
      const policy = { firstDaysBeforeDeadline: 60, finalDaysBeforeDeadline: 14, expiredDaysAfterExpiry: 3 };

      // Act
      const plan = planFor({ expiresOn: '2026-12-20', renewalWindow: NINETY_DAYS_BEFORE, policy });

      // Assess
      expect(stageDates(plan)).toEqual({ first: '2026-07-23', final: '2026-09-07', expired: '2026-12-23' });
    });
  });

  describe('send time', () => {
    it('sends each stage at 09:00 Asia/Shanghai on its day', () => {
      // Act
      const plan = planFor({ expiresOn: '2026-12-20', renewalWindow: NINETY_DAYS_BEFORE });

      // Assess
      const first = plan.stages[0];
      expect(first?.sendAt).toBe('2026-08-21T09:00:00.000+08:00');
      expect(first?.sendAt).toBe(shanghai('2026-08-21T09:00').toISO());
    });

    it('honours a custom send window start', () => {
      // Act
      const plan = planFor({
        expiresOn: '2026-12-20',
        renewalWindow: NINETY_DAYS_BEFORE,
        sendWindow: { start: '08:30', end: '18:00' },
      });

      // Assess
      expect(plan.stages.map((s) => s.sendAt)).toEqual([
        '2026-08-21T08:30:00.000+08:00',
        '2026-09-14T08:30:00.000+08:00',
        '2026-12-21T08:30:00.000+08:00',
      ]);
    });

    it('throws when the send window is not a daytime range', () => {
      // Act & Assess
      expect(() =>
        planFor({ expiresOn: '2026-12-20', renewalWindow: null, sendWindow: { start: '20:00', end: '09:00' } }),
      ).toThrow(RangeError);
      expect(() =>
        planFor({ expiresOn: '2026-12-20', renewalWindow: null, sendWindow: { start: '9am', end: '20:00' } }),
      ).toThrow(RangeError);
    });
  });

  describe('provisional calendar', () => {
    it('is not provisional when every working-day question falls in a covered year', () => {
      // Act
      const plan = planFor({ expiresOn: '2026-12-20', renewalWindow: NINETY_DAYS_BEFORE });

      // Assess
      expect(plan.calendarProvisional).toBe(false);
    });

    it('is provisional when a stage has to be checked in a year the calendar does not cover', () => {
      // Act: the deadline is plain month arithmetic, but the stages fall in 2028.
      const plan = planFor({ expiresOn: '2028-05-31', renewalWindow: { months: 3, semantics: 'atLeastBefore' } });

      // Assess
      expect(plan.renewalDeadline).toBe('2028-02-29');
      expect(plan.calendarProvisional).toBe(true);
    });

    it('is provisional when only the expired notice spills into an uncovered year', () => {
      // Act: expiry 2026-12-31, so the expired notice is checked on 2027-01-01.
      const plan = planFor({ expiresOn: '2026-12-31', renewalWindow: null });

      // Assess
      expect(stageDates(plan).expired).toBe('2027-01-01');
      expect(plan.calendarProvisional).toBe(true);
    });

    it('is provisional when the working-day deadline count reaches into an uncovered year', () => {
      // Act
      const plan = planFor({ expiresOn: '2027-03-15', renewalWindow: { workingDays: 10, semantics: 'atLeastBefore' } });

      // Assess
      expect(plan.calendarProvisional).toBe(true);
    });
  });

  describe('late uploads', () => {
    it('sends one catch-up for the latest passed stage and skips the older ones', () => {
      // Prepare: uploaded Wednesday 09-16 10:00, after first (08-21) and final (09-14) were due.
      const now = shanghai('2026-09-16T10:00');

      // Act
      const plan = planFor({ expiresOn: '2026-12-20', renewalWindow: NINETY_DAYS_BEFORE, now });

      // Assess: inside the send window, so the catch-up is sendable straight away.
      expect(plan.stages).toEqual([
        { stage: 'first', date: '2026-08-21', sendAt: '2026-08-21T09:00:00.000+08:00', status: 'skipped', note: 'passedBeforeUpload' },
        { stage: 'final', date: '2026-09-14', sendAt: '2026-09-16T10:00:00.000+08:00', status: 'pending', note: 'catchUp' },
        { stage: 'expired', date: '2026-12-21', sendAt: '2026-12-21T09:00:00.000+08:00', status: 'pending' },
      ]);
    });

    it('holds a catch-up uploaded in the evening until the send window opens next morning', () => {
      // Prepare
      const now = shanghai('2026-09-16T21:30');

      // Act
      const plan = planFor({ expiresOn: '2026-12-20', renewalWindow: NINETY_DAYS_BEFORE, now });

      // Assess
      const catchUps = plan.stages.filter((s) => s.note === 'catchUp');
      expect(catchUps).toEqual([
        { stage: 'final', date: '2026-09-14', sendAt: '2026-09-17T09:00:00.000+08:00', status: 'pending', note: 'catchUp' },
      ]);
    });

    it('treats a stage due exactly now as passed, so it is the one catch-up', () => {
      // Prepare
      const now = shanghai('2026-09-14T09:00');

      // Act
      const plan = planFor({ expiresOn: '2026-12-20', renewalWindow: NINETY_DAYS_BEFORE, now });

      // Assess
      expect(plan.stages.map((s) => [s.stage, s.status, s.note, s.sendAt])).toEqual([
        ['first', 'skipped', 'passedBeforeUpload', '2026-08-21T09:00:00.000+08:00'],
        ['final', 'pending', 'catchUp', '2026-09-14T09:00:00.000+08:00'],
        ['expired', 'pending', undefined, '2026-12-21T09:00:00.000+08:00'],
      ]);
    });

    it('skips a catch-up as superseded when the next stage goes out at the same time', () => {
      // Prepare: Sunday 09-13 21:00. A catch-up for first could go at 09:00 tomorrow, exactly when
      // final is due; two messages at once would be a burst, and final is the fresher news.
      const now = shanghai('2026-09-13T21:00');

      // Act
      const plan = planFor({ expiresOn: '2026-12-20', renewalWindow: NINETY_DAYS_BEFORE, now });

      // Assess
      expect(plan.stages.map((s) => [s.stage, s.status, s.note])).toEqual([
        ['first', 'skipped', 'superseded'],
        ['final', 'pending', undefined],
        ['expired', 'pending', undefined],
      ]);
    });

    it('gives an already expired certificate one expired catch-up', () => {
      // Prepare: uploaded Friday 12-25 at 08:00, before the send window opens.
      const now = shanghai('2026-12-25T08:00');

      // Act
      const plan = planFor({ expiresOn: '2026-12-20', renewalWindow: NINETY_DAYS_BEFORE, now });

      // Assess
      expect(plan.stages.filter((s) => s.status === 'pending')).toEqual([
        { stage: 'expired', date: '2026-12-21', sendAt: '2026-12-25T09:00:00.000+08:00', status: 'pending', note: 'catchUp' },
      ]);
      expect(plan.stages.filter((s) => s.status === 'skipped').map((s) => [s.stage, s.note])).toEqual([
        ['first', 'passedBeforeUpload'],
        ['final', 'passedBeforeUpload'],
      ]);
    });
  });
});

describe('Function: deadlinePassed', () => {
  it('is false through the deadline day and true from the next day in Asia/Shanghai', () => {
    // Prepare: the deadline is 2026-09-21.
    const plan = planFor({ expiresOn: '2026-12-20', renewalWindow: NINETY_DAYS_BEFORE });

    // Act & Assess
    expect(deadlinePassed(plan, shanghai('2026-09-21T23:59'))).toBe(false);
    expect(deadlinePassed(plan, shanghai('2026-09-22T00:00'))).toBe(true);
    // 16:30 UTC on the deadline day is already 00:30 the next day in Xingguo.
    expect(deadlinePassed(plan, DateTime.fromISO('2026-09-21T16:30:00Z', { zone: 'utc' }))).toBe(true);
  });
});

describe('Function: isInsideSendWindow', () => {
  it.each([
    ['2026-11-20T09:00:00', true],
    ['2026-11-20T19:59:59', true],
    ['2026-11-20T20:00:00', false],
    ['2026-11-20T08:59:00', false],
  ])('at %s local time answers %s (start inclusive, end exclusive)', (local, inside) => {
    // Act & Assess
    expect(isInsideSendWindow(shanghai(local), DEFAULT_SEND_WINDOW)).toBe(inside);
  });

  it('reads the time of day in Asia/Shanghai whatever zone the instant carries', () => {
    // Prepare: 01:00 UTC is 09:00 in Xingguo.
    const now = DateTime.fromISO('2026-11-20T01:00:00Z', { zone: 'utc' });

    // Act & Assess
    expect(isInsideSendWindow(now, DEFAULT_SEND_WINDOW)).toBe(true);
  });
});

describe('Function: nextSendableInstant', () => {
  it('returns now when now is inside the window', () => {
    // Prepare
    const now = shanghai('2026-11-20T14:15:30');

    // Act & Assess
    expect(nextSendableInstant(now, DEFAULT_SEND_WINDOW).toISO()).toBe('2026-11-20T14:15:30.000+08:00');
  });

  it('returns the window start the same morning when now is before it', () => {
    // Act & Assess
    expect(nextSendableInstant(shanghai('2026-11-20T06:10'), DEFAULT_SEND_WINDOW).toISO()).toBe(
      '2026-11-20T09:00:00.000+08:00',
    );
  });

  it('returns the window start the next morning from the end of the window onwards', () => {
    // Act & Assess
    expect(nextSendableInstant(shanghai('2026-11-20T20:00'), DEFAULT_SEND_WINDOW).toISO()).toBe(
      '2026-11-21T09:00:00.000+08:00',
    );
    expect(nextSendableInstant(shanghai('2026-12-31T23:30'), DEFAULT_SEND_WINDOW).toISO()).toBe(
      '2027-01-01T09:00:00.000+08:00',
    );
  });
});
