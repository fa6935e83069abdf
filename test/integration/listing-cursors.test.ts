import { randomBytes } from 'node:crypto';
import type { DateTime } from 'luxon';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../functions/core/access.js';
import { CursorSeal } from '../../functions/app/cursors.js';
import { createHttpApp, type HttpApp } from '../../functions/app/http/app.js';
import type { HttpResponse } from '../../functions/app/http/http.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import { at, freshStore, record, RecordingSender, scanDeps, testSettings } from '../support/fixtures.js';

const START = at('2026-08-01T10:00:00+08:00');

/** Callers by the token they present: the test stands in for the token store. */
const CALLERS: Record<string, Principal> = {
  operator: { role: 'operator', subject: 'token:operator' },
  otherOperator: { role: 'operator', subject: 'token:other' },
  agriculture: { role: 'bureau', authority: 'agriculture_rural', subject: 'token:agri' },
};

let app: HttpApp;
let now: DateTime = START;

async function list(caller: string, query: Record<string, string>): Promise<{ status: number; body: { nextCursor?: string; items?: unknown[]; error?: { code: string; message: string } } }> {
  const response: HttpResponse = await app({ method: 'GET', path: '/v1/certificates', query, headers: { authorization: caller } });
  return { status: response.status, body: JSON.parse(response.body) as never };
}

beforeAll(async () => {
  const store = await freshStore('listing-cursors');
  const seeded = await uploadCertificates({ store, reference: loadReferenceData(), settings: testSettings() }, Array.from({ length: 12 }, (_, i) => record(i + 1)), START);
  if (seeded.accepted !== 12) throw new Error(`fixture upload failed: ${JSON.stringify(seeded.rejected)}`);
  const key = randomBytes(32);
  app = createHttpApp({
    ...scanDeps(store, new RecordingSender()),
    clock: { now: () => now },
    authenticate: async (req) => CALLERS[req.headers.authorization ?? ''],
    cursors: new CursorSeal(async () => key, 3600),
  });
});

describe('Route: GET /v1/certificates (cursors)', () => {
  it('pages with a cursor for the caller and query it was issued to', async () => {
    // Prepare
    now = START;
    const first = await list('operator', { township: '潋江镇', limit: '5' });

    // Act
    const second = await list('operator', { township: '潋江镇', limit: '5', cursor: first.body.nextCursor ?? '' });

    // Assess
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.items).toHaveLength(5);
  });

  it.each([
    ['replayed by another operator', 'otherOperator', { township: '潋江镇' }, 'another query or caller'],
    ['replayed by a bureau', 'agriculture', { township: '潋江镇' }, 'another query or caller'],
    ['used for another township', 'operator', { township: '360732101' }, 'another query or caller'],
    ['used for the whole table', 'operator', {}, 'another query or caller'],
  ])('answers 400 to an operator’s cursor %s', async (_how, caller, query, reason) => {
    // Prepare
    now = START;
    const first = await list('operator', { township: '潋江镇', limit: '5' });

    // Act
    const replay = await list(caller, { ...query, limit: '5', cursor: first.body.nextCursor ?? '' });

    // Assess
    expect(replay.status).toBe(400);
    expect(replay.body.error).toMatchObject({ code: 'invalid_cursor', message: expect.stringContaining(reason) });
  });

  it('answers 400 to a cursor with one character changed', async () => {
    // Prepare
    now = START;
    const cursor = (await list('operator', { limit: '5' })).body.nextCursor ?? '';
    const tampered = `${cursor.slice(0, 10)}${cursor[10] === 'x' ? 'y' : 'x'}${cursor.slice(11)}`;

    // Act
    const answer = await list('operator', { limit: '5', cursor: tampered });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('invalid_cursor');
  });

  it('answers 400 to a DynamoDB start key for the tokens, passed as a cursor', async () => {
    // Prepare
    const crafted = Buffer.from(JSON.stringify({ pk: 'TOKENS', sk: 'TOKEN#admin' })).toString('base64url');

    // Act
    const answer = await list('operator', { limit: '5', cursor: crafted });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('invalid_cursor');
  });

  it('answers 400 to a cursor used after it expired, saying to start again', async () => {
    // Prepare
    now = START;
    const cursor = (await list('operator', { limit: '5' })).body.nextCursor ?? '';
    now = START.plus({ hours: 1, seconds: 1 });

    // Act
    const answer = await list('operator', { limit: '5', cursor });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error?.message).toContain('expired');
  });
});
