import { appendFileSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { DeliveryReceipt } from '../../core/delivery-status.js';
import type { Clock, ReceiptSink, SmsMessage, SmsReceipt, SmsSender } from '../../core/ports.js';
import { djb2, fnv1a } from '../../core/row-key-set.js';
import { sandboxOutcome } from './sandbox-numbers.js';

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
  /** Present on a campaign's SMS: which visit, and which kind (notice, reminder, moved-1, cancelled …). */
  campaign: z.object({ campaignId: z.string(), visitId: z.string(), kind: z.string() }).optional(),
});
export type OutboxEntry = z.infer<typeof outboxEntrySchema>;

/** Where the outbox's simulated receipts go, and how long after a send (on the service clock) each arrives. */
export interface SandboxReceipts {
  deliver: ReceiptSink;
  delayMs: number;
}

/** A receipt whose send is not recorded yet is offered again this often, this many times. */
const RECEIPT_RETRY_MS = 1_000;
const RECEIPT_ATTEMPTS = 10;

/** How many of the latest messages the outbox keeps in memory for GET /v1/outbox. */
export const OUTBOX_KEPT_IN_MEMORY = 1_000;
/** Most messages one listing may read back from the file. */
export const OUTBOX_MAX_LISTED = 100_000;

/**
 * The local twin of SNS: each SMS is printed, appended as a JSON line to a file, and listed at GET /v1/outbox.
 * It honours the idempotency key, so a retried send after a crash returns the first receipt instead of a second message.
 *
 * Memory stays flat however many messages a service sends (a bulk import of old records makes tens of
 * thousands of catch-up reminders due at once): only the latest `keep` messages are held, and the
 * idempotency check uses a compact index from each key's fingerprint to the byte offset of its line in
 * the file. The line is read back to confirm the key, so a fingerprint collision can never swallow a
 * new message; the file, not memory, is the record of what was sent.
 */
export class OutboxSmsSender implements SmsSender {
  private readonly recent: OutboxEntry[] = [];
  /** Without a file there is nothing to read back, so the keys themselves are kept (tests). */
  private readonly sentWithoutFile = new Map<string, string>();
  private readonly index = new OffsetIndex();
  /** Where the next line starts: the file's length. */
  private end = 0;
  /** A previous run died in the middle of a line: the next line must start on its own. */
  private partialLine = false;
  /** Simulated receipts not yet handed on, with when each is due (service-clock ms). */
  private readonly receipts: Array<{ receipt: DeliveryReceipt; dueMs: number; attempts: number }> = [];
  private flushing: Promise<number> | undefined;

  constructor(
    private readonly file: string | undefined,
    private readonly clock: Clock,
    private readonly print: (entry: OutboxEntry) => void = () => {},
    private readonly keep = OUTBOX_KEPT_IN_MEMORY,
    private readonly sandbox?: SandboxReceipts,
  ) {
    if (file !== undefined && existsSync(file)) {
      const { end, partialLine } = readLines(file, 0, (entry, offset) => {
        this.index.add(entry.idempotencyKey, offset);
        this.remember(entry);
      });
      this.end = end;
      this.partialLine = partialLine;
    }
  }

