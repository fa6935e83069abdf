import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { OutboxSmsSender } from '../../functions/adapters/local/outbox-sms-sender.js';
import { SANDBOX_FAILURE_REASONS, sandboxOutcome } from '../../functions/adapters/local/sandbox-numbers.js';
import { recordDeliveryReceipt } from '../../functions/app/deliveries/record-receipt.js';
import { sandboxReceiptDelayFromEnvironment } from '../../functions/app/settings.js';
import { finalReminderStage, receiptTransition, type DeliveryReceipt, type LedgerStatus } from '../../functions/core/delivery-status.js';
import { ZONE } from '../../functions/core/model.js';
import type { Clock, DeliveryReceipts, DeliveryRef, Logger, ReceiptOutcome, SmsMessage } from '../../functions/core/ports.js';

function message(phone: string, n = 1): SmsMessage {
  return { to: phone, body: `【兴国县行政审批局】测试${n}`, idempotencyKey: `key-${phone}-${n}`, at: '2026-09-14T09:00:00.000+08:00' };
}

/** A clock the test moves by hand. */
function movableClock(iso: string): Clock & { advance(ms: number): void } {
  let now = DateTime.fromISO(iso, { setZone: true }).setZone(ZONE);
  return { now: () => now, advance: (ms) => (now = now.plus({ milliseconds: ms })) };
}

/** A ledger of one delivery item in memory, to drive the receipt use case. */
class OneDelivery implements DeliveryReceipts {
  applied: DeliveryReceipt[] = [];
  constructor(
    public status: LedgerStatus,
    public messageId: string | undefined,
    private readonly pointer: Record<string, DeliveryRef> = { m1: { pk: 'CERT#t#1', sk: 'DELIVERY#2026-12-20#final' } },
  ) {}
  async findByMessageId(id: string) {
    return this.pointer[id];
  }
  async deliveryState() {
    return { status: this.status, messageId: this.messageId };
  }
  async applyReceipt(_ref: DeliveryRef, receipt: DeliveryReceipt) {
    if (this.status !== 'sent' || this.messageId !== receipt.messageId) return false;
    this.status = receipt.status;
    this.applied.push(receipt);
    return true;
  }
}

function capturingLogger(): Logger & { lines: Array<{ obj: object; msg?: string | undefined }> } {
  const lines: Array<{ obj: object; msg?: string | undefined }> = [];
  const push = (obj: object, msg?: string) => lines.push({ obj, msg });
  return { lines, debug: push, info: push, warn: push, error: push };
}

const DELIVERED: DeliveryReceipt = { messageId: 'm1', status: 'delivered', at: '2026-09-14T01:00:03.000Z' };
const FAILED: DeliveryReceipt = { messageId: 'm1', status: 'failed', reason: '空号 / number does not exist', at: '2026-09-14T01:00:03.000Z' };

describe('Function: receiptTransition', () => {
  it.each([
    ['sent', 'delivered', 'apply'],
    ['sent', 'failed', 'apply'],
    ['delivered', 'delivered', 'same'],
    ['failed', 'failed', 'same'],
    ['delivered', 'failed', 'ignore'],
    ['failed', 'delivered', 'ignore'],
    ['suppressed', 'delivered', 'ignore'],
    ['deferred', 'failed', 'ignore'],
    ['claimed', 'delivered', 'pending'],
  ] as const)('moves a %s delivery on a %s receipt: %s', (current, receipt, expected) => {
    // Act
    const step = receiptTransition(current, receipt);

    // Assess
    expect(step).toBe(expected);
  });
});

describe('Function: finalReminderStage', () => {
  it('is the last stage on or before expiry, not the notice after it', () => {
    // Prepare
    const stages = [
      { stage: 'first', date: '2026-08-21' },
      { stage: 'final', date: '2026-09-14' },
      { stage: 'expired', date: '2026-12-21' },
    ];

    // Act
    const final = finalReminderStage(stages, '2026-12-20');

    // Assess
    expect(final).toBe('final');
  });

  it('is the last stage when every stage lies after expiry', () => {
    // Act
    const final = finalReminderStage([{ stage: 'late', date: '2027-01-05' }], '2026-12-20');

    // Assess
    expect(final).toBe('late');
  });
});

