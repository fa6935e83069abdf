import { describe, expect, it } from 'vitest';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { planCampaignEdit, type EditContext, type EditableVisit } from '../../functions/core/campaigns/edit.js';
import { DEFAULT_SEND_WINDOW } from '../../functions/core/model.js';
import { DEFAULT_SIGNATURE } from '../../functions/core/sms.js';
import { at } from '../support/fixtures.js';
import { lianjiangVisit, springCampaign } from '../support/campaign-fixtures.js';

const reference = loadReferenceData();

function context(now = '2026-12-01T10:00:00+08:00'): EditContext {
  return { now: at(now), window: DEFAULT_SEND_WINDOW, signature: DEFAULT_SIGNATURE, townshipName: (code) => reference.townships.resolve(code)?.nameZh ?? code };
}

/**
 * 潋江镇 on 12 January (notice 29 December, reminder 11 January) and a 12-slot visit to 江背镇 on 2 February
 * whose slots only a short template fits (its creation would have been refused with the default one).
 */
const VISITS: EditableVisit[] = [
  lianjiangVisit(),
  lianjiangVisit({
    id: 'v_jiangbei',
    township: '360732101',
    date: '2027-02-02',
    place: '江背镇农机服务站东侧停车场',
    slots: Array.from({ length: 12 }, (_, i) => ({ number: i + 1, start: `${String(8 + i).padStart(2, '0')}:00`, end: `${String(8 + i).padStart(2, '0')}:30`, capacity: 5, booked: 0 })),
    noticeAt: '2027-01-19T09:00:00.000+08:00',
    reminderAt: '2027-02-01T09:00:00.000+08:00',
  }),
];

function plan(body: Record<string, unknown>, now?: string, visits = VISITS) {
  const checked = planCampaignEdit({ expectedVersion: 1, comment: '县局要求提前通知', ...body }, springCampaign(), visits, context(now));
  if (!checked.ok) throw new Error(`refused by the schema: ${JSON.stringify(checked.errors)}`);
  return checked.plan;
}

function refusals(body: unknown, now?: string) {
  const checked = planCampaignEdit(body, springCampaign(), VISITS, context(now));
  return checked.ok ? checked.plan.errors : checked.errors;
}

