/**
 * The short SMS a holder gets back after replying to a campaign notice. Each names what the holder
 * needs at the door — date, time and place — and how to change it, and nothing about anyone else:
 * a reply must never tell a stranger whose code they typed. The values come from stored visits,
 * already checked where they entered (visit creation); they are checked again here because a text
 * that goes out under the county's signature must not carry a link or a second 【signature】.
 *
 * Pure: the booking and inbound-message use cases call it.
 */
import type { IsoDate } from '../model.js';
import { checkSmsSafeText } from '../sms-safe-text.js';
import { countSegments, DEFAULT_SIGNATURE, formatChineseDate, smsLength } from '../sms.js';
import type { RenderedCampaignSms } from './texts.js';

export interface BookedSlot {
  code: string;
  date: IsoDate;
  slot: number;
  start: string;
  end: string;
  place: string;
}

export interface SlotRoom {
  number: number;
  start: string;
  end: string;
  /** Places still free. */
  room: number;
}

/** A rendered reply, in the shape every campaign SMS has. */
export type ReplyText = RenderedCampaignSms;

/** Every booking reply fits two segments with real values (a long place name included). */
export const BOOKING_REPLY_SEGMENTS = 2;

function reply(text: string, signature: string): ReplyText {
  const body = `${signature}${text}`;
  return { body, length: smsLength(body), segments: countSegments(body) };
}

function safePlace(place: string): string {
  const problem = checkSmsSafeText('place', place);
  if (problem !== undefined) throw new RangeError(`visit place ${problem.en}`);
  return place;
}

/** 已预约 with date, time and place, and how to change or cancel. */
export function bookingConfirmationText(booked: BookedSlot, signature = DEFAULT_SIGNATURE): ReplyText {
  return reply(
    `预约成功：${formatChineseDate(booked.date)} ${booked.start}-${booked.end}（第${booked.slot}场），地点：${safePlace(booked.place)}，请带上农机和证件。` +
      `改约回复“${booked.code} 场次号”，取消回复“取消 ${booked.code}”。`,
    signature,
  );
}

/** The booking is cancelled and the slot given back; booking again still works with the same code. */
export function bookingCancellationText(booked: BookedSlot, signature = DEFAULT_SIGNATURE): ReplyText {
  return reply(
    `已取消您${formatChineseDate(booked.date)} ${booked.start}-${booked.end}的上门服务预约。如需重新预约，请回复“${booked.code} 场次号”。`,
    signature,
  );
}

/** The chosen slot is full: the slots that still have room, or that the visit is fully booked. */
export function slotFullText(code: string, slot: number, rooms: readonly SlotRoom[], signature = DEFAULT_SIGNATURE): ReplyText {
  if (rooms.length === 0) return reply(`第${slot}场已约满，本次上门服务各场次均已约满，可到政务服务中心办理。`, signature);
  const open = rooms.map((r) => `第${r.number}场${r.start}`).join('、');
  return reply(`第${slot}场已约满，尚有名额：${open}。请回复“${code} 场次号”改约。`, signature);
}

/**
 * How to book and cancel, for anything the service could not act on. Deliberately the same text for
 * an unknown code, someone else's code and a message it did not understand.
 */
export function bookingHelpText(signature = DEFAULT_SIGNATURE): ReplyText {
  return reply('预约上门服务请回复“预约码 场次号”，如“ABC123 2”；取消请回复“取消 预约码”。预约码见通知短信，也可到政务服务中心办理。', signature);
}
