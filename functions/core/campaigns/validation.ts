/**
 * Checking campaigns and visits: structure with zod, then what zod cannot say (known types, the season,
 * blackouts, past dates, overlapping slots, the township, the notice's length). Every refusal names its
 * field and says why in Chinese and English, as the rules do (`{errors:[{field, reason}]}`).
 */
import * as z from 'zod';
import type { IsoDate } from '../model.js';
import { zodErrors, type FieldError } from '../rules.js';
import { checkSmsSafeText } from '../sms-safe-text.js';
import { countSegments } from '../sms.js';
import { TemplateError } from '../templates.js';
import type { CampaignDefinition, Slot } from './model.js';
import { DEFAULT_NOTICE_TEMPLATE, longestNotice, MAX_NOTICE_LENGTH, MAX_NOTICE_SEGMENTS, noticePlaceholders } from './texts.js';

export type { FieldError };

export type Checked<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export const DEFAULT_NOTICE_DAYS_BEFORE = 14;
export const DEFAULT_REMINDER_DAYS_BEFORE = 1;
export const MAX_SLOTS = 12;

const isoDate = z
  .string({ error: '须为日期 YYYY-MM-DD / must be a date, YYYY-MM-DD' })
  .regex(/^\d{4}-\d{2}-\d{2}$/, '须为日期 YYYY-MM-DD / must be a date, YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), '不是真实的日期 / not a real date');

const timeOfDay = z
  .string({ error: '须为时间 HH:mm / must be a time of day, HH:mm' })
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, '须为时间 HH:mm，如 09:00 / must be a time of day, HH:mm, e.g. 09:00');

const rangeSchema = z.object({ from: isoDate, to: isoDate }).strict();

export const campaignInputSchema = z
  .object({
    name: z.string({ error: '活动名称必填 / name is required' }).trim().min(1, '活动名称不能为空 / name must not be empty').max(60, '活动名称最多 60 个字符 / name has at most 60 characters'),
    types: z
      .array(z.string(), { error: 'types 须为证照类型代码的数组 / types must be a list of type codes' })
      .min(1, '至少选择一种证照类型 / name at least one certificate type'),
    season: rangeSchema,
    blackouts: z.array(rangeSchema.extend({ reason: z.string().trim().min(1, '请写明原因 / say why').max(40, '原因最多 40 个字符 / at most 40 characters') }).strict()).default([]),
    noticeDaysBefore: z.number().int('须为整数天数 / a whole number of days').min(1, '至少提前 1 天 / at least 1 day').max(90, '最多提前 90 天 / at most 90 days').default(DEFAULT_NOTICE_DAYS_BEFORE),
    reminderDaysBefore: z.number().int('须为整数天数 / a whole number of days').min(0, '不能为负数 / must not be negative').max(30, '最多提前 30 天 / at most 30 days').default(DEFAULT_REMINDER_DAYS_BEFORE),
    noticeTemplate: z.string().min(1, '模板不能为空，不需要时请省略 / noticeTemplate must not be empty; leave it out instead').optional(),
  })
  .strict();

export const slotInputSchema = z
  .object({ start: timeOfDay, end: timeOfDay, capacity: z.number({ error: '名额须为整数 / capacity must be a whole number' }).int('名额须为整数 / capacity must be a whole number') })
  .strict();

export const visitInputSchema = z
  .object({
    township: z.string({ error: '乡镇必填（代码、名称或别名） / township is required: a code, name or alias' }).min(1, '乡镇必填 / township is required'),
    date: isoDate,
    place: z.string({ error: '地点必填 / place is required' }),
    slots: z.array(slotInputSchema, { error: 'slots 须为场次数组 / slots must be a list' }).min(1, '至少一个场次 / at least one slot').max(MAX_SLOTS, `最多 ${MAX_SLOTS} 个场次 / at most ${MAX_SLOTS} slots`),
  })
  .strict();

export const visitMoveSchema = visitInputSchema
  .omit({ township: true })
  .partial()
  .strict()
  .refine((move) => move.date !== undefined || move.place !== undefined || move.slots !== undefined, '请给出新的 date、place 或 slots / give a new date, place or slots');

export type SlotInput = z.infer<typeof slotInputSchema>;
export type VisitInput = z.infer<typeof visitInputSchema>;
export type VisitMove = z.infer<typeof visitMoveSchema>;

