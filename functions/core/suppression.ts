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

/**
 * A number an operator took off our list, remembered so that the daily copy of SNS's opt-out list does not put
 * it straight back: SNS may still list it (its opt-in was refused, or its list lags). The reinstatement covers
 * the listing SNS had when it was made, and ends at the first daily copy that finds the number off SNS's list;
 * from then on SNS listing it again is a new opt-out and is copied as usual (see README, "Opting out").
 */
export interface Reinstatement {
  /** E.164. */
  phone: string;
  /** When the operator reinstated it. */
  at: IsoInstant;
}

/** Why the provider would not opt a number back in: each has its own next step for the operator. */
export const PROVIDER_OPT_IN_REFUSALS = ['once-per-30-days', 'throttled', 'not-permitted', 'provider-error'] as const;
export type ProviderOptInRefusal = (typeof PROVIDER_OPT_IN_REFUSALS)[number];

/**
 * What opting a reinstated number back in at the provider came to: `opted-in` (SNS took it off its list),
 * `not-needed` (no provider list: the local outbox), or `refused` with the reason.
 */
export type ProviderOptInOutcome = { status: 'opted-in' } | { status: 'not-needed' } | { status: 'refused'; reason: ProviderOptInRefusal };

/** What happened at the provider and what the operator can do about it, in both languages; never names the number. */
export function providerOptInMessage(reason: ProviderOptInRefusal): string {
  const optInYourself = '在 SNS 控制台（短信 → 已退订的电话号码 → 选择退订）或用 aws sns opt-in-phone-number 重新订阅该号码';
  const optInYourselfEn = 'opt the number in from the SNS console (Text messaging (SMS) → Opted-out phone numbers → Opt in) or with aws sns opt-in-phone-number';
  const meanwhile = '在此之前 SNS 不会把短信发到这个号码，第一条被拒的短信会让它重新进入本服务的退订名单';
  const meanwhileEn = 'until then SNS refuses SMS to it, and the first refused SMS puts it back on our list';
  switch (reason) {
    case 'once-per-30-days':
      return (
        `已从本服务的退订名单移除，但 SNS 拒绝重新订阅：SNS 每个号码每30天只能重新订阅一次（或该号码不是 SNS 可发送的号码）。请在上次重新订阅满30天后${optInYourself}；${meanwhile}。` +
        ` / Taken off our list, but SNS refused to opt the number back in: SNS allows this once every 30 days per number (or the number is not one SNS can text). Once 30 days have passed since its last opt-in, ${optInYourselfEn}; ${meanwhileEn}.`
      );
    case 'throttled':
      return (
        `已从本服务的退订名单移除，但 SNS 暂时拒绝了重新订阅请求（请求过于频繁）。请稍后${optInYourself}；${meanwhile}。` +
        ` / Taken off our list, but SNS throttled the opt-in request. In a minute, ${optInYourselfEn}; ${meanwhileEn}.`
      );
    case 'not-permitted':
      return (
        `已从本服务的退订名单移除，但本服务无权在 SNS 重新订阅号码（缺少 sns:OptInPhoneNumber 权限，请运维检查部署）。请${optInYourself}；${meanwhile}。` +
        ` / Taken off our list, but the service may not opt numbers back in at SNS (sns:OptInPhoneNumber is missing: ask operations to check the deployment). Meanwhile, ${optInYourselfEn}; ${meanwhileEn}.`
      );
    case 'provider-error':
      return (
        `已从本服务的退订名单移除，但 SNS 未能完成重新订阅（服务暂时出错）。请稍后${optInYourself}；${meanwhile}。` +
        ` / Taken off our list, but SNS could not opt the number back in (a service error). Later, ${optInYourselfEn}; ${meanwhileEn}.`
      );
  }
}
