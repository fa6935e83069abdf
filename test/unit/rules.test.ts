import { describe, expect, it } from 'vitest';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { mergeRuleReplan } from '../../functions/app/rules/change-rule.js';
import { DEFAULT_SEND_WINDOW, DEFAULT_STAGE_POLICY, RULE_CHANGED_NOTE, type Plan, type StageRule, type StageTiming } from '../../functions/core/model.js';
import { addDays, planReminders, renewalDeadline, type WorkingDays } from '../../functions/core/planning.js';
import { checkStages, defaultRule, defaultStages, fieldPath, ruleChangeSchema, ruleDiff, stageTemplates, type LengthContext } from '../../functions/core/rules.js';
import { renderReminder } from '../../functions/core/sms.js';
import { DEFAULT_TEMPLATES } from '../../functions/core/templates.js';
import { at } from '../support/fixtures.js';

const reference = loadReferenceData();
const calendar = reference.calendar;
const LONG_AGO = at('2000-01-01T00:00:00+08:00');

/**
 * The planning rules as they were before stages became data, written out independently: the first
 * reminder 30 days before the deadline but not before the window opens, the final one 7 days before
 * it kept only when after the first, both moved back to a working day (forward when that would be
 * before the window), and the expiry notice on the first working day after expiry.
 */
function legacyDates(expiresOn: string, window: Parameters<typeof renewalDeadline>[1], cal: WorkingDays): Array<[string, string]> {
  const working = (d: string) => cal.isWorkingDay(d).working;
  const nearest = (d: string, step: number) => {
    let day = d;
    while (!working(day)) day = addDays(day, step);
    return day;
  };
  const { renewalDeadline: deadline, windowOpens: opens } = renewalDeadline(expiresOn, window, cal);
  const onWorkingDay = (d: string) => {
    const back = nearest(d, -1);
    return opens !== null && back < opens ? nearest(addDays(d, 1), 1) : back;
  };
  const firstDue = addDays(deadline, -30);
  const first = onWorkingDay(opens !== null && firstDue < opens ? opens : firstDue);
  const final = onWorkingDay(addDays(deadline, -7));
  const expired = nearest(addDays(expiresOn, 1), 1);
  return [['first', first], ...(final > first ? [['final', final] as [string, string]] : []), ['expired', expired]];
}

const CONTEXT: LengthContext = { signature: '【兴国县行政审批局】', county: '兴国县', typeName: '食品经营许可证', place: '兴国县政务服务中心', action: '延续' };

function stage(overrides: Partial<StageRule> & Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'first', from: 'deadline', days: -30, template: '您的{typeName}（编号{number}）将于{expiresOn}到期。', ...overrides };
}

describe('Rule: the default rule', () => {
  it('gives exactly the dates planning gave before stages were data, for every catalogue type over many expiries', () => {
    // Prepare: three years of expiries, every day, across the loaded holiday years.
    const expiries = Array.from({ length: 3 * 366 }, (_, i) => addDays('2025-06-01', i));
    let compared = 0;

    for (const type of reference.catalogue.all().filter((t) => t.reminders)) {
      for (const expiresOn of expiries) {
        // Act
        const plan = planReminders({ expiresOn, renewalWindow: type.renewalWindow, calendar, stages: defaultStages(), sendWindow: DEFAULT_SEND_WINDOW, now: LONG_AGO });

        // Assess
        expect(plan.stages.map((s) => [s.stage, s.date])).toEqual(legacyDates(expiresOn, type.renewalWindow, calendar));
        compared += 1;
      }
    }
    expect(compared).toBeGreaterThan(30_000);
  });

  it('is version 0, enabled, with the first, final and expired stages and today’s texts', () => {
    // Act
    const rule = defaultRule('food_business_license', DEFAULT_STAGE_POLICY);

    // Assess
    expect(rule.version).toBe(0);
    expect(rule.enabled).toBe(true);
    expect(rule.stages.map((s) => [s.name, s.from, s.days])).toEqual([
      ['first', 'deadline', -30],
      ['final', 'deadline', -7],
      ['expired', 'expiry', 1],
    ]);
    expect(stageTemplates(rule.stages)).toEqual(DEFAULT_TEMPLATES);
  });
});

