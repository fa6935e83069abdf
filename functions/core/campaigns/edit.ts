/**
 * Editing a campaign after it was created (PATCH /v1/campaigns/{id}): its name, how many days before a
 * visit the notice and the day-before reminder go out, and the templates of both. The short "moved" and
 * "cancelled" texts stay fixed: they say only what changed, and no operator wording would add to them. The check and the plan
 * are pure: the use case reads the campaign and its visits, passes `now`, and stores and schedules what
 * the plan says (or, for a preview, shows it).
 *
 * A visit's job "has run" once its instant has passed: the notice job then sends to every recipient
 * (what it could not send yet it sends later, with the template in force then). A job that has run is
 * never re-timed; one that has not moves with the new days.
 */
import * as z from 'zod';
import { DateTime } from 'luxon';
import { PermanentSendError } from '../errors.js';
import type { IsoDate, IsoInstant, SendWindow } from '../model.js';
import { ZONE } from '../model.js';
import { addDays } from '../planning.js';
import { zodErrors, type FieldError } from '../rules.js';
import type { Campaign, Slot, VisitState } from './model.js';
import { CAMPAIGN_SEND_TIME, campaignSendInstant } from './timing.js';
import { TemplateError } from '../templates.js';
import { DEFAULT_NOTICE_TEMPLATE, DEFAULT_REMINDER_TEMPLATE, longestNotice, MAX_NOTICE_LENGTH, MAX_NOTICE_SEGMENTS, reminderPlaceholders, renderReminderForBooking } from './texts.js';
import { campaignInputSchema, templateErrors } from './validation.js';

export const campaignEditSchema = z
  .object({
    expectedVersion: z
      .number({ error: 'expectedVersion 须为整数：读取活动时得到的 version / expectedVersion must be the whole-number version you read (GET /v1/campaigns/{id})' })
      .int('expectedVersion 须为整数 / expectedVersion must be a whole number')
      .min(1, 'expectedVersion 至少为 1 / expectedVersion is at least 1'),
    comment: z
      .string({ error: '请写明修改原因（comment） / comment is required: say why the campaign changes' })
      .trim()
      .min(1, '请写明修改原因（comment） / comment must not be blank: say why the campaign changes')
      .max(200, '修改原因最多 200 个字符 / comment has at most 200 characters'),
    name: campaignInputSchema.shape.name.optional(),
    noticeDaysBefore: campaignInputSchema.shape.noticeDaysBefore.unwrap().optional(),
    reminderDaysBefore: campaignInputSchema.shape.reminderDaysBefore.unwrap().optional(),
    /** The notice template; `null` goes back to the default one. */
    template: z
      .string({ error: 'template 须为文本，或 null 恢复默认模板 / template must be text, or null for the default' })
      .min(1, '模板不能为空；恢复默认请用 null / template must not be empty; send null for the default')
      .nullable()
      .optional(),
    /** The day-before reminder's template; `null` goes back to the default one. */
    reminderTemplate: z
      .string({ error: 'reminderTemplate 须为文本，或 null 恢复默认模板 / reminderTemplate must be text, or null for the default' })
      .min(1, '模板不能为空；恢复默认请用 null / reminderTemplate must not be empty; send null for the default')
      .nullable()
      .optional(),
  })
  .strict()
  .refine(
    (edit) => edit.name !== undefined || edit.noticeDaysBefore !== undefined || edit.reminderDaysBefore !== undefined || edit.template !== undefined || edit.reminderTemplate !== undefined,
    '请给出要修改的 name、noticeDaysBefore、reminderDaysBefore、template 或 reminderTemplate / give a new name, noticeDaysBefore, reminderDaysBefore, template or reminderTemplate',
  );

export type CampaignEditInput = z.infer<typeof campaignEditSchema>;

/** What the edit check needs of a visit. */
export interface EditableVisit {
  id: string;
  township: string;
  date: IsoDate;
  place: string;
  slots: ReadonlyArray<Pick<Slot, 'number' | 'start' | 'end'>>;
  state: VisitState;
  noticeAt: IsoInstant;
  reminderAt: IsoInstant;
}