  async send(message: SmsMessage): Promise<SmsReceipt> {
    const earlier = this.sentBefore(message.idempotencyKey);
    if (earlier !== undefined) return { messageId: earlier };
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
      ...(message.campaign !== undefined ? { campaign: message.campaign } : {}),
    };
    if (this.file === undefined) {
      this.sentWithoutFile.set(entry.idempotencyKey, entry.messageId);
    } else {
      mkdirSync(dirname(this.file), { recursive: true });
      const line = Buffer.from(`${this.partialLine ? '\n' : ''}${JSON.stringify(entry)}\n`);
      appendFileSync(this.file, line);
      this.index.add(entry.idempotencyKey, this.end + (this.partialLine ? 1 : 0));
      this.end += line.length;
      this.partialLine = false;
    }
    this.remember(entry);
    this.print(entry);
    this.simulateReceipt(entry);
    return { messageId: entry.messageId };
  }

  /** The sandbox's answer for this number, due `delayMs` after the send (none for a never-confirmed number). */
  private simulateReceipt(entry: OutboxEntry): void {
    if (this.sandbox === undefined) return;
    const outcome = sandboxOutcome(entry.to);
    if (outcome.status === 'unconfirmed') return;
    // Due on the service clock (a person waits a few seconds), even for a scan run "as of" another day;
    // the receipt itself is dated from the send.
    const dueMs = this.clock.now().toMillis() + this.sandbox.delayMs;
    const receipt: DeliveryReceipt = {
      messageId: entry.messageId,
      status: outcome.status,
      ...(outcome.status === 'failed' ? { reason: outcome.reason } : {}),
      at: new Date(Date.parse(entry.sentAt) + this.sandbox.delayMs).toISOString(),
    };
    this.receipts.push({ receipt, dueMs, attempts: 0 });
  }

  /** Receipts still to hand on (tests wait for none). */
  get pendingReceipts(): number {
    return this.receipts.length;
  }

  /**
   * Hands on every receipt that is due on the service clock, one flush at a time; returns how many were
   * taken. A receipt that outran its send's record (`pending`, `unknown`) is offered again a second
   * later, up to ten times. The local service calls this every second; tests call it directly.
   */
  flushReceipts(): Promise<number> {
    this.flushing ??= this.flushDue().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushDue(): Promise<number> {
    const sandbox = this.sandbox;
    if (sandbox === undefined) return 0;
    const nowMs = this.clock.now().toMillis();
    const due = this.receipts.filter((r) => r.dueMs <= nowMs);
    if (due.length === 0) return 0;
    this.receipts.splice(0, this.receipts.length, ...this.receipts.filter((r) => r.dueMs > nowMs));
    let taken = 0;
    for (const item of due) {
      const outcome = await sandbox.deliver(item.receipt);
      if ((outcome === 'pending' || outcome === 'unknown') && item.attempts + 1 < RECEIPT_ATTEMPTS) {
        this.receipts.push({ ...item, dueMs: nowMs + RECEIPT_RETRY_MS, attempts: item.attempts + 1 });
      } else {
        taken += 1;
      }
    }
    return taken;
  }

  /**
   * The latest messages, oldest first: those held in memory, or the last `last` of them; more than
   * are held are read back from the file (at most OUTBOX_MAX_LISTED).
   */
  list(last?: number): OutboxEntry[] {
    const wanted = Math.min(last ?? this.keep, OUTBOX_MAX_LISTED);
    if (wanted <= 0) return [];
    if (wanted <= this.recent.length || this.file === undefined || !existsSync(this.file)) return this.recent.slice(-wanted);
    // A ring of the last `wanted` lines: the file is read once, front to back, and never held whole.
    const ring: OutboxEntry[] = [];
    let seen = 0;
    readLines(this.file, 0, (entry) => {
      ring[seen % wanted] = entry;
      seen += 1;
    });
    const oldest = seen > wanted ? seen % wanted : 0;
    return [...ring.slice(oldest), ...ring.slice(0, oldest)];
  }

  private sentBefore(key: string): string | undefined {
    if (this.file === undefined) return this.sentWithoutFile.get(key);
    for (const offset of this.index.candidates(key)) {
      const entry = readEntryAt(this.file, offset);
      if (entry?.idempotencyKey === key) return entry.messageId;
    }
    return undefined;
  }

  private remember(entry: OutboxEntry): void {
    this.recent.push(entry);
    // Trimmed in batches: one splice per `keep` messages instead of a shift per message.
    if (this.recent.length >= this.keep * 2) this.recent.splice(0, this.recent.length - this.keep);
  }
}

const CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/**
 * Calls `onEntry` with each valid line of the JSONL file from `start` and the byte offset it begins at,
 * reading 64 KiB at a time so that a large outbox is never held whole. Lines that are not outbox
 * entries (a line cut short by a crash) are skipped.
 */
