/**
 * Reminder texts and the mainland carriers' length rules (see /work/shared/reference/sms.md §A2–A3).
 */
import { PermanentSendError } from './errors.js';
import type { IsoDate, StageName } from './model.js';

export const DEFAULT_SIGNATURE = '【兴国县行政审批局】';
export const DEFAULT_RENEWAL_PLACE = '兴国县政务服务中心';

/** Carriers and platforms refuse longer messages, signature and variables included. */
export const MAX_SMS_LENGTH = 500;
/** One message holds 70 UCS-2 characters; a long one is split into parts of 67 (3 go to the join header). */
export const SINGLE_SEGMENT_LENGTH = 70;
export const MULTI_SEGMENT_PART_LENGTH = 67;

/** `2026-01-21` → `2026年1月21日`, the form people read on official notices. */
export function formatChineseDate(iso: IsoDate): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!match) throw new RangeError(`Not an ISO date (YYYY-MM-DD): ${JSON.stringify(iso)}`);
  return `${Number(match[1])}年${Number(match[2])}月${Number(match[3])}日`;
}

/**
 * The length carriers bill by: every character counts 1 — Chinese, ASCII, punctuation, spaces.
 * Code points, not UTF-16 units, so a character outside the BMP still counts once.
 */
export function smsLength(text: string): number {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

/** Up to 70 characters is one message; beyond that every 67 characters is one billed part. */
export function countSegments(text: string): number {
  const length = smsLength(text);
  return length <= SINGLE_SEGMENT_LENGTH ? 1 : Math.ceil(length / MULTI_SEGMENT_PART_LENGTH);
}

export interface ReminderInput {
  /** Full-width brackets included. Defaults to `【兴国县行政审批局】`. */
  signature?: string;
  typeNameZh: string;
  number: string;
  stage: StageName;
  expiresOn: IsoDate;
  renewalDeadline: IsoDate;
  /** When the renewal window opens, for types that may only be renewed within a period before expiry. */
  windowOpens: IsoDate | null;
  /** The deadline was already past when this (late, catch-up) message was planned. */
  deadlinePassed: boolean;
  /** Where to renew, e.g. `兴国县政务服务中心`. */
  renewalPlace: string;
  /**
   * The day the message goes out. With it, a window that is already open is not mentioned
   * ("apply from a past date" reads as a mistake); without it, `windowOpens` is always stated.
   */
  sendOn?: IsoDate;
}

export interface RenderedSms {
  body: string;
  length: number;
  segments: number;
}

/**
 * The reminder text for one stage. The body starts with the signature because AWS SNS, unlike the
 * domestic platforms, does not add it; it carries no link and no opt-out text (a government
 * notification, not a marketing message).
 */
export function renderReminder(input: ReminderInput): RenderedSms {
  const signature = input.signature ?? DEFAULT_SIGNATURE;
  const certificate = `您的${variable(input.typeNameZh)}（编号${variable(input.number)}）`;
  const place = variable(input.renewalPlace);
  const expires = formatChineseDate(input.expiresOn);
  const deadline = formatChineseDate(input.renewalDeadline);

  const text = `${signature}${bodyFor(input, certificate, place, expires, deadline)}`;
  const length = smsLength(text);
  if (length > MAX_SMS_LENGTH) {
    // Only an oversized place or signature can get here (numbers are at most 64 characters and type names about 50).
    throw new PermanentSendError(
      `Reminder for ${input.number} is ${length} characters; carriers refuse more than ${MAX_SMS_LENGTH}. Shorten the renewal place or signature.`,
    );
  }
  return { body: text, length, segments: countSegments(text) };
}

function bodyFor(input: ReminderInput, certificate: string, place: string, expires: string, deadline: string): string {
  switch (input.stage) {
    case 'first': {
      if (input.deadlinePassed) {
        return `${certificate}将于${expires}到期，延续申请截止日${deadline}已过，请尽快联系${place}办理。`;
      }
      return `${certificate}将于${expires}到期，${applyBy(input, deadline)}，办理地点：${place}。`;
    }
    case 'final': {
      if (input.deadlinePassed) {
        return `提醒：${certificate}延续申请截止日${deadline}已过，证照将于${expires}到期，请尽快联系${place}办理。`;
      }
      return `提醒：${certificate}延续申请截止日为${deadline}，证照将于${expires}到期，请尽快到${place}办理。`;
    }
    case 'expired':
      return `${certificate}已于${expires}到期，请尽快到${place}办理延续或换证。`;
  }
}

/** "Apply before the deadline", or "between opening and deadline" while the window is still ahead. */
function applyBy(input: ReminderInput, deadline: string): string {
  const opens = input.windowOpens;
  // ISO dates compare as strings.
  const windowAhead = opens !== null && opens < input.renewalDeadline && (input.sendOn === undefined || opens > input.sendOn);
  return windowAhead ? `请于${formatChineseDate(opens)}至${deadline}期间申请延续` : `请于${deadline}前申请延续`;
}

/** Carriers read 【…】 as a signature, and a second one in the body gets the template refused. */
function variable(value: string): string {
  return value.trim().replace(/【/g, '[').replace(/】/g, ']');
}