/** What the checks need to know about certificate types: the catalogue's entry, if the code is known. */
export type TypeLookup = (code: string) => { code: string; authority: string } | undefined;

/** A township from its code, name or alias (the reference data's lookup). */
export type TownshipLookup = (input: string) => { code: string; nameZh: string } | undefined;

export function checkCampaign(raw: unknown, types: TypeLookup): Checked<CampaignDefinition> {
  const parsed = campaignInputSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, errors: zodErrors(parsed.error) };
  const input = parsed.data;
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  input.types.forEach((code, index) => {
    if (types(code) === undefined) errors.push({ field: `types[${index}]`, reason: `未知的证照类型 ${code}，见 GET /v1/catalogue / unknown certificate type ${JSON.stringify(code)}; see GET /v1/catalogue` });
    else if (seen.has(code)) errors.push({ field: `types[${index}]`, reason: `证照类型 ${code} 重复 / ${code} is listed twice` });
    seen.add(code);
  });
  if (input.season.from > input.season.to) errors.push({ field: 'season.to', reason: '季节结束日早于开始日 / the season ends before it starts' });
  input.blackouts.forEach((b, index) => {
    if (b.from > b.to) errors.push({ field: `blackouts[${index}].to`, reason: '禁排期结束日早于开始日 / the blackout ends before it starts' });
  });
  if (input.noticeDaysBefore <= input.reminderDaysBefore) {
    errors.push({ field: 'noticeDaysBefore', reason: '预约通知须早于到场提醒（noticeDaysBefore 大于 reminderDaysBefore） / the notice must come before the reminder: noticeDaysBefore must exceed reminderDaysBefore' });
  }
  if (input.noticeTemplate !== undefined) errors.push(...templateErrors(input.noticeTemplate));
  if (errors.length > 0) return { ok: false, errors };
  const { noticeTemplate, ...rest } = input;
  return { ok: true, value: { ...rest, ...(noticeTemplate !== undefined ? { noticeTemplate } : {}) } };
}

/** What a notice template may not be on its own: unknown placeholders, 【】, no `{code}`, longer than 3 parts as written. */
export function templateErrors(template: string, field = 'noticeTemplate'): FieldError[] {
  let used: string[];
  try {
    used = noticePlaceholders(template);
  } catch (error) {
    if (error instanceof TemplateError) return [{ field, reason: error.message }];
    throw error;
  }
  if (!used.includes('code')) return [{ field, reason: '通知须包含预约码 {code}，否则无法回复预约 / the notice must contain {code}: holders book by replying with it' }];
  if (template.length > MAX_NOTICE_LENGTH) {
    return [{ field, reason: `模板最多 ${MAX_NOTICE_LENGTH} 个字符（3 条短信） / the template has at most ${MAX_NOTICE_LENGTH} characters (3 SMS parts)` }];
  }
  return [];
}

/** Where a visit's date stands against its campaign and today. */
export interface VisitContext {
  campaign: CampaignDefinition;
  /** Today in Asia/Shanghai. */
  today: IsoDate;
  townships: TownshipLookup;
  signature: string;
}

export interface CheckedVisit {
  township: { code: string; nameZh: string };
  date: IsoDate;
  place: string;
  slots: Array<Omit<Slot, 'booked'>>;
}

export function checkVisit(raw: unknown, context: VisitContext): Checked<CheckedVisit> {
  const parsed = visitInputSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, errors: zodErrors(parsed.error) };
  const township = context.townships(parsed.data.township);
  const errors: FieldError[] = [];
  if (township === undefined) {
    errors.push({ field: 'township', reason: `未知的乡镇 ${JSON.stringify(parsed.data.township)}，请用代码、名称或别名，见 GET /v1/townships / unknown township; use its code, name or alias (GET /v1/townships)` });
  }
  const checked = checkVisitParts(parsed.data, context, township, errors);
  return errors.length > 0 || township === undefined ? { ok: false, errors } : { ok: true, value: { ...checked, township } };
}

