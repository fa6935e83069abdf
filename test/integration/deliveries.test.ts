import { randomBytes } from 'node:crypto';
import type { DateTime } from 'luxon';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDeliveries } from '../../functions/adapters/aws/dynamodb/dynamodb-deliveries.js';
import type { DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { OutboxSmsSender } from '../../functions/adapters/local/outbox-sms-sender.js';
import { CursorSeal } from '../../functions/app/cursors.js';
import { HmacPhoneHasher } from '../../functions/app/deliveries/phone-hash.js';
import { deliveriesNeedingAttention } from '../../functions/app/deliveries/list-deliveries.js';
import { recordDeliveryReceipt } from '../../functions/app/deliveries/record-receipt.js';
import { PermanentSendError } from '../../functions/core/errors.js';
import { createHttpApp, type HttpApp } from '../../functions/app/http/app.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { sendDueReminders } from '../../functions/app/send-due-reminders.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import type { Principal } from '../../functions/core/access.js';
import type { Logger } from '../../functions/core/ports.js';
import { dynamoTestClient } from '../support/dynamo.js';
import { at, freshStore, record, RecordingSender, scanDeps } from '../support/fixtures.js';

// Pesticide licences (agriculture_rural) expiring 2026-12-20: first 2026-08-21 09:00, final 2026-09-14 09:00.
// One hazardous-chemicals licence (emergency_management) for the bureau scope.
const UPLOADED = at('2026-08-01T10:00:00+08:00');
const FIRST_DUE = at('2026-08-21T09:00:00+08:00');
const FINAL_DUE = at('2026-09-14T09:00:00+08:00');
const HAZARDOUS = 'hazardous_chemicals_business_license';

const CALLERS: Record<string, Principal> = {
  operator: { role: 'operator', subject: 'token:operator' },
  agriculture: { role: 'bureau', authority: 'agriculture_rural', subject: 'token:agri' },
  viewer: { role: 'viewer', subject: 'token:viewer' },
};

interface DeliveryItem {
  source: string;
  type?: string;
  number?: string;
  kind: string;
  to: string | null;
  status: string;
  reason?: string;
  body: string | null;
  messageId: string | null;
  sentAt: string;
  final: boolean;
  why?: string;
}

let store: DynamoDbStore;
let deliveries: DynamoDbDeliveries;
let app: HttpApp;
let now: DateTime = FINAL_DUE;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

async function get(caller: string, path: string, query: Record<string, string> = {}): Promise<{ status: number; body: { items: DeliveryItem[]; nextCursor?: string; error?: { code: string; message: string } } }> {
  const response = await app({ method: 'GET', path, query, headers: { authorization: caller } });
  return { status: response.status, body: JSON.parse(response.body) as never };
}

beforeAll(async () => {
  store = await freshStore('deliveries');
  deliveries = new DynamoDbDeliveries(dynamoTestClient(), store.tableName);
  const records = [
    record(1),
    record(2),
    record(900),
    record(910),
    record(3, { type: HAZARDOUS, number: 'WH-2026-0003', expiresOn: '2026-12-20' }),
  ];
  const reference = loadReferenceData();
  const upload = await uploadCertificates({ store, reference, settings: scanDeps(store, new RecordingSender()).settings }, records, UPLOADED);
  if (upload.rejected.length > 0) throw new Error(`fixture upload failed: ${JSON.stringify(upload.rejected)}`);
  let clockNow = FIRST_DUE;
  const outbox = new OutboxSmsSender(undefined, { now: () => clockNow }, undefined, undefined, {
    delayMs: 0,
    deliver: (receipt) => recordDeliveryReceipt({ receipts: deliveries, logger }, receipt),
  });
  const phoneHasher = new HmacPhoneHasher(async () => randomBytes(32));
  for (const scanAt of [FIRST_DUE, FINAL_DUE]) {
    clockNow = scanAt;
    await sendDueReminders(scanDeps(store, outbox, { phoneHasher, logger }), scanAt);
    await outbox.flushReceipts();
  }
  const key = randomBytes(32);
  app = createHttpApp({
    ...scanDeps(store, outbox, { phoneHasher, logger }),
    clock: { now: () => now },
    authenticate: async (req) => CALLERS[req.headers.authorization ?? ''],
    cursors: new CursorSeal(async () => key, 3600),
    deliveries,
  });
});

describe('Route: GET /v1/deliveries', () => {
  it('lists a reminder as delivered once its receipt came: masked phone, stage, text and message id, newest first', async () => {
    // Act
    const { status, body } = await get('operator', '/v1/deliveries', { number: 'TEST-000001' });

    // Assess
    expect(status).toBe(200);
    expect(body.items.map((d) => [d.kind, d.status, d.final])).toEqual([
      ['final', 'delivered', true],
      ['first', 'delivered', false],
    ]);
    const [final] = body.items;
    expect(final).toMatchObject({ source: 'reminder', type: 'pesticide_business_license', number: 'TEST-000001', to: '+86139****0001', sentAt: FINAL_DUE.toISO() });
    expect(final?.body).toContain('TEST-000001');
    expect(final?.messageId).toMatch(/^local-/);
  });

  it('lists a sandbox failure number as failed with the named reason', async () => {
    // Act
    const { body } = await get('operator', '/v1/deliveries', { status: 'failed' });

    // Assess
    expect(body.items.map((d) => [d.number, d.kind, d.reason])).toEqual([
      ['TEST-000900', 'final', '空号 / number does not exist'],
      ['TEST-000900', 'first', '空号 / number does not exist'],
    ]);
  });

  it('leaves a never-confirmed sandbox number as sent', async () => {
    // Act
    const { body } = await get('operator', '/v1/deliveries', { status: 'sent' });

    // Assess
    expect(body.items.map((d) => d.number)).toEqual(['TEST-000910', 'TEST-000910']);
  });

  it('filters by type, and by since', async () => {
    // Act
    const hazardous = await get('operator', '/v1/deliveries', { type: HAZARDOUS });
    const sinceFinal = await get('operator', '/v1/deliveries', { since: FINAL_DUE.toISO() ?? '', type: 'pesticide_business_license' });

    // Assess
    expect(hazardous.body.items.length).toBeGreaterThan(0);
    expect(new Set(hazardous.body.items.map((d) => d.number))).toEqual(new Set(['WH-2026-0003']));
    expect(sinceFinal.body.items.map((d) => d.kind)).toEqual(['final', 'final', 'final', 'final']);
  });

  it('pages through every delivery with a sealed cursor, each once', async () => {
    // Prepare
    const all = await get('operator', '/v1/deliveries', { limit: '100' });
    const paged: DeliveryItem[] = [];
    let cursor: string | undefined;

    // Act
    do {
      const page = await get('operator', '/v1/deliveries', { limit: '3', ...(cursor !== undefined ? { cursor } : {}) });
      expect(page.status).toBe(200);
      paged.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor !== undefined);

    // Assess
    expect(all.body.items.length).toBeGreaterThanOrEqual(9);
    expect(paged.map((d) => d.messageId)).toEqual(all.body.items.map((d) => d.messageId));
  });

  it('shows a bureau only the deliveries of its own types', async () => {
    // Act
    const own = await get('agriculture', '/v1/deliveries', { limit: '100' });
    const other = await get('agriculture', '/v1/deliveries', { type: HAZARDOUS });

    // Assess
    expect(own.status).toBe(200);
    expect(own.body.items.length).toBe(8);
    expect(own.body.items.every((d) => d.type === 'pesticide_business_license')).toBe(true);
    expect(other.status).toBe(403);
  });

  it('refuses a viewer token', async () => {
    // Act
    const { status } = await get('viewer', '/v1/deliveries');

    // Assess
    expect(status).toBe(403);
  });

  it('finds deliveries by phone through the keyed hash, and no log line carries the number', async () => {
    // Prepare
    logLines.length = 0;

    // Act
    const byPhone = await get('operator', '/v1/deliveries', { phone: '139 0000 0900' });
    const bad = await get('operator', '/v1/deliveries', { phone: '12345678901' });

    // Assess
    expect(byPhone.body.items.map((d) => [d.number, d.to])).toEqual([
      ['TEST-000900', '+86139****0900'],
      ['TEST-000900', '+86139****0900'],
    ]);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).not.toContain('12345678901');
    expect(logLines.join('\n')).not.toMatch(/1[3-9]\d{9}/);
  });
});

