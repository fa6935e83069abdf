import 'aws-sdk-client-mock-vitest/extend';
import { randomBytes } from 'node:crypto';
import { InvalidParameterException, OptInPhoneNumberCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbAuditLog } from '../../functions/adapters/aws/dynamodb/dynamodb-audit-log.js';
import { DynamoDbPhoneHoldings } from '../../functions/adapters/aws/dynamodb/dynamodb-phone-holdings.js';
import { DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { DynamoDbSuppressedPhones } from '../../functions/adapters/aws/dynamodb/dynamodb-suppressed-phones.js';
import { DynamoDbSuppressionList } from '../../functions/adapters/aws/dynamodb/dynamodb-suppression-list.js';
import { SnsOptedOutNumbers } from '../../functions/adapters/aws/sns-opted-out-numbers.js';
import { LocalProviderOptIn } from '../../functions/adapters/local/local-provider-opt-in.js';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { CursorSeal } from '../../functions/app/cursors.js';
import { createHttpApp } from '../../functions/app/http/app.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import type { Principal } from '../../functions/core/access.js';
import type { Logger, ProviderOptIn } from '../../functions/core/ports.js';
import { dynamoTestClient, uniqueTableName } from '../support/dynamo.js';
import { at, record, RecordingSender, testSettings } from '../support/fixtures.js';

const CALLERS: Record<string, Principal> = {
  operator: { role: 'operator', subject: 'token:ops' },
  viewer: { role: 'viewer', subject: 'token:viewer' },
  agriculture: { role: 'bureau', authority: 'agriculture_rural', subject: 'token:agri' },
  market: { role: 'bureau', authority: 'market_regulation', subject: 'token:market' },
};

const NOW = at('2026-12-01T10:00:00+08:00');
const PESTICIDE = 'pesticide_business_license'; // agriculture_rural
const FOOD = 'food_business_license'; // market_regulation
const reference = loadReferenceData();

interface Answer {
  status: number;
  body: Record<string, unknown> & { items?: Array<Record<string, unknown>>; nextCursor?: string; error?: { code: string; message: string } };
}

async function service(prefix: string, options: { providerOptIn?: ProviderOptIn } = {}) {
  const client = dynamoTestClient();
  const tableName = uniqueTableName(prefix);
  await ensureTable(client, tableName);
  const store = new DynamoDbStore(client, tableName);
  const suppressions = new DynamoDbSuppressionList(client, tableName);
  const audit = new DynamoDbAuditLog(client, tableName);
  const lines: string[] = [];
  const log = (obj: object, msg?: string) => lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  const logger: Logger = { debug: log, info: log, warn: log, error: log };
  const key = randomBytes(32);
  const clock = { now: () => NOW };
  const app = createHttpApp({
    store,
    ledger: store,
    sms: new RecordingSender(),
    reference,
    settings: testSettings(),
    logger,
    clock,
    audit,
    authenticate: async (req) => CALLERS[req.headers.authorization ?? ''],
    cursors: new CursorSeal(async () => key, 3600),
    suppressions,
    suppressedPhones: new DynamoDbSuppressedPhones(client, tableName),
    phoneHoldings: new DynamoDbPhoneHoldings(client, tableName),
    ...(options.providerOptIn !== undefined ? { providerOptIn: options.providerOptIn } : {}),
  });
  const call = async (who: string, method: string, path: string, body?: unknown): Promise<Answer> => {
    const [pathOnly = path, search = ''] = path.split('?');
    const response = await app({
      method,
      path: pathOnly,
      query: Object.fromEntries(new URLSearchParams(search)),
      headers: { authorization: who },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: JSON.parse(response.body) as Answer['body'] };
  };
  const seed = async (records: Array<Record<string, unknown>>) => {
    const result = await uploadCertificates({ store, reference, settings: testSettings() }, records, NOW);
    expect(result.rejected).toEqual([]);
  };
  return { call, seed, suppressions, audit, lines };
}

const optedOut = (at: string) => ({ source: 'sms-keyword' as const, at, detail: 'TD' });

describe('Route: GET /v1/suppressions', () => {
  it('shows an operator every entry, masked, with source, instant and detail, in phone-number order', async () => {
    // Prepare
    const s = await service('sup-list-operator');
    await s.suppressions.suppress('+8613900000302', optedOut('2026-11-30T02:00:00.000Z'));
    await s.suppressions.suppress('+8613900000301', { source: 'sns-opted-out', at: '2026-11-29T00:30:00.000Z', detail: 'SNS ListPhoneNumbersOptedOut' });

    // Act
    const answer = await s.call('operator', 'GET', '/v1/suppressions');

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      items: [
        { phone: '+86139****0301', source: 'sns-opted-out', at: '2026-11-29T00:30:00.000Z', detail: 'SNS ListPhoneNumbersOptedOut' },
        { phone: '+86139****0302', source: 'sms-keyword', at: '2026-11-30T02:00:00.000Z', detail: 'TD' },
      ],
    });
  });

  it('shows a bureau only the numbers holding a certificate of a type it issues', async () => {
    // Prepare
    const s = await service('sup-list-bureau');
    await s.seed([
      record(311, { type: PESTICIDE, number: 'NY-311', phone: '13900000311' }),
      record(312, { type: FOOD, number: 'JY-312', phone: '13900000312' }),
      record(313, { type: PESTICIDE, number: 'NY-313', phone: '13900000313' }),
      record(314, { type: FOOD, number: 'JY-313', phone: '13900000313' }),
    ]);
    for (const phone of ['+8613900000311', '+8613900000312', '+8613900000313', '+8613900000319']) await s.suppressions.suppress(phone, optedOut('2026-11-30T02:00:00.000Z'));

    // Act
    const agriculture = await s.call('agriculture', 'GET', '/v1/suppressions');
    const market = await s.call('market', 'GET', '/v1/suppressions');
    const operator = await s.call('operator', 'GET', '/v1/suppressions');

    // Assess
    expect(agriculture.body.items?.map((i) => i.phone)).toEqual(['+86139****0311', '+86139****0313']);
    expect(market.body.items?.map((i) => i.phone)).toEqual(['+86139****0312', '+86139****0313']);
    expect(operator.body.items).toHaveLength(4);
  });

  it('pages a bureau\'s view with sealed cursors, skipping other bureaus\' holders, until the list ends', async () => {
    // Prepare
    const s = await service('sup-list-pages');
    const records = Array.from({ length: 9 }, (_, i) =>
      record(320 + i, { type: i % 3 === 0 ? PESTICIDE : FOOD, number: `P-${320 + i}`, phone: `139000003${20 + i}` }),
    );
    await s.seed(records);
    for (let i = 0; i < 9; i += 1) await s.suppressions.suppress(`+86139000003${20 + i}`, optedOut('2026-11-30T02:00:00.000Z'));

    // Act
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const answer = await s.call('agriculture', 'GET', `/v1/suppressions?limit=2${cursor !== undefined ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(answer.status).toBe(200);
      seen.push(...(answer.body.items ?? []).map((i) => i.phone as string));
      cursor = answer.body.nextCursor;
      pages += 1;
    } while (cursor !== undefined && pages < 10);

    // Assess
    expect(seen).toEqual(['+86139****0320', '+86139****0323', '+86139****0326']);
    expect(pages).toBeLessThanOrEqual(3);
  });

  it('examines at most 500 entries for a bureau per request, answering a short page with a cursor past them', { timeout: 120_000 }, async () => {
    // Prepare: 501 numbers that are none of the agriculture bureau's holders, then one that is
    const s = await service('sup-list-budget');
    await s.seed([record(399, { type: PESTICIDE, number: 'NY-399', phone: '13900009999' })]);
    // 138… sorts before the bureau's 139… number, so the first 500 entries examined are all others'.
    const others = Array.from({ length: 501 }, (_, i) => `+86138000${String(i).padStart(5, '0')}`);
    for (let i = 0; i < others.length; i += 25) await Promise.all(others.slice(i, i + 25).map((phone) => s.suppressions.suppress(phone, optedOut('2026-11-30T02:00:00.000Z'))));
    await s.suppressions.suppress('+8613900009999', optedOut('2026-11-30T02:00:00.000Z'));

    // Act
    const first = await s.call('agriculture', 'GET', '/v1/suppressions?limit=10');
    const second = await s.call('agriculture', 'GET', `/v1/suppressions?limit=10&cursor=${encodeURIComponent(first.body.nextCursor ?? '')}`);

    // Assess
    expect(new Set(others).size).toBe(501);
    expect(first.status).toBe(200);
    expect(first.body.items).toEqual([]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    expect(second.body.items?.map((i) => i.phone)).toEqual(['+86139****9999']);
    expect(second.body).not.toHaveProperty('nextCursor');
  });

  it('refuses a cursor handed out to another caller, and a viewer altogether', async () => {
    // Prepare
    const s = await service('sup-list-refusals');
    for (const phone of ['+8613900000331', '+8613900000332']) await s.suppressions.suppress(phone, optedOut('2026-11-30T02:00:00.000Z'));
    const first = await s.call('operator', 'GET', '/v1/suppressions?limit=1');

    // Act
    const stolen = await s.call('agriculture', 'GET', `/v1/suppressions?cursor=${encodeURIComponent(first.body.nextCursor ?? '')}`);
    const viewer = await s.call('viewer', 'GET', '/v1/suppressions');

    // Assess
    expect(first.body.nextCursor).toEqual(expect.any(String));
    expect(stolen.status).toBe(400);
    expect(stolen.body.error?.code).toBe('invalid_cursor');
    expect(viewer.status).toBe(403);
    expect(viewer.body.error?.message).toMatch(/退订名单.* \/ only a bureau or an operator/);
  });
});

describe('Route: DELETE /v1/suppressions/{phone}', () => {
  it('reinstates a number for an operator, with the comment on the audit trail and the number masked there', async () => {
    // Prepare
    const s = await service('sup-reinstate');
    await s.suppressions.suppress('+8613900000341', optedOut('2026-11-30T02:00:00.000Z'));

    // Act
    const answer = await s.call('operator', 'DELETE', '/v1/suppressions/13900000341', { comment: '本人来电要求恢复提醒' });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ phone: '+86139****0341', source: 'sms-keyword', at: '2026-11-30T02:00:00.000Z', detail: 'TD', reinstated: true, comment: '本人来电要求恢复提醒', providerOptIn: { status: 'not-needed' } });
    expect(await s.suppressions.get('+8613900000341')).toBeUndefined();
    const trail = await s.audit.list({ limit: 10 });
    expect(trail.items).toEqual([
      expect.objectContaining({ actor: 'token:ops', role: 'operator', action: 'suppression.reinstate', target: 'suppression/+86139****0341' }),
    ]);
    expect(JSON.stringify(trail.items)).toContain('本人来电要求恢复提醒');
    expect(JSON.stringify(trail.items)).not.toContain('13900000341');
  });

  it('does nothing at a provider locally: the local twin has no opt-out list to take the number off', async () => {
    // Prepare
    const s = await service('sup-reinstate-local', { providerOptIn: new LocalProviderOptIn() });
    await s.suppressions.suppress('+8613900000345', optedOut('2026-11-30T02:00:00.000Z'));

    // Act
    const answer = await s.call('operator', 'DELETE', '/v1/suppressions/13900000345', { comment: '恢复' });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body.providerOptIn).toEqual({ status: 'not-needed' });
  });

  describe('on AWS, where SNS keeps an opt-out list of its own', () => {
    const snsMock = mockClient(SNSClient);
    beforeEach(() => snsMock.reset());
    afterEach(() => snsMock.reset());

    it('opts the number back in at SNS with exactly one OptInPhoneNumber, and says so in the answer and the audit trail', async () => {
      // Prepare
      snsMock.on(OptInPhoneNumberCommand).resolves({});
      const s = await service('sup-reinstate-sns', { providerOptIn: new SnsOptedOutNumbers({ client: new SNSClient({ region: 'ap-southeast-1' }) }) });
      await s.suppressions.suppress('+8613900000346', { source: 'sns-opted-out', at: '2026-11-29T00:30:00.000Z', detail: 'SNS ListPhoneNumbersOptedOut' });

      // Act
      const answer = await s.call('operator', 'DELETE', '/v1/suppressions/13900000346', { comment: '本人来电要求恢复提醒' });

      // Assess
      expect(answer.status).toBe(200);
      expect(answer.body.providerOptIn).toEqual({ status: 'opted-in' });
      expect(snsMock).toHaveReceivedCommandTimes(OptInPhoneNumberCommand, 1);
      expect(snsMock.commandCalls(OptInPhoneNumberCommand)[0]!.args[0].input).toEqual({ phoneNumber: '+8613900000346' });
      expect(snsMock.calls()).toHaveLength(1);
      expect(await s.suppressions.get('+8613900000346')).toBeUndefined();
      const trail = await s.audit.list({ limit: 10 });
      expect(trail.items[0]?.details).toEqual(expect.objectContaining({ providerOptIn: 'opted-in' }));
    });

    it('still reinstates when SNS refuses the opt-in (once per 30 days), and says in both languages what happened and what to do', async () => {
      // Prepare
      snsMock.on(OptInPhoneNumberCommand).rejects(new InvalidParameterException({ message: 'Invalid parameter: latest opt in is less than 30 days ago', $metadata: { httpStatusCode: 400 } }));
      const s = await service('sup-reinstate-sns-refused', { providerOptIn: new SnsOptedOutNumbers({ client: new SNSClient({ region: 'ap-southeast-1', maxAttempts: 1 }) }) });
      await s.suppressions.suppress('+8613900000347', { source: 'sns-opted-out', at: '2026-11-29T00:30:00.000Z', detail: 'SNS ListPhoneNumbersOptedOut' });

      // Act
      const answer = await s.call('operator', 'DELETE', '/v1/suppressions/13900000347', { comment: '本人来电要求恢复提醒' });

      // Assess
      expect(answer.status).toBe(200);
      expect(answer.body.reinstated).toBe(true);
      const refusal = answer.body.providerOptIn as { status: string; reason: string; message: string };
      expect(refusal.status).toBe('refused');
      expect(refusal.reason).toBe('once-per-30-days');
      expect(refusal.message).toContain('30');
      expect(refusal.message).toMatch(/[\u4e00-\u9fff].* \/ [A-Za-z]/);
      expect(await s.suppressions.get('+8613900000347')).toBeUndefined();
      expect(JSON.stringify(answer.body)).not.toContain('13900000347');
      const trail = await s.audit.list({ limit: 10 });
      expect(trail.items[0]?.details).toEqual(expect.objectContaining({ providerOptIn: 'refused: once-per-30-days' }));
    });
  });

  it('accepts the number in any written form: E.164, with spaces, full-width', async () => {
    // Prepare
    const s = await service('sup-reinstate-forms');
    for (const phone of ['+8613900000342', '+8613900000343']) await s.suppressions.suppress(phone, optedOut('2026-11-30T02:00:00.000Z'));

    // Act
    const e164 = await s.call('operator', 'DELETE', `/v1/suppressions/${encodeURIComponent('+8613900000342')}`, { comment: '恢复' });
    const fullWidth = await s.call('operator', 'DELETE', `/v1/suppressions/${encodeURIComponent('１３９ ０００００３４３')}`, { comment: '恢复' });

    // Assess
    expect([e164.status, fullWidth.status]).toEqual([200, 200]);
    expect((await s.suppressions.list({ limit: 10 })).items).toEqual([]);
  });

  it('answers 400 in both languages without a comment, or with a blank one, and keeps the number suppressed', async () => {
    // Prepare
    const s = await service('sup-reinstate-comment');
    await s.suppressions.suppress('+8613900000344', optedOut('2026-11-30T02:00:00.000Z'));

    // Act
    const none = await s.call('operator', 'DELETE', '/v1/suppressions/13900000344');
    const empty = await s.call('operator', 'DELETE', '/v1/suppressions/13900000344', {});
    const blank = await s.call('operator', 'DELETE', '/v1/suppressions/13900000344', { comment: '   ' });

    // Assess
    for (const answer of [none, empty, blank]) {
      expect(answer.status).toBe(400);
      expect(answer.body.error?.message).toMatch(/comment: .*说明.* \/ .*comment/);
    }
    expect(await s.suppressions.get('+8613900000344')).toBeDefined();
  });

  it('answers 404 for a number not on the list, and 400 for something that is not a mobile number, never repeating the number whole', async () => {
    // Prepare
    const s = await service('sup-reinstate-404');

    // Act
    const missing = await s.call('operator', 'DELETE', '/v1/suppressions/13900000345', { comment: '恢复' });
    const invalid = await s.call('operator', 'DELETE', '/v1/suppressions/1390000034', { comment: '恢复' });

    // Assess
    expect(missing.status).toBe(404);
    expect(missing.body.error?.message).toBe('+86139****0345 不在退订名单上 / +86139****0345 is not on the suppression list');
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.body)).not.toContain('1390000034');
  });

  it('lets only an operator reinstate: a bureau and a viewer get 403 and the number stays suppressed', async () => {
    // Prepare
    const s = await service('sup-reinstate-403');
    await s.seed([record(346, { type: PESTICIDE, number: 'NY-346', phone: '13900000346' })]);
    await s.suppressions.suppress('+8613900000346', optedOut('2026-11-30T02:00:00.000Z'));

    // Act
    const bureau = await s.call('agriculture', 'DELETE', '/v1/suppressions/13900000346', { comment: '恢复' });
    const viewer = await s.call('viewer', 'DELETE', '/v1/suppressions/13900000346', { comment: '恢复' });

    // Assess
    expect([bureau.status, viewer.status]).toEqual([403, 403]);
    expect(await s.suppressions.get('+8613900000346')).toBeDefined();
  });

  it('puts the whole number in no log line and no error, even for a method the path does not allow', async () => {
    // Prepare
    const s = await service('sup-no-phone');
    await s.suppressions.suppress('+8613900000347', optedOut('2026-11-30T02:00:00.000Z'));

    // Act
    const answers = [
      await s.call('operator', 'PUT', '/v1/suppressions/13900000347', { comment: 'x' }),
      await s.call('operator', 'DELETE', '/v1/suppressions/13900000348', { comment: 'x' }),
      await s.call('operator', 'DELETE', '/v1/suppressions/13900000347', { comment: '本人13900000347来电' }),
    ];

    // Assess
    expect(answers.map((a) => a.status)).toEqual([405, 404, 200]);
    expect(JSON.stringify(answers.map((a) => a.body))).not.toMatch(/1390000034[78]/);
    expect(s.lines.join('\n')).not.toMatch(/1390000034[78]/);
    expect(JSON.stringify((await s.audit.list({ limit: 10 })).items)).not.toMatch(/1390000034[78]/);
  });
});

describe('The suppressed flag on certificates', () => {
  it('marks the certificates of a suppressed holder in a bureau\'s listing and single reads, and no others', async () => {
    // Prepare
    const s = await service('sup-flag');
    await s.seed([
      record(351, { type: PESTICIDE, number: 'NY-351', phone: '13900000351' }),
      record(352, { type: PESTICIDE, number: 'NY-352', phone: '13900000352' }),
      record(353, { type: PESTICIDE, number: 'NY-353', phone: '13900000351' }),
    ]);
    await s.suppressions.suppress('+8613900000351', optedOut('2026-11-30T02:00:00.000Z'));

    // Act
    const listing = await s.call('agriculture', 'GET', `/v1/certificates?type=${PESTICIDE}`);
    const one = await s.call('agriculture', 'GET', `/v1/certificates/${PESTICIDE}/NY-351`);
    const other = await s.call('operator', 'GET', `/v1/certificates/${PESTICIDE}/NY-352`);

    // Assess
    expect(Object.fromEntries((listing.body.items ?? []).map((i) => [i.number, i.suppressed]))).toEqual({ 'NY-351': true, 'NY-352': false, 'NY-353': true });
    expect(one.body).toMatchObject({ number: 'NY-351', suppressed: true });
    expect(other.body).toMatchObject({ number: 'NY-352', suppressed: false });
  });

  it('gives a viewer, who may not read the list, no flag at all', async () => {
    // Prepare
    const s = await service('sup-flag-viewer');
    await s.seed([record(354, { type: PESTICIDE, number: 'NY-354', phone: '13900000354' })]);
    await s.suppressions.suppress('+8613900000354', optedOut('2026-11-30T02:00:00.000Z'));

    // Act
    const listing = await s.call('viewer', 'GET', '/v1/certificates');
    const one = await s.call('viewer', 'GET', `/v1/certificates/${PESTICIDE}/NY-354`);

    // Assess
    expect(listing.status).toBe(200);
    expect(listing.body.items?.[0]).not.toHaveProperty('suppressed');
    expect(one.body).not.toHaveProperty('suppressed');
  });
});