/** A move gives a new date, place or slots; what it leaves out stays as it was. */
export function checkVisitMove(raw: unknown, current: { date: IsoDate; place: string; slots: readonly SlotInput[] }, township: { code: string; nameZh: string }, context: VisitContext): Checked<CheckedVisit> {
  const parsed = visitMoveSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, errors: zodErrors(parsed.error) };
  const merged = { date: parsed.data.date ?? current.date, place: parsed.data.place ?? current.place, slots: parsed.data.slots ?? [...current.slots] };
  const errors: FieldError[] = [];
  const checked = checkVisitParts(merged, context, township, errors);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: { ...checked, township } };
}

function checkVisitParts(
  input: { date: IsoDate; place: string; slots: readonly SlotInput[] },
  context: VisitContext,
  township: { code: string; nameZh: string } | undefined,
  errors: FieldError[],
): Omit<CheckedVisit, 'township'> {
  const { season, blackouts } = context.campaign;
  if (input.date < context.today) {
    errors.push({ field: 'date', reason: `日期 ${input.date} 已过（今天是 ${context.today}） / ${input.date} is in the past (today is ${context.today})` });
  }
  if (input.date < season.from || input.date > season.to) {
    errors.push({ field: 'date', reason: `日期 ${input.date} 不在活动季节 ${season.from} 至 ${season.to} 内 / ${input.date} is outside the season ${season.from}…${season.to}` });
  }
  for (const blackout of blackouts) {
    if (input.date >= blackout.from && input.date <= blackout.to) {
      errors.push({ field: 'date', reason: `日期 ${input.date} 在禁排期 ${blackout.from} 至 ${blackout.to}（${blackout.reason}）内 / ${input.date} is inside the blackout ${blackout.from}…${blackout.to} (${blackout.reason})` });
    }
  }
  const place = input.place.trim();
  const placeProblem = place === '' ? { zh: '不能为空', en: 'must not be empty' } : checkSmsSafeText('place', place);
  if (placeProblem !== undefined) errors.push({ field: 'place', reason: `地点${placeProblem.zh} / the place ${placeProblem.en}` });
  const slots = numberSlots(input.slots, errors);
  if (errors.length === 0 && township !== undefined) {
    const longest = longestNotice({
      signature: context.signature,
      template: context.campaign.noticeTemplate ?? DEFAULT_NOTICE_TEMPLATE,
      township: township.nameZh,
      date: input.date,
      place,
      slots,
    });
    if (countSegments(longest.body) > MAX_NOTICE_SEGMENTS) {
      errors.push({
        field: 'slots',
        reason: `预约通知会有 ${longest.length} 个字符，超过 ${MAX_NOTICE_SEGMENTS} 条短信；请减少场次或缩短地点 / the notice would be ${longest.length} characters, more than ${MAX_NOTICE_SEGMENTS} SMS parts: use fewer slots or a shorter place`,
      });
    }
  }
  return { date: input.date, place, slots };
}

/** Slots in time order, numbered from 1; each must end after it starts, hold someone, and not overlap the next. */
function numberSlots(input: readonly SlotInput[], errors: FieldError[]): Array<Omit<Slot, 'booked'>> {
  input.forEach((slot, index) => {
    if (slot.capacity < 1) errors.push({ field: `slots[${index}].capacity`, reason: `名额至少为 1（现为 ${slot.capacity}） / capacity must be at least 1 (got ${slot.capacity})` });
    if (slot.end <= slot.start) errors.push({ field: `slots[${index}].end`, reason: `结束时间 ${slot.end} 须晚于开始时间 ${slot.start} / the slot must end after it starts` });
  });
  const order = input.map((slot, index) => ({ slot, index })).sort((a, b) => (a.slot.start < b.slot.start ? -1 : a.slot.start > b.slot.start ? 1 : 0));
  for (let i = 1; i < order.length; i += 1) {
    const previous = order[i - 1];
    const current = order[i];
    if (previous === undefined || current === undefined) continue;
    if (current.slot.start < previous.slot.end) {
      errors.push({
        field: `slots[${current.index}]`,
        reason: `场次 ${current.slot.start}-${current.slot.end} 与 ${previous.slot.start}-${previous.slot.end} 时间重叠 / the slot ${current.slot.start}-${current.slot.end} overlaps ${previous.slot.start}-${previous.slot.end}`,
      });
    }
  }
  return order.map(({ slot }, i) => ({ number: i + 1, start: slot.start, end: slot.end, capacity: slot.capacity }));
}