function readLines(file: string, start: number, onEntry: (entry: OutboxEntry, offset: number) => void): { end: number; partialLine: boolean } {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const chunk = Buffer.alloc(CHUNK_BYTES);
    let carry: Buffer = Buffer.alloc(0);
    let carryOffset = start;
    for (let position = start; position < size; ) {
      const read = readSync(fd, chunk, 0, Math.min(CHUNK_BYTES, size - position), position);
      if (read === 0) break;
      position += read;
      const data = carry.length === 0 ? chunk.subarray(0, read) : Buffer.concat([carry, chunk.subarray(0, read)]);
      let lineStart = 0;
      for (let newline = data.indexOf(NEWLINE); newline !== -1; newline = data.indexOf(NEWLINE, lineStart)) {
        const entry = parseLine(data.subarray(lineStart, newline));
        if (entry !== undefined) onEntry(entry, carryOffset + lineStart);
        lineStart = newline + 1;
      }
      carry = Buffer.from(data.subarray(lineStart));
      carryOffset += lineStart;
    }
    const last = parseLine(carry);
    if (last !== undefined) onEntry(last, carryOffset);
    return { end: size, partialLine: carry.length > 0 };
  } finally {
    closeSync(fd);
  }
}

/** The entry on the line that starts at `offset`, read back to confirm an index hit. */
function readEntryAt(file: string, offset: number): OutboxEntry | undefined {
  const fd = openSync(file, 'r');
  try {
    let line = Buffer.alloc(0);
    const chunk = Buffer.alloc(4096);
    for (let position = offset; ; ) {
      const read = readSync(fd, chunk, 0, chunk.length, position);
      if (read === 0) break;
      const newline = chunk.subarray(0, read).indexOf(NEWLINE);
      line = Buffer.concat([line, chunk.subarray(0, newline === -1 ? read : newline)]);
      if (newline !== -1) break;
      position += read;
    }
    return parseLine(line);
  } finally {
    closeSync(fd);
  }
}

function parseLine(bytes: Buffer): OutboxEntry | undefined {
  const text = bytes.toString('utf8').trim();
  if (text === '') return undefined;
  try {
    const parsed = outboxEntrySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Idempotency key → byte offsets of the lines that may hold it, in flat typed arrays: each key is a
 * 64-bit fingerprint (two independent 32-bit hashes) and an offset, 16 bytes a slot at most half full,
 * instead of a Map of whole entries. Several keys may share a fingerprint; the caller checks each line.
 */
class OffsetIndex {
  private hashA = new Uint32Array(1024);
  private hashB = new Uint32Array(1024);
  /** Offset + 1 (0: an empty slot); a double holds any file size exactly. */
  private offsets = new Float64Array(1024);
  private size = 0;

  add(key: string, offset: number): void {
    if ((this.size + 1) * 2 > this.offsets.length) this.grow();
    this.place(fnv1a(key), djb2(key), offset + 1);
    this.size += 1;
  }

  *candidates(key: string): Generator<number> {
    const a = fnv1a(key);
    const b = djb2(key);
    const mask = this.offsets.length - 1;
    for (let slot = this.start(a, b); (this.offsets[slot] ?? 0) !== 0; slot = (slot + 1) & mask) {
      if (this.hashA[slot] === a && this.hashB[slot] === b) yield (this.offsets[slot] ?? 1) - 1;
    }
  }

  private start(a: number, b: number): number {
    return (a ^ Math.imul(b, 0x9e3779b1)) & (this.offsets.length - 1);
  }

  private place(a: number, b: number, storedOffset: number): void {
    const mask = this.offsets.length - 1;
    let slot = this.start(a, b);
    while ((this.offsets[slot] ?? 0) !== 0) slot = (slot + 1) & mask;
    this.hashA[slot] = a;
    this.hashB[slot] = b;
    this.offsets[slot] = storedOffset;
  }

  private grow(): void {
    const [oldA, oldB, oldOffsets] = [this.hashA, this.hashB, this.offsets];
    const capacity = oldOffsets.length * 2;
    this.hashA = new Uint32Array(capacity);
    this.hashB = new Uint32Array(capacity);
    this.offsets = new Float64Array(capacity);
    for (let i = 0; i < oldOffsets.length; i += 1) {
      const stored = oldOffsets[i] ?? 0;
      if (stored !== 0) this.place(oldA[i] ?? 0, oldB[i] ?? 0, stored);
    }
  }
}
