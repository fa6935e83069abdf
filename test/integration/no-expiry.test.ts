import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../functions/core/access.js';
import { CursorSeal } from '../../functions/app/cursors.js';
import { createHttpApp, type HttpApp } from '../../functions/app/http/app.js';
import { sendDueReminders } from '../../functions/app/send-due-reminders.js';
import type { DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { at, freshStore, record, RecordingSender, scanDeps } from '../support/fixtures.js';

const UPLOADED = at('2026-08-01T10:00:00+08:00');

const CALLERS: Record<string, Principal> = {
  operator: { role: 'operator', subject: 'token:operator' },
};

/** A tractor registration as a bureau's register exports it: no expiry, because it has none. */
function registration(serial: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { expiresOn: _none, ...rest } = record(serial, { type: '拖拉机和联合收割机登记证书', number: `NJ-DJ-${serial}`, holder: { name: `演示农机户${serial}` } });
  return { ...rest, ...overrides };
}

let store: DynamoDbStore;
let app: HttpApp;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function call(method: string, path: string, options: { query?: Record<string, string>; body?: unknown } = {}): Promise<Answer> {
  const response = await app({
    method,
    path,
    query: options.query ?? {},
    headers: { authorization: 'operator', 'content-type': 'application/json' },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  return { status: response.status, body: JSON.parse(response.body) as Record<string, unknown> };
}

async function listedNumbers(query: Record<string, string>): Promise<string[]> {
  const answer = await call('GET', '/v1/certificates', { query });
  expect(answer.status).toBe(200);
  return (answer.body.items as Array<{ number: string }>).map((c) => c.number).sort();
}

beforeAll(async () => {
  store = await freshStore('no-expiry');
  const key = randomBytes(32);
  app = createHttpApp({
    ...scanDeps(store, new RecordingSender()),
    clock: { now: () => UPLOADED },
    authenticate: async (req) => CALLERS[req.headers.authorization ?? ''],
    cursors: new CursorSeal(async () => key, 3600),
  });
  const seeded = await call('POST', '/v1/certificates', {
    body: [record(1, { type: 'farm_machine_operator_license', number: 'NJ-JS-1', expiresOn: '2026-09-30' }), registration(2), registration(3, { expiresOn: null })],
  });
  if (seeded.body.accepted !== 3) throw new Error(`fixture upload failed: ${JSON.stringify(seeded.body)}`);
});

describe('Certificates of a type without an expiry', () => {
  it('are accepted without an expiry and created once; the same upload again changes nothing', async () => {
    // Act
    const again = await call('POST', '/v1/certificates', { body: [registration(2), registration(3, { expiresOn: '' })] });

    // Assess
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ accepted: 2, created: 0, updated: 0, renewed: 0, unchanged: 2, rejected: [] });
  });

  it('are updated in place when a detail other than the expiry changes', async () => {
    // Act
    const changed = await call('POST', '/v1/certificates', { body: [registration(3, { phone: '13900009999' })] });
    const read = await call('GET', '/v1/certificates/farm_machine_registration/NJ-DJ-3');

    // Assess
    expect(changed.body).toMatchObject({ accepted: 1, updated: 1, renewed: 0 });
    expect(read.body).toMatchObject({ phone: '+8613900009999', expiresOn: null });
  });

  it('are refused, on expiresOn, when the upload gives an expiry, and stored no differently', async () => {
    // Act
    const refused = await call('POST', '/v1/certificates', { body: [registration(2, { expiresOn: '2030-01-01' })] });
    const read = await call('GET', '/v1/certificates/farm_machine_registration/NJ-DJ-2');

    // Assess
    expect(refused.body).toMatchObject({ accepted: 0, rejected: [{ index: 0, field: 'expiresOn', reason: expect.stringContaining('没有有效期') }] });
    expect(read.body.expiresOn).toBeNull();
  });

  it('are read back with no expiry, no renewal deadline and no window', async () => {
    // Act
    const read = await call('GET', '/v1/certificates/拖拉机和联合收割机登记证书/NJ-DJ-2');

    // Assess
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ type: 'farm_machine_registration', number: 'NJ-DJ-2', expiresOn: null, renewalDeadline: null, windowOpens: null });
  });

  it('answer their plan with no reminders and no stages, saying why', async () => {
    // Act
    const plan = await call('GET', '/v1/certificates/farm_machine_registration/NJ-DJ-2/plan');
    const dated = await call('GET', '/v1/certificates/farm_machine_operator_license/NJ-JS-1/plan');

    // Assess
    expect(plan.status).toBe(200);
    expect(plan.body).toEqual({
      reminders: false,
      renewalDeadline: null,
      windowOpens: null,
      calendarProvisional: false,
      stages: [],
      note: expect.stringMatching(/没有有效期.* \/ .*no expiry/),
    });
    expect(dated.body).toMatchObject({ reminders: true, renewalDeadline: expect.any(String) });
    expect(dated.body).not.toHaveProperty('note');
  });

  it('are listed by township and by type, and never by a listing of what expires before a date', async () => {
    // Act & Assess: the latest date an upload may carry still leaves them out.
    expect(await listedNumbers({ township: '潋江镇' })).toEqual(['NJ-DJ-2', 'NJ-DJ-3', 'NJ-JS-1']);
    expect(await listedNumbers({ township: '潋江镇', expiringBefore: '2199-12-31' })).toEqual(['NJ-JS-1']);
    expect(await listedNumbers({ type: 'farm_machine_registration' })).toEqual(['NJ-DJ-2', 'NJ-DJ-3']);
    expect(await listedNumbers({ type: 'farm_machine_registration', expiringBefore: '2199-12-31' })).toEqual([]);
    expect(await listedNumbers({})).toEqual(['NJ-DJ-2', 'NJ-DJ-3', 'NJ-JS-1']);
    expect(await listedNumbers({ expiringBefore: '2199-12-31' })).toEqual(['NJ-JS-1']);
  });

  it('page by township after the certificates that have an expiry', async () => {
    // Act
    const first = await call('GET', '/v1/certificates', { query: { township: '潋江镇', limit: '1' } });
    const second = await call('GET', '/v1/certificates', { query: { township: '潋江镇', limit: '5', cursor: String(first.body.nextCursor) } });

    // Assess
    expect((first.body.items as Array<{ number: string }>).map((c) => c.number)).toEqual(['NJ-JS-1']);
    expect((second.body.items as Array<{ number: string }>).map((c) => c.number)).toEqual(['NJ-DJ-2', 'NJ-DJ-3']);
  });

  it('are never found due, so no scan sends for them, while the dated licence beside them is reminded', async () => {
    // Prepare
    const sms = new RecordingSender();
    const deps = scanDeps(store, sms);
    const due: string[] = [];

    // Act: scans through the licence's whole reminder life, and far beyond it.
    for (const instant of ['2026-08-03T10:00:00+08:00', '2026-09-23T10:00:00+08:00', '2026-10-08T10:00:00+08:00', '2030-01-02T10:00:00+08:00']) {
      await sendDueReminders(deps, at(instant));
      for await (const key of store.dueCertificates(at(instant))) due.push(key.number);
    }

    // Assess
    expect(sms.sent.length).toBeGreaterThan(0);
    expect(new Set(sms.sent.map((m) => m.reminder?.number))).toEqual(new Set(['NJ-JS-1']));
    expect(due.filter((n) => n.startsWith('NJ-DJ'))).toEqual([]);
  });

  it('leave every other type still needing its expiry', async () => {
    // Act
    const refused = await call('POST', '/v1/certificates', { body: [registration(4, { type: 'pesticide_business_license' })] });

    // Assess
    expect(refused.body).toMatchObject({ accepted: 0, rejected: [{ index: 0, field: 'expiresOn', reason: expect.stringContaining('缺少到期日期') }] });
  });
});