describe('Route: GET /v1/deliveries/attention', () => {
  it('lists a failed final reminder at once, but not an unconfirmed one before 24 hours', async () => {
    // Prepare
    now = FINAL_DUE.plus({ hours: 1 });

    // Act
    const { status, body } = await get('operator', '/v1/deliveries/attention');

    // Assess
    expect(status).toBe(200);
    expect(body.items.map((d) => [d.number, d.kind, d.why, d.reason])).toEqual([['TEST-000900', 'final', 'failed', '空号 / number does not exist']]);
  });

  it('lists a final reminder still unconfirmed 24 hours after it was sent', async () => {
    // Prepare
    now = FINAL_DUE.plus({ hours: 24, minutes: 1 });

    // Act
    const { body } = await get('operator', '/v1/deliveries/attention');

    // Assess
    expect(body.items.map((d) => [d.number, d.why]).sort()).toEqual([
      ['TEST-000900', 'failed'],
      ['TEST-000910', 'unconfirmed'],
    ]);
    expect(body.items.every((d) => d.kind === 'final')).toBe(true);
  });

  it('shows a bureau only its own types', async () => {
    // Prepare
    now = FINAL_DUE.plus({ days: 2 });
    const emergency = { role: 'bureau', authority: 'emergency_management', subject: 'token:em' } as const;
    CALLERS.emergency = emergency;

    // Act
    const agriculture = await get('agriculture', '/v1/deliveries/attention');
    const other = await get('emergency', '/v1/deliveries/attention');

    // Assess
    expect(agriculture.body.items.map((d) => d.number).sort()).toEqual(['TEST-000900', 'TEST-000910']);
    expect(other.body.items).toEqual([]);
  });
});

