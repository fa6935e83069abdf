import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../functions/core/access.js';
import type { CertificateKey, StoredCertificate } from '../../functions/core/ports.js';
import { CursorSeal } from '../../functions/app/cursors.js';
import { createHttpApp, type HttpApp } from '../../functions/app/http/app.js';
import { sendDueReminders } from '../../functions/app/send-due-reminders.js';
import { DynamoDbAuditLog } from '../../functions/adapters/aws/dynamodb/dynamodb-audit-log.js';
import { DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { dynamoTestClient, uniqueTableName } from '../support/dynamo.js';
import { at, record, RecordingSender, scanDeps } from '../support/fixtures.js';

// Pesticide business licences (issued by agriculture_rural) expiring 2026-12-20: first reminder 2026-08-21 09:00.
const UPLOADED = at('2026-08-01T10:00:00+08:00');
const REVOKED_AT = at('2026-08-10T15:00:00+08:00');
const FIRST_DUE = at('2026-08-21T09:00:00+08:00');
const PESTICIDE = 'pesticide_business_license';

const CALLERS: Record<string, Principal> = {
  operator: { role: 'operator', subject: 'token:operator' },
  agriculture: { role: 'bureau', authority: 'agriculture_rural', subject: 'token:agri' },
  market: { role: 'bureau', authority: 'market_regulation', subject: 'token:market' },
  viewer: { role: 'viewer', subject: 'token:viewer' },
};

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function world(prefix: string) {
  const client = dynamoTestClient();
  const tableName = uniqueTableName(prefix);
  await ensureTable(client, tableName);
  const store = new DynamoDbStore(client, tableName);
  const audit = new DynamoDbAuditLog(client, tableName);
  let now = UPLOADED;
  const key = randomBytes(32);
  const app: HttpApp = createHttpApp({
    ...scanDeps(store, new RecordingSender()),
    clock: { now: () => now },
    audit,
    revoker: store,
    authenticate: async (req) => CALLERS[req.headers.authorization ?? ''],
    cursors: new CursorSeal(async () => key, 3600),
  });
  const call = async (method: string, path: string, body?: unknown, caller = 'operator'): Promise<Answer> => {
    const response = await app({
      method,
      path,
      query: {},
      headers: { authorization: caller, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: JSON.parse(response.body) as Record<string, unknown> };
  };
  const setNow = (instant: typeof now) => (now = instant);
  return { store, audit, call, setNow };
}

async function seeded(prefix: string, serials: number[]) {
  const w = await world(prefix);
  const upload = await w.call('POST', '/v1/certificates', serials.map((n) => record(n)));
  expect(upload.body).toMatchObject({ accepted: serials.length });
  w.setNow(REVOKED_AT);
  return w;
}

const keyOf = (serial: number): CertificateKey => ({ type: PESTICIDE, number: `TEST-${String(serial).padStart(6, '0')}` });
const pathOf = (serial: number) => `/v1/certificates/${PESTICIDE}/TEST-${String(serial).padStart(6, '0')}`;

describe('Route: DELETE /v1/certificates/{type}/{number}', () => {
  it('keeps the record, marks it revoked, skips its pending stages and audits the revocation', async () => {
    // Prepare
    const w = await seeded('revoke-one', [1]);

    // Act
    const revoked = await w.call('DELETE', pathOf(1), { reason: '注销', comment: '持证人申请注销（兴农注〔2026〕3号）' }, 'agriculture');
    const read = await w.call('GET', pathOf(1));
    const plan = await w.call('GET', `${pathOf(1)}/plan`);
    const trail = await w.audit.list({ limit: 10, action: 'certificate' });

    // Assess
    const mark = { reason: '注销', comment: '持证人申请注销（兴农注〔2026〕3号）', at: '2026-08-10T07:00:00.000Z', by: 'token:agri' };
    expect(revoked).toEqual({ status: 200, body: { type: PESTICIDE, number: 'TEST-000001', revoked: mark } });
    expect(read.body).toMatchObject({ number: 'TEST-000001', expiresOn: '2026-12-20', revoked: mark });
    expect((plan.body.stages as Array<{ status: string; note?: string }>).map((s) => [s.status, s.note])).toEqual([
      ['skipped', 'certificate revoked'],
      ['skipped', 'certificate revoked'],
      ['skipped', 'certificate revoked'],
    ]);
    expect(trail.items).toMatchObject([
      { action: 'certificate.revoke', actor: 'token:agri', role: 'bureau', target: `certificate/${PESTICIDE}/TEST-000001`, details: { reason: '注销', stopped: ['first', 'final', 'expired'] } },
    ]);
  });

  it('stops its reminders at once: the due scan finds nothing to send', async () => {
    // Prepare
    const w = await seeded('revoke-scan', [2, 3]);
    await w.call('DELETE', pathOf(2), { reason: '吊销', comment: '行政处罚决定书 兴农罚〔2026〕12号' });
    const sms = new RecordingSender();

    // Act
    const result = await sendDueReminders(scanDeps(w.store, sms), FIRST_DUE);

    // Assess
    expect(result).toMatchObject({ sent: 1, revoked: 0 });
    expect(sms.sent.map((m) => m.reminder?.number)).toEqual(['TEST-000003']);
  });

  it('refuses a reason outside the four, and a blank or missing comment, naming each field', async () => {
    // Prepare
    const w = await seeded('revoke-invalid', [4]);

    // Act
    const badReason = await w.call('DELETE', pathOf(4), { reason: '过期', comment: 'x' });
    const blank = await w.call('DELETE', pathOf(4), { reason: '停业', comment: '   ' });
    const missing = await w.call('DELETE', pathOf(4), { reason: '停业' });
    const stored = await w.store.getCertificate(keyOf(4));

    // Assess
    expect(badReason.status).toBe(400);
    expect((badReason.body.error as { details: unknown }).details).toEqual([{ field: 'reason', reason: '原因应为 注销、吊销、撤销、停业 之一 / reason must be one of 注销, 吊销, 撤销, 停业' }]);
    expect(blank.status).toBe(400);
    expect((blank.body.error as { details: unknown }).details).toEqual([{ field: 'comment', reason: '说明不能为空 / the comment must not be blank' }]);
    expect(missing.status).toBe(400);
    expect((missing.body.error as { details: unknown }).details).toEqual([{ field: 'comment', reason: '需要说明 / a comment is required' }]);
    expect(stored?.revoked).toBeUndefined();
  });

  it('lets only the issuing bureau or an operator revoke: another bureau and a viewer get 403, an unknown number 404', async () => {
    // Prepare
    const w = await seeded('revoke-access', [5]);
    const body = { reason: '撤销', comment: '误发' };

    // Act
    const otherBureau = await w.call('DELETE', pathOf(5), body, 'market');
    const viewer = await w.call('DELETE', pathOf(5), body, 'viewer');
    const unknown = await w.call('DELETE', `/v1/certificates/${PESTICIDE}/NO-SUCH`, body);

    // Assess
    expect([otherBureau.status, viewer.status, unknown.status]).toEqual([403, 403, 404]);
    expect((await w.store.getCertificate(keyOf(5)))?.revoked).toBeUndefined();
  });

  it('answers a second revocation with the first mark, unchanged', async () => {
    // Prepare
    const w = await seeded('revoke-twice', [6]);
    const first = await w.call('DELETE', pathOf(6), { reason: '停业', comment: '企业已停业' });

    // Act
    const second = await w.call('DELETE', pathOf(6), { reason: '吊销', comment: '另一理由' });

    // Assess
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ ...first.body, alreadyRevoked: true });
  });
});

describe('Revocation racing a due scan', () => {
  it('keeps a scan that read the certificate before the revocation from sending', async () => {
    // Prepare
    const w = await seeded('revoke-race-read', [7]);
    const before = (await w.store.getCertificate(keyOf(7))) as StoredCertificate;
    await w.call('DELETE', pathOf(7), { reason: '注销', comment: '持证人申请' });
    // The scan's read happened before the revocation: it sees the old, unrevoked plan.
    const staleStore = Object.assign(Object.create(w.store) as DynamoDbStore, {
      getCertificate: async () => before,
      async *dueCertificates() {
        yield keyOf(7);
      },
    });
    const sms = new RecordingSender();

    // Act
    const result = await sendDueReminders(scanDeps(staleStore, sms, { ledger: w.store }), FIRST_DUE);

    // Assess
    expect(result).toMatchObject({ sent: 0, revoked: 1 });
    expect(sms.sent).toEqual([]);
  });

  it('reports the stage a scan had already claimed as in flight, and lets nothing after it go out', async () => {
    // Prepare
    const w = await seeded('revoke-race-claim', [8]);
    const claimed = await w.store.claim({ key: keyOf(8), expiresOn: '2026-12-20', stage: 'first' }, 'scan-token', Date.now() + 60_000, Date.now());
    expect(claimed.claimed).toBe(true);

    // Act
    const revoked = await w.call('DELETE', pathOf(8), { reason: '注销', comment: '持证人申请' });
    const later = await sendDueReminders(scanDeps(w.store, new RecordingSender()), at('2026-12-21T09:00:00+08:00'));

    // Assess
    expect(revoked.body).toMatchObject({ inFlight: ['first'] });
    expect(later.sent).toBe(0);
    expect(await w.store.get({ key: keyOf(8), expiresOn: '2026-12-20', stage: 'final' })).toMatchObject({ status: 'cancelled' });
  });
});

describe('Route: POST /v1/certificates/revocations', () => {
  it('revokes each item it may and reports every other with the reason', async () => {
    // Prepare
    const w = await seeded('revoke-bulk', [9, 10]);
    const items = [
      { type: PESTICIDE, number: 'TEST-000009', reason: '注销', comment: '申请注销' },
      { type: '农药经营许可证', number: 'TEST-000010', reason: '停业', comment: '停业' },
      { type: PESTICIDE, number: 'NO-SUCH', reason: '注销', comment: 'x' },
      { type: 'food_business_license', number: 'SP-1', reason: '注销', comment: 'x' },
      { type: PESTICIDE, number: 'TEST-000009', reason: '注销', comment: 'again' },
      { type: PESTICIDE, number: 'TEST-000010', reason: '作废', comment: '' },
    ];

    // Act
    const answer = await w.call('POST', '/v1/certificates/revocations', { items }, 'agriculture');

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ revoked: 2, alreadyRevoked: 1, notRevoked: 3 });
    const results = answer.body.results as Array<{ index: number; outcome: string; reason?: string; errors?: Array<{ field: string }> }>;
    expect(results.map((r) => [r.index, r.outcome])).toEqual([
      [0, 'revoked'],
      [1, 'revoked'],
      [2, 'notFound'],
      [3, 'forbidden'],
      [4, 'alreadyRevoked'],
      [5, 'invalid'],
    ]);
    expect(results[3]?.reason).toContain('food_business_license is issued by market_regulation');
    expect(results[5]?.errors?.map((e) => e.field)).toEqual(['reason', 'comment']);
  });

  it('refuses an empty list and a body without items', async () => {
    // Prepare
    const w = await seeded('revoke-bulk-empty', [11]);

    // Act
    const empty = await w.call('POST', '/v1/certificates/revocations', { items: [] });
    const none = await w.call('POST', '/v1/certificates/revocations', [{ type: PESTICIDE }]);

    // Assess
    expect([empty.status, none.status]).toEqual([400, 400]);
  });
});