describe('Rule: stage dates', () => {
  const window = null;
  const plan = (stages: StageTiming[], expiresOn: string) =>
    planReminders({ expiresOn, renewalWindow: window, calendar, stages, sendWindow: DEFAULT_SEND_WINDOW, now: LONG_AGO }).stages;

  it('moves a stage before its anchor off a holiday to the previous working day', () => {
    // Prepare: 2026-10-05 is in the National Day holiday; the last working day before it is 2026-09-30.
    // Act
    const [s] = plan([{ name: 'early', from: 'expiry', days: -1 }], '2026-10-06');

    // Assess
    expect(s?.date).toBe('2026-09-30');
  });

  it('moves a stage after its anchor off a holiday to the next working day', () => {
    // Act
    const [s] = plan([{ name: 'late', from: 'expiry', days: 2 }], '2026-10-01');

    // Assess: 2026-10-03 is a holiday; 2026-10-09 is the first working day after the break (10-08 is off).
    expect(s?.date).toBe(calendar.isWorkingDay('2026-10-08').working ? '2026-10-08' : '2026-10-09');
  });

  it('counts working days from the anchor', () => {
    // Act: five working days before Monday 2026-11-16 is Monday 2026-11-09.
    const [s] = plan([{ name: 'wd', from: 'expiry', workingDays: -5 }], '2026-11-16');

    // Assess
    expect(s?.date).toBe('2026-11-09');
  });

  it('never dates a stage before the renewal window opens', () => {
    // Prepare: a type renewed only within the 3 months before expiry.
    const within = { months: 3, semantics: 'withinBefore' as const };
    // Act
    const stages = planReminders({
      expiresOn: '2027-06-30',
      renewalWindow: within,
      calendar,
      stages: [{ name: 'very_early', from: 'expiry', days: -200 }],
      sendWindow: DEFAULT_SEND_WINDOW,
      now: LONG_AGO,
    }).stages;

    // Assess: the window opens 2027-03-30 (a Tuesday).
    expect(stages[0]?.date).toBe('2027-03-30');
  });

  it('sends at 09:00 Asia/Shanghai, the start of the send window', () => {
    // Act
    const [s] = plan([{ name: 'first', from: 'deadline', days: -30 }], '2026-12-31');

    // Assess
    expect(s?.sendAt).toMatch(/T09:00:00\.000\+08:00$/);
  });

  it('plans stages in date order whatever order the rule lists them, and one stage per day', () => {
    // Act
    const stages = plan(
      [
        { name: 'late', from: 'deadline', days: -7 },
        { name: 'early', from: 'deadline', days: -30 },
        { name: 'same_day', from: 'deadline', days: -7 },
      ],
      '2026-12-31',
    );

    // Assess
    expect(stages.map((s) => s.stage)).toEqual(['early', 'late']);
  });

  it('plans nothing while the rule is disabled, but still states the deadline', () => {
    // Act
    const result = planReminders({ expiresOn: '2026-12-31', renewalWindow: null, calendar, stages: defaultStages(), enabled: false, sendWindow: DEFAULT_SEND_WINDOW, now: LONG_AGO });

    // Assess
    expect(result.stages).toEqual([]);
    expect(result.renewalDeadline).toBe('2026-12-31');
  });
});

describe('Function: checkStages', () => {
  const errorsOf = (stages: unknown[], enabled = true) => checkStages(stages, enabled, CONTEXT).errors;

  it('accepts the default stages', () => {
    // Act & Assess
    expect(errorsOf(defaultStages())).toEqual([]);
  });

  it('names an unknown placeholder and its field', () => {
    // Act
    const errors = errorsOf([stage({ template: '您的{typName}到期' })]);

    // Assess
    expect(errors).toEqual([{ field: 'stages[0].template', reason: expect.stringContaining('{typName}') as string }]);
  });

  it('refuses a duplicate stage name', () => {
    // Act
    const errors = errorsOf([stage(), stage({ days: -10 })]);

    // Assess
    expect(errors).toEqual([{ field: 'stages[1].name', reason: expect.stringContaining('repeats stages[0]') as string }]);
  });

  it('refuses no stages while enabled, but not while disabled', () => {
    // Act & Assess
    expect(errorsOf([], true)).toEqual([{ field: 'stages', reason: expect.stringContaining('at least one stage') as string }]);
    expect(errorsOf([], false)).toEqual([]);
  });

  it('refuses more than 6 stages', () => {
    // Act
    const errors = errorsOf(Array.from({ length: 7 }, (_, i) => stage({ name: `s${i}`, days: -i })));

    // Assess
    expect(errors).toEqual([{ field: 'stages', reason: expect.stringContaining('at most 6 stages') as string }]);
  });

  it.each([-401, 91])('refuses an offset of %i days, outside −400…+90', (days) => {
    // Act & Assess
    expect(errorsOf([stage({ days })])).toEqual([{ field: 'stages[0].days', reason: expect.stringContaining('-400…+90') as string }]);
  });

  it('refuses both days and workingDays, and neither', () => {
    // Act & Assess
    expect(errorsOf([stage({ workingDays: -5 })])).toEqual([{ field: 'stages[0].days', reason: expect.stringContaining('exactly one of days and workingDays') as string }]);
    expect(errorsOf([stage({ days: undefined })])).toEqual([{ field: 'stages[0].days', reason: expect.stringContaining('exactly one of days and workingDays') as string }]);
  });

  it('refuses 【 or 】 in a template, the signature being added in front', () => {
    // Act & Assess
    expect(errorsOf([stage({ lateTemplate: '【兴国】{typeName}' })])).toEqual([{ field: 'stages[0].lateTemplate', reason: expect.stringContaining('【】') as string }]);
  });

  it('refuses a template longer than 3 segments with the longest real values, and says the length', () => {
    // Prepare: 170 fixed characters + the 20-character number + the 10-character signature + the type name.
    const template = `${'请'.repeat(170)}{number}{typeName}`;

    // Act
    const errors = errorsOf([stage({ template })]);

    // Assess
    expect(errors).toEqual([{ field: 'stages[0].template', reason: expect.stringContaining(`renders to ${170 + 20 + 10 + 7} characters`) as string }]);
  });

  it('refuses a stage name that is not lowercase letters, digits and _', () => {
    // Act & Assess
    expect(errorsOf([stage({ name: 'First-Stage' })])[0]?.field).toBe('stages[0].name');
    expect(errorsOf([stage({ name: 'a'.repeat(21) })])[0]?.field).toBe('stages[0].name');
  });

  it('refuses a missing or blank comment', () => {
    // Act
    const missing = ruleChangeSchema.safeParse({ enabled: true, stages: [], expectedVersion: 0 });
    const blank = ruleChangeSchema.safeParse({ comment: '  ', enabled: true, stages: [], expectedVersion: 0 });

    // Assess
    expect(missing.success || fieldPath(missing.error.issues[0]?.path ?? [])).toBe('comment');
    expect(blank.success || fieldPath(blank.error.issues[0]?.path ?? [])).toBe('comment');
  });
});