describe('Use case: sendDueReminders with receipts', () => {
  it('finishes the plan of a reminder whose receipt came before the scan that sent it updated the plan', async () => {
    // Prepare
    const own = await freshStore('deliveries-settle');
    const ownDeliveries = new DynamoDbDeliveries(dynamoTestClient(), own.tableName);
    await uploadCertificates({ store: own, reference: loadReferenceData(), settings: scanDeps(own, new RecordingSender()).settings }, [record(5)], UPLOADED);
    const key = { type: 'pesticide_business_license', number: 'TEST-000005' };
    const id = { key, expiresOn: '2026-12-20', stage: 'first' };
    // A scan claimed and sent, then died before settling the plan; the receipt then arrived.
    await own.claim(id, 'dead-scan', FIRST_DUE.toMillis() + 1000, FIRST_DUE.toMillis());
    await own.recordSent(id, 'dead-scan', { messageId: 'sns-1', sentAt: FIRST_DUE.toISO() ?? '', to: '+8613900000005', body: '…', segments: 1, final: false });
    await recordDeliveryReceipt({ receipts: ownDeliveries, logger }, { messageId: 'sns-1', status: 'delivered', at: FIRST_DUE.toUTC().toISO() ?? '' });
    const sms = new RecordingSender();

    // Act
    const result = await sendDueReminders(scanDeps(own, sms), FIRST_DUE.plus({ minutes: 15 }));

    // Assess
    expect(result.alreadySent).toBe(1);
    expect(sms.sent).toEqual([]);
    const stored = await own.getCertificate(key);
    expect(stored?.plan.stages.find((s) => s.stage === 'first')).toMatchObject({ status: 'sent', messageId: 'sns-1' });
    expect((await own.get(id))?.status).toBe('delivered');
  });

  it('records a receipt that outran the record of its send once the send is recorded', async () => {
    // Prepare
    const own = await freshStore('deliveries-race');
    const ownDeliveries = new DynamoDbDeliveries(dynamoTestClient(), own.tableName);
    await uploadCertificates({ store: own, reference: loadReferenceData(), settings: scanDeps(own, new RecordingSender()).settings }, [record(6)], UPLOADED);
    const id = { key: { type: 'pesticide_business_license', number: 'TEST-000006' }, expiresOn: '2026-12-20', stage: 'first' };
    await own.claim(id, 'scan', FIRST_DUE.toMillis() + 60_000, FIRST_DUE.toMillis());
    const receipt = { messageId: 'sns-2', status: 'failed' as const, reason: 'Unknown error attempting to reach phone', at: FIRST_DUE.toUTC().toISO() ?? '' };

    // Act
    const early = await recordDeliveryReceipt({ receipts: ownDeliveries, logger }, receipt);
    await own.recordSent(id, 'scan', { messageId: 'sns-2', sentAt: FIRST_DUE.toISO() ?? '', to: '+8613900000006', body: '…', segments: 1, final: false });
    const late = await recordDeliveryReceipt({ receipts: ownDeliveries, logger }, receipt);

    // Assess
    expect([early, late]).toEqual(['unknown', 'recorded']);
    expect(await own.get(id)).toMatchObject({ status: 'failed', reason: 'Unknown error attempting to reach phone' });
  });
});

describe('Use case: sendDueReminders (a message refused at send)', () => {
  it('lists a final reminder the provider refused as failed with the refusal, and puts it on the attention list', async () => {
    // Prepare
    const own = await freshStore('deliveries-refused');
    const ownDeliveries = new DynamoDbDeliveries(dynamoTestClient(), own.tableName);
    await uploadCertificates({ store: own, reference: loadReferenceData(), settings: scanDeps(own, new RecordingSender()).settings }, [record(8)], UPLOADED);
    const refusing = new RecordingSender({ fail: () => new PermanentSendError('号码无效 / the provider refused the number (InvalidParameter)') });
    const phoneHasher = new HmacPhoneHasher(async () => Buffer.alloc(32, 3));

    // Act
    const result = await sendDueReminders(scanDeps(own, refusing, { phoneHasher }), FINAL_DUE);
    const failed = await ownDeliveries.listDeliveries({ statuses: ['failed'], limit: 10, phoneHash: await phoneHasher.hash('+8613900000008') });
    const attention = await deliveriesNeedingAttention({ deliveries: ownDeliveries, reference: loadReferenceData() }, CALLERS.operator!, FINAL_DUE.plus({ minutes: 5 }), { limit: 10 });

    // Assess
    expect(result.failed).toBe(1);
    expect(failed.items).toEqual([
      expect.objectContaining({ number: 'TEST-000008', kind: 'final', status: 'failed', reason: '号码无效 / the provider refused the number (InvalidParameter)', to: '+8613900000008', final: true }),
    ]);
    expect(failed.items[0]?.body).toContain('TEST-000008');
    expect(attention.items.map((d) => [d.number, d.why])).toEqual([['TEST-000008', 'failed']]);
  });
});
