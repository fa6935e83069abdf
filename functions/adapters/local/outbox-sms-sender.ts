import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { Clock, SmsMessage, SmsReceipt, SmsSender } from '../../core/ports.js';

export const outboxEntrySchema = z.object({
  messageId: z.string(),
  idempotencyKey: z.string(),
  to: z.string(),
  type: z.string(),
  number: z.string(),
  stage: z.string(),
  expiresOn: z.string(),
  renewalDeadline: z.string(),
  body: z.string(),
  segments: z.number(),
  sentAt: z.string(),
});
export type OutboxEntry = z.infer<typeof outboxEntrySchema>;

/**
 * The local twin of SNS: each SMS is printed, appended as a JSON line to a file, and kept for GET /v1/outbox.
 * It honours the idempotency key, so a retried send after a crash returns the first receipt instead of a second message.
 */
export class OutboxSmsSender implements SmsSender {
  private readonly entries: OutboxEntry[] = [];
  private readonly byKey = new Map<string, OutboxEntry>();

  constructor(
    private readonly file: string | undefined,
    private readonly clock: Clock,
    private readonly print: (entry: OutboxEntry) => void = () => {},
  ) {
    if (file !== undefined && existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        const parsed = outboxEntrySchema.safeParse(JSON.parse(line));
        if (parsed.success) this.remember(parsed.data);
      }
    }
  }

  async send(message: SmsMessage): Promise<SmsReceipt> {
    const earlier = this.byKey.get(message.idempotencyKey);
    if (earlier !== undefined) return { messageId: earlier.messageId };
    const r = message.reminder;
    const entry: OutboxEntry = {
      messageId: `local-${randomUUID()}`,
      idempotencyKey: message.idempotencyKey,
      to: message.to,
      type: r?.type ?? '',
      number: r?.number ?? '',
      stage: r?.stage ?? '',
      expiresOn: r?.expiresOn ?? '',
      renewalDeadline: r?.renewalDeadline ?? '',
      body: message.body,
      segments: r?.segments ?? 0,
      sentAt: message.at ?? this.clock.now().toISO() ?? '',
    };
    if (this.file !== undefined) {
      mkdirSync(dirname(this.file), { recursive: true });
      appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
    }
    this.remember(entry);
    this.print(entry);
    return { messageId: entry.messageId };
  }

  list(): OutboxEntry[] {
    return [...this.entries];
  }

  private remember(entry: OutboxEntry): void {
    this.entries.push(entry);
    this.byKey.set(entry.idempotencyKey, entry);
  }
}