describe('Function: renderReminder with a rule’s stages', () => {
  it('fills the named placeholders, dates as 2027年3月1日, the signature in front', () => {
    // Prepare
    const stages: StageRule[] = [{ name: 'notice', from: 'expiry', days: -10, template: '{holder}：{typeName}{number}于{expiresOn}到期，请{applyBy}到{place}办理{action}（{county}）' }];

    // Act
    const sms = renderReminder({
      typeName: '食品经营许可证',
      number: 'JY1',
      holder: '张三',
      stage: 'notice',
      expiresOn: '2027-03-01',
      renewalDeadline: '2027-03-01',
      windowOpens: null,
      deadlinePassed: false,
      action: '延续',
      renewalPlace: '兴国县政务服务中心',
      county: '兴国县',
      templates: stageTemplates(stages),
      afterExpiryStage: null,
    });

    // Assess
    expect(sms.body).toBe('【兴国县行政审批局】张三：食品经营许可证JY1于2027年3月1日到期，请在到期日（含）前到兴国县政务服务中心办理延续（兴国县）');
  });
});

describe('Function: mergeRuleReplan', () => {
  const now = Date.parse('2026-12-01T10:00:00+08:00');
  const stored: Plan = {
    renewalDeadline: '2027-01-31',
    windowOpens: null,
    calendarProvisional: false,
    stages: [{ stage: 'first', date: '2026-11-20', sendAt: '2026-11-20T09:00:00.000+08:00', status: 'sent', messageId: 'm1' }],
  };

  it('keeps a sent stage and skips a new stage whose time has already passed', () => {
    // Prepare: the new rule has first (sent), an added stage two days ago, and a future stage.
    const fresh: Plan = {
      ...stored,
      stages: [
        { stage: 'first', date: '2026-11-25', sendAt: '2026-11-25T09:00:00.000+08:00', status: 'pending' },
        { stage: 'extra', date: '2026-11-29', sendAt: '2026-11-29T09:00:00.000+08:00', status: 'pending' },
        { stage: 'final', date: '2027-01-24', sendAt: '2027-01-24T09:00:00.000+08:00', status: 'pending' },
      ],
    };

    // Act
    const merged = mergeRuleReplan(stored, fresh, now);

    // Assess
    expect(merged.stages.map((s) => [s.stage, s.status, s.note])).toEqual([
      ['first', 'sent', undefined],
      ['extra', 'skipped', RULE_CHANGED_NOTE],
      ['final', 'pending', undefined],
    ]);
  });
});

describe('Function: ruleDiff', () => {
  it('says which stages were added, changed and removed', () => {
    // Prepare
    const before = { enabled: true, stages: defaultStages() };
    const first: StageRule = { name: 'first', from: 'deadline', days: -45, template: DEFAULT_TEMPLATES.first.template, lateTemplate: DEFAULT_TEMPLATES.first.lateTemplate };
    const after = { enabled: false, stages: [first, { name: 'extra', from: 'expiry' as const, workingDays: -3, template: 'x' }] };

    // Act & Assess
    expect(ruleDiff(before, after)).toEqual([
      'enabled: true → false',
      '~ first: deadline -30 days → deadline -45 days',
      '+ extra: expiry -3 workingDays',
      '- final',
      '- expired',
    ]);
  });
});