export interface EditContext {
  now: DateTime;
  window: SendWindow;
  signature: string;
  /** A township's Chinese name from its code (the code when unknown). */
  townshipName: (code: string) => string;
}

/** What the edit does to one visit. */
export interface VisitEditPlan {
  visitId: string;
  township: string;
  townshipName: string;
  date: IsoDate;
  state: VisitState;
  /** Its notice's (reminder's) job ran before the edit: it keeps its instant. */
  noticeDone: boolean;
  reminderDone: boolean;
  /** The instants after the edit (unchanged where the job ran or the days did not change). */
  noticeAt: IsoInstant;
  reminderAt: IsoInstant;
  retimeNotice: boolean;
  retimeReminder: boolean;
  /** The longest notice this visit can produce with the edited template (a 6-character code, 99 machines). */
  longestNotice: { length: number; segments: number } | null;
  /** Why the edit is refused for this visit (each also in the plan's `errors`). */
  problems: FieldError[];
}

/** The campaign's fields after the edit. */
export interface EditedFields {
  name: string;
  noticeDaysBefore: number;
  reminderDaysBefore: number;
  /** Absent: the default template. */
  noticeTemplate?: string;
  reminderTemplate?: string;
}

export interface CampaignEditPlan {
  input: CampaignEditInput;
  /** The edit was made against an older version than the stored one (answered with 409). */
  stale: boolean;
  next: EditedFields;
  /** Each changed field: what it was and what it becomes (`noticeTemplate: null` is the default). */
  changes: Record<string, { from: unknown; to: unknown }>;
  visits: VisitEditPlan[];
  /** Every reason to refuse, the visits' problems included; empty when the edit can be saved. */
  errors: FieldError[];
}

export type CheckedEdit = { ok: false; errors: FieldError[] } | { ok: true; plan: CampaignEditPlan };

/** When a message due `daysBefore` days before `date` was meant to go out, before any clamping to `now`. */
function plannedInstant(date: IsoDate, daysBefore: number): DateTime {
  return DateTime.fromISO(`${addDays(date, -daysBefore)}T${CAMPAIGN_SEND_TIME}`, { zone: ZONE });
}

function iso(instant: DateTime): IsoInstant {
  return instant.setZone(ZONE).toISO() ?? '';
}

/**
 * Checks an edit against the campaign and its visits and plans it. A body zod refuses gives only
 * errors; otherwise the plan says, per visit, the new instants and what would be refused, so that a
 * preview can show all of it.
 */
export function planCampaignEdit(raw: unknown, campaign: Campaign, visits: readonly EditableVisit[], context: EditContext): CheckedEdit {
  const parsed = campaignEditSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, errors: zodErrors(parsed.error) };
  const input = parsed.data;
  const template = input.template === undefined ? campaign.noticeTemplate : (input.template ?? undefined);
  const reminderTemplate = input.reminderTemplate === undefined ? campaign.reminderTemplate : (input.reminderTemplate ?? undefined);
  const next: EditedFields = {
    name: input.name ?? campaign.name,
    noticeDaysBefore: input.noticeDaysBefore ?? campaign.noticeDaysBefore,
    reminderDaysBefore: input.reminderDaysBefore ?? campaign.reminderDaysBefore,
    ...(template !== undefined ? { noticeTemplate: template } : {}),
    ...(reminderTemplate !== undefined ? { reminderTemplate } : {}),
  };
  const changes: CampaignEditPlan['changes'] = {};
  if (next.name !== campaign.name) changes.name = { from: campaign.name, to: next.name };
  if (next.noticeDaysBefore !== campaign.noticeDaysBefore) changes.noticeDaysBefore = { from: campaign.noticeDaysBefore, to: next.noticeDaysBefore };
  if (next.reminderDaysBefore !== campaign.reminderDaysBefore) changes.reminderDaysBefore = { from: campaign.reminderDaysBefore, to: next.reminderDaysBefore };
  if (next.noticeTemplate !== campaign.noticeTemplate) changes.noticeTemplate = { from: campaign.noticeTemplate ?? null, to: next.noticeTemplate ?? null };
  if (next.reminderTemplate !== campaign.reminderTemplate) changes.reminderTemplate = { from: campaign.reminderTemplate ?? null, to: next.reminderTemplate ?? null };

  const errors: FieldError[] = [];
  if (Object.keys(changes).length === 0) {
    errors.push({ field: '', reason: '给出的值与活动现在的相同，没有要保存的修改 / nothing to change: the values given are the campaign’s current ones' });
  }
  if (next.noticeDaysBefore <= next.reminderDaysBefore) {
    errors.push({
      field: input.noticeDaysBefore !== undefined ? 'noticeDaysBefore' : 'reminderDaysBefore',
      reason: `预约通知须早于到场提醒：noticeDaysBefore（${next.noticeDaysBefore}）须大于 reminderDaysBefore（${next.reminderDaysBefore}） / the notice must come before the reminder: noticeDaysBefore (${next.noticeDaysBefore}) must exceed reminderDaysBefore (${next.reminderDaysBefore})`,
    });
  }
  const templateProblems = input.template !== undefined && input.template !== null ? templateErrors(input.template, 'template') : [];
  errors.push(...templateProblems);
  const reminderProblems = input.reminderTemplate !== undefined && input.reminderTemplate !== null ? reminderTemplateErrors(input.reminderTemplate) : [];
  errors.push(...reminderProblems);
  const plans = visits.map((visit) => planVisit(visit, next, changes, templateProblems.length === 0, context, reminderProblems.length === 0));
  for (const plan of plans) errors.push(...plan.problems);
  return { ok: true, plan: { input, stale: input.expectedVersion !== campaign.version, next, changes, visits: plans, errors } };
}