describe('Function: sandboxOutcome (local test numbers)', () => {
  it.each(Array.from({ length: 10 }, (_, i) => i))('fails 1390000090%i with a named reason', (digit) => {
    // Act
    const outcome = sandboxOutcome(`+861390000090${digit}`);

    // Assess
    expect(outcome).toEqual({ status: 'failed', reason: SANDBOX_FAILURE_REASONS[digit] });
    expect(SANDBOX_FAILURE_REASONS[digit]).toMatch(/^.+ \/ .+$/);
  });

  it('names 空号 for 13900000900', () => {
    // Act
    const outcome = sandboxOutcome('+8613900000900');

    // Assess
    expect(outcome).toEqual({ status: 'failed', reason: '空号 / number does not exist' });
  });

  it.each(['+8613900000910', '+8613900000915', '+8613900000919'])('never confirms %s', (phone) => {
    // Act
    const outcome = sandboxOutcome(phone);

    // Assess
    expect(outcome).toEqual({ status: 'unconfirmed' });
  });

  it.each(['+8613900000899', '+8613900000920', '+8613900000001', '+8613812345678'])('delivers %s', (phone) => {
    // Act
    const outcome = sandboxOutcome(phone);

    // Assess
    expect(outcome).toEqual({ status: 'delivered' });
  });
});

describe('Adapter: OutboxSmsSender (sandbox receipts)', () => {
  it('hands a delivered receipt on once its delay has passed on the service clock, not before', async () => {
    // Prepare
    const clock = movableClock('2026-09-14T09:00:00+08:00');
    const receipts: DeliveryReceipt[] = [];
    const outbox = new OutboxSmsSender(undefined, clock, undefined, undefined, { delayMs: 3000, deliver: async (r) => (receipts.push(r), 'recorded') });
    const { messageId } = await outbox.send(message('+8613900000001'));

    // Act
    const early = await outbox.flushReceipts();
    clock.advance(3000);
    const due = await outbox.flushReceipts();

    // Assess
    expect(early).toBe(0);
    expect(due).toBe(1);
    expect(receipts).toEqual([{ messageId, status: 'delivered', at: '2026-09-14T01:00:03.000Z' }]);
  });

  it('fails a sandbox failure number with its reason and never confirms an unconfirmed one', async () => {
    // Prepare
    const clock = movableClock('2026-09-14T09:00:00+08:00');
    const receipts: DeliveryReceipt[] = [];
    const outbox = new OutboxSmsSender(undefined, clock, undefined, undefined, { delayMs: 0, deliver: async (r) => (receipts.push(r), 'recorded') });
    const failed = await outbox.send(message('+8613900000903'));
    await outbox.send(message('+8613900000910'));

    // Act
    clock.advance(60 * 60 * 1000);
    await outbox.flushReceipts();

    // Assess
    expect(receipts).toEqual([{ messageId: failed.messageId, status: 'failed', reason: '用户拒收 / the recipient blocks messages from this sender', at: '2026-09-14T01:00:00.000Z' }]);
    expect(outbox.pendingReceipts).toBe(0);
  });

  it('offers a receipt again when it outran the record of its send, and sends no second receipt for a repeated send', async () => {
    // Prepare
    const clock = movableClock('2026-09-14T09:00:00+08:00');
    const answers: ReceiptOutcome[] = ['pending', 'recorded'];
    let offered = 0;
    const outbox = new OutboxSmsSender(undefined, clock, undefined, undefined, { delayMs: 0, deliver: async () => answers[offered++] ?? 'unchanged' });
    await outbox.send(message('+8613900000001'));
    await outbox.send(message('+8613900000001'));

    // Act
    await outbox.flushReceipts();
    const waiting = outbox.pendingReceipts;
    clock.advance(1000);
    await outbox.flushReceipts();

    // Assess
    expect(waiting).toBe(1);
    expect(offered).toBe(2);
    expect(outbox.pendingReceipts).toBe(0);
  });
});

