import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxSmsSender, outboxEntrySchema } from '../../functions/adapters/local/outbox-sms-sender.js';
import type { SmsMessage } from '../../functions/core/ports.js';
import { fixedClock } from '../support/fixtures.js';

const CLOCK = fixedClock('2026-08-21T09:00:00+08:00');

/** The message a scan sends for certificate `n`'s first reminder. */
function message(n: number): SmsMessage {
  const number = `HX-PEST-${String(n).padStart(6, '0')}`;
  return {
    to: `+861390000${String(n % 10_000).padStart(4, '0')}`,
    body: `【兴国县行政审批局】您的农药经营许可证（编号${number}）将于2026年12月20日到期，请于2026年9月21日前办理延续。`,
    idempotencyKey: `pesticide_business_license#${number}#2026-12-20#first`,
    reminder: { type: 'pesticide_business_license', number, stage: 'first', expiresOn: '2026-12-20', renewalDeadline: '2026-09-21', segments: 1 },
  };
}

function linesOf(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((line) => line !== '');
}

function isOutboxEntry(line: string): boolean {
  try {
    return outboxEntrySchema.safeParse(JSON.parse(line)).success;
  } catch {
    return false;
  }
}

describe('Adapter: OutboxSmsSender', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'certalarm-outbox-'));
    file = join(dir, 'outbox.jsonl');
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('Method: list', () => {
    it('keeps only the latest messages in memory, however many were sent', async () => {
      // Prepare
      const outbox = new OutboxSmsSender(file, CLOCK, undefined, 3);

      // Act
      for (let n = 1; n <= 10; n += 1) await outbox.send(message(n));

      // Assess
      expect(outbox.list().map((entry) => entry.number)).toEqual(['HX-PEST-000008', 'HX-PEST-000009', 'HX-PEST-000010']);
      expect(linesOf(file)).toHaveLength(10);
    });

    it('reads older messages back from the file when asked for more than it keeps', async () => {
      // Prepare
      const outbox = new OutboxSmsSender(file, CLOCK, undefined, 2);
      for (let n = 1; n <= 10; n += 1) await outbox.send(message(n));

      // Act
      const lastFive = outbox.list(5);
      const lastThree = outbox.list(3);

      // Assess
      expect(lastFive.map((entry) => entry.number)).toEqual(['HX-PEST-000006', 'HX-PEST-000007', 'HX-PEST-000008', 'HX-PEST-000009', 'HX-PEST-000010']);
      expect(lastThree.map((entry) => entry.number)).toEqual(['HX-PEST-000008', 'HX-PEST-000009', 'HX-PEST-000010']);
    });

    it('lists the messages of an earlier run after a restart, reading a file larger than one read', async () => {
      // Prepare: about 400 bytes a line, so 1,000 lines span several 64 KiB reads and lines cross read boundaries.
      const first = new OutboxSmsSender(file, CLOCK, undefined, 10);
      for (let n = 1; n <= 1_000; n += 1) await first.send(message(n));

      // Act
      const restarted = new OutboxSmsSender(file, CLOCK, undefined, 10);

      // Assess
      expect(restarted.list(1_000).map((entry) => entry.number)).toEqual(Array.from({ length: 1_000 }, (_, i) => `HX-PEST-${String(i + 1).padStart(6, '0')}`));
      expect(restarted.list()).toHaveLength(10);
    });
  });

  describe('Method: send', () => {
    it('returns the first message for a retried key long after that message left memory', async () => {
      // Prepare
      const outbox = new OutboxSmsSender(file, CLOCK, undefined, 2);
      const receipt = await outbox.send(message(1));
      for (let n = 2; n <= 50; n += 1) await outbox.send(message(n));

      // Act
      const retried = await outbox.send(message(1));

      // Assess
      expect(retried).toEqual(receipt);
      expect(linesOf(file)).toHaveLength(50);
    });

    it('returns the first message for a retried key after a restart', async () => {
      // Prepare
      const first = new OutboxSmsSender(file, CLOCK, undefined, 2);
      const receipts = [];
      for (let n = 1; n <= 1_000; n += 1) receipts.push(await first.send(message(n)));

      // Act
      const restarted = new OutboxSmsSender(file, CLOCK, undefined, 2);
      const retried = await Promise.all([1, 500, 1_000].map((n) => restarted.send(message(n))));
      const fresh = await restarted.send(message(1_001));

      // Assess
      expect(retried).toEqual([receipts[0], receipts[499], receipts[999]]);
      expect(fresh.messageId).not.toBe(receipts[0]?.messageId);
      expect(linesOf(file)).toHaveLength(1_001);
    });

    it('starts its first line on a new line when a crash left the last one cut short, and still deduplicates', async () => {
      // Prepare
      const first = new OutboxSmsSender(file, CLOCK);
      const receipt = await first.send(message(1));
      appendFileSync(file, '{"messageId":"local-cut-short","idempotencyKey":"pesti');

      // Act
      const restarted = new OutboxSmsSender(file, CLOCK);
      const sent = await restarted.send(message(2));
      const again = new OutboxSmsSender(file, CLOCK);
      const retried = await Promise.all([again.send(message(1)), again.send(message(2))]);

      // Assess
      expect(linesOf(file).map(isOutboxEntry)).toEqual([true, false, true]);
      expect(retried).toEqual([receipt, sent]);
      expect(again.list().map((entry) => entry.number)).toEqual(['HX-PEST-000001', 'HX-PEST-000002']);
    });

    it('deduplicates without a file, in memory (tests)', async () => {
      // Prepare
      const outbox = new OutboxSmsSender(undefined, CLOCK, undefined, 1);
      const receipt = await outbox.send(message(1));
      await outbox.send(message(2));

      // Act
      const retried = await outbox.send(message(1));

      // Assess
      expect(retried).toEqual(receipt);
      expect(outbox.list().map((entry) => entry.number)).toEqual(['HX-PEST-000002']);
    });
  });
});