/**
 * A saved edit's plan for a visit as it is now: the use case re-reads each visit before re-timing it
 * (a booking or a move may have changed it since the edit was checked).
 */
export function replanVisit(visit: EditableVisit, plan: Pick<CampaignEditPlan, 'next' | 'changes'>, context: EditContext): VisitEditPlan {
  return planVisit(visit, plan.next, plan.changes, true, context, true);
}

/** What a reminder template may not be on its own: unknown placeholders, 【】, longer than 3 parts as written. */
function reminderTemplateErrors(template: string): FieldError[] {
  const field = 'reminderTemplate';
  try {
    reminderPlaceholders(template);
  } catch (error) {
    if (error instanceof TemplateError) return [{ field, reason: error.message }];
    throw error;
  }
  if (template.length > MAX_NOTICE_LENGTH) {
    return [{ field, reason: `模板最多 ${MAX_NOTICE_LENGTH} 个字符（3 条短信） / the template has at most ${MAX_NOTICE_LENGTH} characters (3 SMS parts)` }];
  }
  return [];
}

/** The longest reminder a visit's booked holder can get: its last slot's number, a six-character code. */
function longestReminder(visit: EditableVisit, template: string, township: string, signature: string): { length: number; segments: number } | undefined {
  const slot = visit.slots.reduce<EditableVisit['slots'][number] | undefined>((last, s) => (last === undefined || s.number > last.number ? s : last), undefined);
  if (slot === undefined) return undefined;
  try {
    const rendered = renderReminderForBooking({ signature, township, date: visit.date, place: visit.place, code: 'X'.repeat(6), slot }, template);
    return { length: rendered.length, segments: rendered.segments };
  } catch (error) {
    if (error instanceof PermanentSendError) return { length: Number.POSITIVE_INFINITY, segments: Number.POSITIVE_INFINITY };
    throw error;
  }
}

