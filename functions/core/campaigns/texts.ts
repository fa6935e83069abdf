/**
 * The SMS a campaign sends: the booking notice (an operator-editable template, in the template model
 * of ../templates.ts), the day-before reminder, and the short "moved" and "cancelled" texts. The
 * signature is put in front here, as for reminders (SNS does not add it).
 */
import { PermanentSendError } from '../errors.js';
import type { IsoDate } from '../model.js';
import { addDays } from '../planning.js';
import { countSegments, formatChineseDate, MAX_SMS_LENGTH, MULTI_SEGMENT_PART_LENGTH, smsLength } from '../sms.js';
import { fillTemplateOf, placeholdersOf } from '../templates.js';
import type { Slot, SlotDefinition } from './model.js';

export const NOTICE_PLACEHOLDERS = ['township', 'date', 'place', 'slots', 'code', 'count', 'deadline'] as const;
export type NoticePlaceholder = (typeof NOTICE_PLACEHOLDERS)[number];
export type NoticeValues = Readonly<Record<NoticePlaceholder, string>>;

/** A notice, with real values, fits in three billed parts. */
export const MAX_NOTICE_SEGMENTS = 3;
export const MAX_NOTICE_LENGTH = MAX_NOTICE_SEGMENTS * MULTI_SEGMENT_PART_LENGTH;

/**
 * Names the township, the date and the place, lists the numbered slots and says how to book: reply
 * "{code} 场次号" or go to the township's service desk. `{deadline}` is the last day to book (the day
 * before the visit, its own day included).
 */
export const DEFAULT_NOTICE_TEMPLATE =
  '{township}农机上门服务：{date}在{place}现场办理农机年检、驾驶证换证，您有{count}项证照需办理。场次：{slots}。请在{deadline}（含）前回复“{code} 场次号”预约（如“{code} 1”），或到乡镇便民服务中心预约。';

/** The placeholders a notice template uses; throws a `TemplateError` for an unknown one or for 【】. */
export function noticePlaceholders(template: string): NoticePlaceholder[] {
  return placeholdersOf(template, NOTICE_PLACEHOLDERS);
}

/** `1）09:00-10:00；2）10:00-11:00`: the number is what a holder replies with. */
export function slotsText(slots: ReadonlyArray<Pick<Slot, 'number' | 'start' | 'end'>>): string {
  return slots.map((s) => `${s.number}）${s.start}-${s.end}`).join('；');
}

/** The last day a holder can book: the day before the visit. */
export function bookingDeadline(visitDate: IsoDate): IsoDate {
  return addDays(visitDate, -1);
}

export interface NoticeInput {
  signature: string;
  template: string;
  /** The township's Chinese name. */
  township: string;
  date: IsoDate;
  place: string;
  slots: ReadonlyArray<Pick<Slot, 'number' | 'start' | 'end'>>;
  code: string;
  count: number;
}

export interface RenderedCampaignSms {
  body: string;
  length: number;
  segments: number;
}

export function noticeValues(input: Omit<NoticeInput, 'signature' | 'template'>): NoticeValues {
  return {
    township: input.township,
    date: formatChineseDate(input.date),
    place: input.place,
    slots: slotsText(input.slots),
    code: input.code,
    count: String(input.count),
    deadline: formatChineseDate(bookingDeadline(input.date)),
  };
}

export function renderNotice(input: NoticeInput): RenderedCampaignSms {
  return signed(input.signature, fillTemplateOf(input.template, NOTICE_PLACEHOLDERS, noticeValues(input)));
}

/**
 * The longest notice a visit can produce: a six-character code (every code is), 99 machines, and the
 * visit's own township, date, place and slots. A visit whose notice would not fit in three parts is
 * refused when it is created, not found out while sending.
 */
export function longestNotice(input: Omit<NoticeInput, 'code' | 'count'>): RenderedCampaignSms {
  return renderNotice({ ...input, code: 'X'.repeat(6), count: 99 });
}

export interface BookedMessageInput {
  signature: string;
  township: string;
  date: IsoDate;
  place: string;
  code: string;
  slot: Pick<SlotDefinition, 'start' | 'end'> & { number: number };
}

export const REMINDER_PLACEHOLDERS = ['township', 'date', 'place', 'slot', 'start', 'end', 'code'] as const;

/** The day-before reminder to a holder who booked, unless the campaign has its own (`reminderTemplate`). */
export const DEFAULT_REMINDER_TEMPLATE = '提醒：您已预约{date}{township}农机上门服务第{slot}场（{start}-{end}），地点：{place}，预约码{code}。请带上证照和农机按时到场。';

/** The placeholders a reminder template uses; throws a `TemplateError` for an unknown one or for 【】. */
export function reminderPlaceholders(template: string): Array<(typeof REMINDER_PLACEHOLDERS)[number]> {
  return placeholdersOf(template, REMINDER_PLACEHOLDERS);
}

/** The day-before reminder to a holder who booked. */
export function renderReminderForBooking(input: BookedMessageInput, template: string = DEFAULT_REMINDER_TEMPLATE): RenderedCampaignSms {
  return signed(
    input.signature,
    fillTemplateOf(template, REMINDER_PLACEHOLDERS, {
      township: input.township,
      date: formatChineseDate(input.date),
      place: input.place,
      slot: String(input.slot.number),
      start: input.slot.start,
      end: input.slot.end,
      code: input.code,
    }),
  );
}

/** To a holder who booked a visit that moved: the new date, place and their slot's time. */
export function renderMoved(input: BookedMessageInput): RenderedCampaignSms {
  return signed(
    input.signature,
    `您预约的${input.township}农机上门服务已改到${formatChineseDate(input.date)}，地点：${input.place}，第${input.slot.number}场${input.slot.start}-${input.slot.end}。预约码${input.code}不变。`,
  );
}

/** To a holder who booked a visit that was cancelled. */
export function renderCancelled(input: { signature: string; township: string; date: IsoDate }): RenderedCampaignSms {
  return signed(input.signature, `您预约的${formatChineseDate(input.date)}${input.township}农机上门服务已取消，新的安排将另行短信通知，敬请谅解。`);
}

function signed(signature: string, text: string): RenderedCampaignSms {
  const body = `${signature}${text}`;
  const length = smsLength(body);
  if (length > MAX_SMS_LENGTH) throw new PermanentSendError(`a campaign SMS of ${length} characters; carriers refuse more than ${MAX_SMS_LENGTH}`);
  return { body, length, segments: countSegments(body) };
}
