/**
 * Our own suppression list: the numbers that asked for no more SMS. SNS keeps its own opt-out list,
 * but it does not know the Chinese keywords, and a domestic provider's list is not ours to read, so
 * every send checks this one (see README, "Opting out").
 *
 * Pure: the types and the confirmation text; the list itself is a port (`SuppressionList`).
 */
import type { IsoInstant } from './model.js';
import { countSegments, DEFAULT_SIGNATURE, smsLength } from './sms.js';
import type { RenderedCampaignSms } from './campaigns/texts.js';

/**
 * How a number came onto the list: the holder's reply (`sms-keyword`), SNS's opt-out list read by the
 * daily job (`sns-opted-out`), or SNS refusing a publish because the number opted out with it
 * (`sns-publish-error`).
 */
export const SUPPRESSION_SOURCES = ['sms-keyword', 'sns-opted-out', 'sns-publish-error'] as const;
export type SuppressionSource = (typeof SUPPRESSION_SOURCES)[number];

export interface Suppression {
  /** E.164, as `normaliseMainlandMobile` returns it; masked in every answer and log line. */
  phone: string;
  source: SuppressionSource;
  /** When the number was suppressed (the business instant of the reply, the job, the refused send). */
  at: IsoInstant;
  /** What suppressed it, for the operator: the keyword as received, the provider's error … (never another phone). */
  detail?: string;
}

/** The note a reminder's skipped stage carries when its number was suppressed at send time. */
export const SUPPRESSED_NOTE = 'suppressed' as const;

/** What the ledgers record as the reason of a message skipped for a suppressed number. */
export const SUPPRESSED_REASON = '号码已退订 / the number opted out (suppression list)';

/**
 * The one SMS a number gets after opting out: that it worked and how to undo it. One segment with the
 * signature and a help phone, so it never costs more than the keyword that asked for it.
 */
export function optOutConfirmationText(signature = DEFAULT_SIGNATURE, helpPhone?: string): RenderedCampaignSms {
  const contact = helpPhone === undefined ? '请联系政务服务中心' : `请致电${helpPhone}`;
  const body = `${signature}您已退订本服务的短信提醒，此后不再发送。如需恢复${contact}。`;
  return { body, length: smsLength(body), segments: countSegments(body) };
}
