import { DateTime } from 'luxon';
import { maskPhonesInText } from '../../core/log-masking.js';
import { ZONE } from '../../core/model.js';
import { maskPhone } from '../../core/phone.js';
import type { OutboxEntry } from './outbox-sms-sender.js';

/**
 * How the console shows an outbox message: the recipient masked, and the text as sent except for
 * phone-like digit runs. A certificate number or holder name may hold a phone number
 * (TEL13912345678), and a printed line ends up in terminal scrollback and shared logs just like
 * the structured line, which masks it.
 */
export function formatOutboxLine(entry: OutboxEntry): string {
  const at = DateTime.fromISO(entry.sentAt, { zone: ZONE }).toFormat('yyyy-MM-dd HH:mm');
  return `[短信 ${at}] → ${maskPhone(entry.to)} (${entry.segments} 条计费)\n  ${maskPhonesInText(entry.body)}`;
}