describe('Use case: recordDeliveryReceipt', () => {
  it('moves a sent delivery to delivered', async () => {
    // Prepare
    const delivery = new OneDelivery('sent', 'm1');

    // Act
    const outcome = await recordDeliveryReceipt({ receipts: delivery, logger: capturingLogger() }, DELIVERED);

    // Assess
    expect(outcome).toBe('recorded');
    expect(delivery.status).toBe('delivered');
  });

  it('is idempotent: the same receipt twice records it once', async () => {
    // Prepare
    const delivery = new OneDelivery('sent', 'm1');
    const deps = { receipts: delivery, logger: capturingLogger() };

    // Act
    const first = await recordDeliveryReceipt(deps, FAILED);
    const second = await recordDeliveryReceipt(deps, FAILED);

    // Assess
    expect([first, second]).toEqual(['recorded', 'unchanged']);
    expect(delivery.applied).toHaveLength(1);
  });

  it.each([
    ['delivered', FAILED],
    ['failed', DELIVERED],
  ] as const)('never moves a %s delivery back', async (status, receipt) => {
    // Prepare
    const delivery = new OneDelivery(status, 'm1');

    // Act
    const outcome = await recordDeliveryReceipt({ receipts: delivery, logger: capturingLogger() }, receipt);

    // Assess
    expect(outcome).toBe('ignored');
    expect(delivery.status).toBe(status);
  });

  it('says pending when the receipt outran the record of its send', async () => {
    // Prepare
    const delivery = new OneDelivery('claimed', undefined);

    // Act
    const outcome = await recordDeliveryReceipt({ receipts: delivery, logger: capturingLogger() }, DELIVERED);

    // Assess
    expect(outcome).toBe('pending');
    expect(delivery.status).toBe('claimed');
  });

  it('ignores a receipt for a message the delivery does not record (a send whose claim was taken over)', async () => {
    // Prepare
    const delivery = new OneDelivery('sent', 'm2');

    // Act
    const outcome = await recordDeliveryReceipt({ receipts: delivery, logger: capturingLogger() }, DELIVERED);

    // Assess
    expect(outcome).toBe('ignored');
    expect(delivery.status).toBe('sent');
  });

  it('ignores an unknown message id with one log line that carries a shortened id and no phone', async () => {
    // Prepare
    const logger = capturingLogger();
    const delivery = new OneDelivery('sent', 'm1');
    const receipt = { ...DELIVERED, messageId: '1077257a-92f3-5ca3-bc97-6a915b310625' };

    // Act
    const outcome = await recordDeliveryReceipt({ receipts: delivery, logger }, receipt);

    // Assess
    expect(outcome).toBe('unknown');
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]?.obj).toEqual({ messageId: '1077257a-92f…', status: 'delivered' });
  });
});

describe('Function: sandboxReceiptDelayFromEnvironment', () => {
  it('defaults to 3000 ms and takes CERTALARM_SANDBOX_RECEIPT_MS, 0 included', () => {
    // Act & Assess
    expect(sandboxReceiptDelayFromEnvironment({})).toBe(3000);
    expect(sandboxReceiptDelayFromEnvironment({ CERTALARM_SANDBOX_RECEIPT_MS: '0' })).toBe(0);
    expect(sandboxReceiptDelayFromEnvironment({ CERTALARM_SANDBOX_RECEIPT_MS: '250' })).toBe(250);
  });

  it('refuses a value that is not whole milliseconds, naming the variable', () => {
    // Act
    const read = () => sandboxReceiptDelayFromEnvironment({ CERTALARM_SANDBOX_RECEIPT_MS: '2.5s' });

    // Assess
    expect(read).toThrow(/CERTALARM_SANDBOX_RECEIPT_MS/);
  });
});