function planVisit(
  visit: EditableVisit,
  next: EditedFields,
  changes: CampaignEditPlan['changes'],
  templateUsable: boolean,
  context: EditContext,
  reminderTemplateUsable: boolean,
): VisitEditPlan {
  const nowMs = context.now.toMillis();
  const cancelled = visit.state === 'cancelled';
  const noticeDone = Date.parse(visit.noticeAt) <= nowMs;
  const reminderDone = Date.parse(visit.reminderAt) <= nowMs;
  const townshipName = context.townshipName(visit.township);
  const label = `${townshipName} ${visit.date}（${visit.id}）`;
  const problems: FieldError[] = [];
  let noticeAt = visit.noticeAt;
  let reminderAt = visit.reminderAt;
  if (!cancelled && !noticeDone && changes.noticeDaysBefore !== undefined) {
    const planned = plannedInstant(visit.date, next.noticeDaysBefore);
    if (planned.toMillis() < nowMs) {
      problems.push({
        field: 'noticeDaysBefore',
        reason:
          `${label} 的预约通知尚未发出，提前 ${next.noticeDaysBefore} 天会落在已过去的 ${planned.toFormat('yyyy-MM-dd HH:mm')}；请减少天数 / ` +
          `the notice of the visit to ${townshipName} on ${visit.date} (${visit.id}) has not gone out yet, and ${next.noticeDaysBefore} days before would put it in the past (${planned.toFormat('yyyy-MM-dd HH:mm')}); use fewer days`,
      });
    } else {
      noticeAt = iso(campaignSendInstant(visit.date, next.noticeDaysBefore, context.window, context.now));
    }
  }
  if (!cancelled && !reminderDone && changes.reminderDaysBefore !== undefined) {
    reminderAt = iso(campaignSendInstant(visit.date, next.reminderDaysBefore, context.window, context.now));
  }
  let longest: VisitEditPlan['longestNotice'] = null;
  if (!cancelled && templateUsable) {
    try {
      const rendered = longestNotice({
        signature: context.signature,
        template: next.noticeTemplate ?? DEFAULT_NOTICE_TEMPLATE,
        township: townshipName,
        date: visit.date,
        place: visit.place,
        slots: visit.slots,
      });
      longest = { length: rendered.length, segments: rendered.segments };
    } catch (error) {
      // Longer than any carrier takes: reported as too long below.
      if (!(error instanceof PermanentSendError)) throw error;
      longest = { length: Number.POSITIVE_INFINITY, segments: Number.POSITIVE_INFINITY };
    }
    if (changes.noticeTemplate !== undefined && longest.segments > MAX_NOTICE_SEGMENTS) {
      const length = Number.isFinite(longest.length) ? `${longest.length}` : '500+';
      problems.push({
        field: 'template',
        reason:
          `用 ${label} 的乡镇、日期、地点和 ${visit.slots.length} 个场次填入后，通知有 ${length} 个字符（含签名），超过 ${MAX_NOTICE_SEGMENTS} 条短信；请缩短模板 / ` +
          `with the township, date, place and ${visit.slots.length} slots of the visit to ${townshipName} on ${visit.date} (${visit.id}), the notice would be ${length} characters with the signature, more than ${MAX_NOTICE_SEGMENTS} SMS parts: shorten the template`,
      });
    }
  }
  if (!cancelled && reminderTemplateUsable && changes.reminderTemplate !== undefined) {
    const reminder = longestReminder(visit, next.reminderTemplate ?? DEFAULT_REMINDER_TEMPLATE, townshipName, context.signature);
    if (reminder !== undefined && reminder.segments > MAX_NOTICE_SEGMENTS) {
      const length = Number.isFinite(reminder.length) ? `${reminder.length}` : '500+';
      problems.push({
        field: 'reminderTemplate',
        reason:
          `用 ${label} 的乡镇、日期、地点和场次填入后，到场提醒有 ${length} 个字符（含签名），超过 ${MAX_NOTICE_SEGMENTS} 条短信；请缩短模板 / ` +
          `with the township, date, place and slots of the visit to ${townshipName} on ${visit.date} (${visit.id}), the reminder would be ${length} characters with the signature, more than ${MAX_NOTICE_SEGMENTS} SMS parts: shorten the template`,
      });
    }
  }
  return {
    visitId: visit.id,
    township: visit.township,
    townshipName,
    date: visit.date,
    state: visit.state,
    noticeDone,
    reminderDone,
    noticeAt,
    reminderAt,
    retimeNotice: Date.parse(noticeAt) !== Date.parse(visit.noticeAt),
    retimeReminder: Date.parse(reminderAt) !== Date.parse(visit.reminderAt),
    longestNotice: longest === null || Number.isFinite(longest.length) ? longest : null,
    problems,
  };
}
