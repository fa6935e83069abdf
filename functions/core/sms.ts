/**
 * Reminder rendering and the mainland carriers' length rules (see /work/shared/reference/sms.md §A2–A3).
 * The texts themselves are templates in templates.ts.
 */
import { PermanentSendError } from './errors.js';
import type { IsoDate, RenewalAction, StageName } from './model.js';
import { checkSmsSafeText, type SmsTextKind } from './sms-safe-text.js';
import {
  DEFAULT_TEMPLATES,
  fillTemplate,
  templatePlaceholders,
  type Placeholder,
  type StageTemplates,
  type TemplateValues,
} from './templates.js';

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
  /** The type's short name (`smsName` in the catalogue). */
  typeName: string;
  number: string;
  /** The holder's name, for templates that address the holder. */
  holder?: string;
  stage: StageName;
  expiresOn: IsoDate;
  renewalDeadline: IsoDate;
  /** When the renewal window opens, for types that may only be renewed within a period before expiry. */
  windowOpens: IsoDate | null;
  /** The deadline was already past when this (late, catch-up) message was planned. */
  deadlinePassed: boolean;
  /** The type's verb: 延续, 年检, 校验… */
  action: RenewalAction;
  /** Where to go, e.g. `兴国县政务服务中心` or `兴国县农机安全监理站`. */
  renewalPlace: string;
  county?: string;
  /** A number to call, e.g. `0797-5321234`; appended only where it costs no extra segment. */
  helpPhone?: string | undefined;
  /**
   * The day the message goes out. With it, a window that is already open is not mentioned
   * ("apply from a past date" reads as a mistake); without it, `windowOpens` is always stated.
   */
  sendOn?: IsoDate;
  /** Defaults to `DEFAULT_TEMPLATES`. */
  templates?: StageTemplates;
  /**
   * The stage whose text a catch-up takes when it goes out after the expiry day (default `expired`);
   * `null` when the rule has none, and the stage keeps its own text.
   */
  afterExpiryStage?: StageName | null;
}

export interface RenderedSms {
  body: string;
  length: number;
  segments: number;
}

/** Every default text, for every type and stage, with a 20-character number, must fit two segments. */
export const SEGMENT_BUDGET = 2;
export const BUDGET_LENGTH = SEGMENT_BUDGET * MULTI_SEGMENT_PART_LENGTH;

/**
 * The reminder text for one stage: the stage's template (its late variant after a passed deadline)
 * filled with the certificate's values, behind the signature. AWS SNS, unlike the domestic
 * platforms, does not add the signature, so the body starts with it. No value is rewritten: what is
 * stored is what is sent, and a value that could not go into an official SMS is refused here as a
 * last guard (uploads refuse it first, see sms-safe-text.ts).
 */
export function renderReminder(input: ReminderInput): RenderedSms {
  const signature = input.signature ?? DEFAULT_SIGNATURE;
  const template = templateFor(input);
  const values = reminderValues(input);
  refuseUnsafe(input, templatePlaceholders(template));

  let text = `${signature}${fillTemplate(template, { ...values, helpPhone: '' })}`;
  if (values.helpPhone !== '') {
    // A help line is a courtesy: it may not make the message dearer nor push it past the budget.
    const withPhone = `${signature}${fillTemplate(template, values)}`;
    const length = smsLength(withPhone);
    if (length <= BUDGET_LENGTH && countSegments(withPhone) === countSegments(text)) text = withPhone;
  }
  const length = smsLength(text);
  if (length > MAX_SMS_LENGTH) {
    throw new PermanentSendError(
      `Reminder for ${input.number} is ${length} characters; carriers refuse more than ${MAX_SMS_LENGTH}. Shorten the template, the place or the signature.`,
    );
  }
  return { body: text, length, segments: countSegments(text) };
}

/** The placeholder values for one reminder; the conditional phrasing is decided here, not in templates. */
export function reminderValues(input: ReminderInput): TemplateValues {
  return {
    holder: input.holder ?? '',
    typeName: input.typeName,
    number: input.number,
    expiresOn: formatChineseDate(input.expiresOn),
    deadline: formatChineseDate(input.renewalDeadline),
    windowOpens: input.windowOpens === null ? '' : formatChineseDate(input.windowOpens),
    applyBy: applyBy(input),
    action: input.action,
    place: input.renewalPlace,
    county: input.county ?? '',
    helpPhone: input.helpPhone === undefined || input.helpPhone === '' ? '' : `咨询电话${input.helpPhone}`,
  };
}

/**
 * "By when": between opening and deadline while the window is still ahead, otherwise by the deadline,
 * its own day included (（含）, so nobody wonders whether 前 means the day before). When the deadline
 * is the expiry, 到期日 stands for it, so the date is said once.
 */
function applyBy(input: ReminderInput): string {
  const opens = input.windowOpens;
  const deadline = input.renewalDeadline === input.expiresOn ? '到期日' : formatChineseDate(input.renewalDeadline);
  // ISO dates compare as strings.
  const windowAhead = opens !== null && opens < input.renewalDeadline && (input.sendOn === undefined || opens > input.sendOn);
  return windowAhead ? `在${formatChineseDate(opens)}至${deadline}期间` : `在${deadline}（含）前`;
}

/**
 * The stage's template, its late variant after a passed deadline. A catch-up that goes out after the
 * expiry day (the expired notice itself waits for a working day) must not say 将于…到期, so it takes
 * the expired text.
 */
function templateFor(input: ReminderInput): string {
  const templates: StageTemplates = input.templates ?? DEFAULT_TEMPLATES;
  const afterExpiry = input.afterExpiryStage === undefined ? 'expired' : input.afterExpiryStage;
  const expiredAlready = input.sendOn !== undefined && input.sendOn > input.expiresOn && afterExpiry !== null && templates[afterExpiry] !== undefined;
  const stage = templates[expiredAlready && afterExpiry !== null ? afterExpiry : input.stage];
  if (stage === undefined) {
    throw new PermanentSendError(`提醒规则中没有阶段 ${input.stage} / the reminder rule has no stage ${JSON.stringify(input.stage)}; its plan predates a rule change`);
  }
  return (input.deadlinePassed || expiredAlready) && stage.lateTemplate !== null ? stage.lateTemplate : stage.template;
}

/** A value the template says must have the SMS-safe form; values it does not say are not its concern. */
function refuseUnsafe(input: ReminderInput, used: readonly Placeholder[]): void {
  const checks: Array<[SmsTextKind, Placeholder, string | undefined]> = [
    ['certificateNumber', 'number', input.number],
    ['holderName', 'holder', input.holder],
    ['place', 'place', input.renewalPlace],
  ];
  for (const [kind, placeholder, value] of checks) {
    if (value === undefined || !used.includes(placeholder)) continue;
    const problem = checkSmsSafeText(kind, value);
    if (problem !== undefined) {
      throw new PermanentSendError(`Reminder for ${JSON.stringify(input.number)} not rendered: its ${kind} ${problem.en}`);
    }
  }
}