describe('Uploading a revoked certificate again', () => {
  it('refuses a record with the same expiry, and reactivates a re-issued one with a later expiry', async () => {
    // Prepare
    const w = await seeded('revoke-reupload', [12]);
    await w.call('DELETE', pathOf(12), { reason: '注销', comment: '申请注销' });

    // Act
    const same = await w.call('POST', '/v1/certificates', [record(12)]);
    const reissued = await w.call('POST', '/v1/certificates', [record(12, { issuedOn: '2026-08-10', expiresOn: '2031-08-09' })]);
    const read = await w.call('GET', pathOf(12));
    const plan = await w.call('GET', `${pathOf(12)}/plan`);
    const firstSendAt = (plan.body.stages as Array<{ sendAt: string }>)[0]?.sendAt ?? '';
    const sms = new RecordingSender();
    const scan = await sendDueReminders(scanDeps(w.store, sms), at(firstSendAt));

    // Assess
    expect(same.body).toMatchObject({ accepted: 0, rejected: [{ index: 0, field: 'expiresOn' }] });
    expect((same.body.rejected as Array<{ reason: string }>)[0]?.reason).toContain('the certificate was revoked (注销) on 2026-08-10');
    expect(reissued.body).toMatchObject({ accepted: 1, renewed: 1 });
    expect(read.body).toMatchObject({ expiresOn: '2031-08-09' });
    expect(read.body.revoked).toBeUndefined();
    expect(scan.sent).toBe(1);
  });
});
