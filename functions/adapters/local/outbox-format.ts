import { DateTime } from 'luxon';
import { ZONE } from '../../core/model.js';
import { maskPhone } from '../../core/phone.js';
import type { OutboxEntry } from './outbox-sms-sender.js';

/** How the console shows an outbox message: the number masked, the text in full. */
export function formatOutboxLine(entry: OutboxEntry): string {
  const at = DateTime.fromISO(entry.sentAt, { zone: ZONE }).toFormat('yyyy-MM-dd HH:mm');
  return `[短信 ${at}] → ${maskPhone(entry.to)} (${entry.segments} 条计费)\n  ${entry.body}`;
}
