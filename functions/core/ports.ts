import type { DateTime } from 'luxon';

/** Business time. Use cases take `now` from here; the core takes it as an argument. */
export interface Clock {
  now(): DateTime;
}

export interface SmsMessage {
  /** E.164 */
  to: string;
  body: string;
  /** Stable per (certificate, expiry, stage): adapters that can deduplicate use it. */
  idempotencyKey: string;
}

export interface SmsReceipt {
  messageId: string;
}

/** Delivers one SMS. Throws `RetryableSendError` or `PermanentSendError` (see errors.ts). */
export interface SmsSender {
  send(message: SmsMessage): Promise<SmsReceipt>;
}