describe('editing a campaign', () => {
  it('re-times every notice and reminder that has not gone out to the new days, at 09:00 Beijing time', () => {
    const edit = plan({ noticeDaysBefore: 20, reminderDaysBefore: 2 });

    expect(edit.errors).toEqual([]);
    expect(edit.changes).toEqual({ noticeDaysBefore: { from: 14, to: 20 }, reminderDaysBefore: { from: 1, to: 2 } });
    expect(edit.visits.map((v) => [v.visitId, v.noticeAt, v.reminderAt, v.retimeNotice, v.retimeReminder])).toEqual([
      ['v_lianjiang', '2026-12-23T09:00:00.000+08:00', '2027-01-10T09:00:00.000+08:00', true, true],
      ['v_jiangbei', '2027-01-13T09:00:00.000+08:00', '2027-01-31T09:00:00.000+08:00', true, true],
    ]);
  });

  it('leaves a notice that has gone out where it was, and still re-times that visit’s reminder', () => {
    const edit = plan({ noticeDaysBefore: 10, reminderDaysBefore: 3 }, '2027-01-02T10:00:00+08:00');

    expect(edit.errors).toEqual([]);
    expect(edit.visits[0]).toMatchObject({ visitId: 'v_lianjiang', noticeDone: true, noticeAt: '2026-12-29T09:00:00.000+08:00', retimeNotice: false, reminderAt: '2027-01-09T09:00:00.000+08:00', retimeReminder: true });
    expect(edit.visits[1]).toMatchObject({ visitId: 'v_jiangbei', noticeDone: false, noticeAt: '2027-01-23T09:00:00.000+08:00', retimeNotice: true });
  });

  it('refuses days that would move a notice not yet sent into the past, naming the visit', () => {
    const errors = refusals({ expectedVersion: 1, comment: '提前', noticeDaysBefore: 40 }, '2026-12-10T10:00:00+08:00');

    expect(errors).toEqual([
      {
        field: 'noticeDaysBefore',
        reason: expect.stringMatching(/^潋江镇 2027-01-12（v_lianjiang） 的预约通知尚未发出.*2026-12-03 09:00.* \/ the notice of the visit to 潋江镇 on 2027-01-12 \(v_lianjiang\) has not gone out yet/),
      },
    ]);
  });

  it('refuses days outside their range and a notice that does not come before the reminder', () => {
    expect(refusals({ expectedVersion: 1, comment: 'x', noticeDaysBefore: 91 })).toEqual([{ field: 'noticeDaysBefore', reason: '最多提前 90 天 / at most 90 days' }]);
    expect(refusals({ expectedVersion: 1, comment: 'x', reminderDaysBefore: -1 })).toEqual([{ field: 'reminderDaysBefore', reason: '不能为负数 / must not be negative' }]);
    expect(refusals({ expectedVersion: 1, comment: 'x', noticeDaysBefore: 2.5 })).toEqual([{ field: 'noticeDaysBefore', reason: '须为整数天数 / a whole number of days' }]);
    expect(refusals({ expectedVersion: 1, comment: 'x', reminderDaysBefore: 14 })).toEqual([
      { field: 'reminderDaysBefore', reason: expect.stringContaining('noticeDaysBefore (14) must exceed reminderDaysBefore (14)') },
    ]);
  });

  it('refuses an unknown placeholder by name, and 【】 in the template', () => {
    expect(refusals({ expectedVersion: 1, comment: 'x', template: '{township}{date}请回复{code}，{name}' })).toEqual([
      { field: 'template', reason: expect.stringMatching(/^模板中有未知占位符 \{name\} \/ unknown placeholder \{name\}/) },
    ]);
    expect(refusals({ expectedVersion: 1, comment: 'x', template: '【农机】{township}请回复{code}' })).toEqual([
      { field: 'template', reason: expect.stringContaining('a template must not contain 【】') },
    ]);
  });

  it('refuses a template that fits with one visit’s values but exceeds 3 SMS parts with the 12 slots of another', () => {
    const template = '{township}农机上门服务{date}在{place}办理，场次：{slots}。回复“{code} 场次号”预约，截止{deadline}，共{count}项。';

    const errors = refusals({ expectedVersion: 1, comment: '改写通知', template });

    expect(errors).toEqual([
      {
        field: 'template',
        reason: expect.stringMatching(/^用 江背镇 2027-02-02（v_jiangbei） 的乡镇、日期、地点和 12 个场次填入后，通知有 2\d\d 个字符（含签名），超过 3 条短信.* \/ with the township, date, place and 12 slots of the visit to 江背镇 on 2027-02-02/),
      },
    ]);
    expect(plan({ template }, undefined, [VISITS[0]!]).errors).toEqual([]);
  });

  it('takes a day-before reminder template, refusing an unknown placeholder and one too long for a visit', () => {
    const reminder = '明天{date}{township}农机上门服务，第{slot}场{start}-{end}，地点{place}，预约码{code}。';

    expect(plan({ reminderTemplate: reminder }).errors).toEqual([]);
    expect(plan({ reminderTemplate: reminder }).changes).toEqual({ reminderTemplate: { from: null, to: reminder } });
    expect(refusals({ expectedVersion: 1, comment: 'x', reminderTemplate: '明天{township}，{count}台' })).toEqual([
      { field: 'reminderTemplate', reason: expect.stringMatching(/unknown placeholder \{count\}/) },
    ]);
    expect(refusals({ expectedVersion: 1, comment: 'x', reminderTemplate: `${'请带上证照和农机。'.repeat(20)}{place}{code}` })).toEqual([
      { field: 'reminderTemplate', reason: expect.stringContaining('the reminder would be') },
      { field: 'reminderTemplate', reason: expect.stringContaining('the reminder would be') },
    ]);
  });

  it('requires a comment, a version and something to change, and refuses unknown fields', () => {
    expect(refusals({ expectedVersion: 1, name: '新名称' })).toEqual([{ field: 'comment', reason: expect.stringContaining('comment is required') }]);
    expect(refusals({ comment: 'x', name: '新名称' })).toEqual([{ field: 'expectedVersion', reason: expect.stringContaining('expectedVersion must be the whole-number version you read') }]);
    expect(refusals({ expectedVersion: 1, comment: 'x' })).toEqual([{ field: '', reason: expect.stringContaining('give a new name, noticeDaysBefore, reminderDaysBefore, template or reminderTemplate') }]);
    expect(refusals({ expectedVersion: 1, comment: 'x', noticeDaysBefore: 14 })).toEqual([{ field: '', reason: expect.stringContaining('nothing to change') }]);
    expect(refusals({ expectedVersion: 1, comment: 'x', season: { from: '2027-01-01', to: '2027-02-01' } })[0]).toMatchObject({ field: '' });
  });

  it('marks an edit made against an older version as stale, and a null template as a return to the default', () => {
    const checked = planCampaignEdit({ expectedVersion: 1, comment: '恢复默认', template: null }, springCampaign({ version: 3, noticeTemplate: '{township}请回复{code}' }), [VISITS[0]!], context());

    expect(checked).toMatchObject({ ok: true, plan: { stale: true, errors: [], changes: { noticeTemplate: { from: '{township}请回复{code}', to: null } } } });
  });

  it('neither re-times nor checks a cancelled visit', () => {
    const cancelled = [lianjiangVisit({ state: 'cancelled' })];

    const edit = plan({ noticeDaysBefore: 40 }, '2026-12-10T10:00:00+08:00', cancelled);

    expect(edit.errors).toEqual([]);
    expect(edit.visits[0]).toMatchObject({ retimeNotice: false, retimeReminder: false, noticeAt: '2026-12-29T09:00:00.000+08:00', longestNotice: null });
  });
});
