import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CursorSeal, type CursorBinding } from '../../functions/app/cursors.js';
import { InvalidCursorError } from '../../functions/core/errors.js';
import { at } from '../support/fixtures.js';

const NOW = at('2026-08-01T10:00:00+08:00');
const KEY = randomBytes(32);
const INNER = Buffer.from(JSON.stringify({ pk: 'CERT#pesticide_business_license#N-1', sk: 'CERT' })).toString('base64url');

const operatorQuery: CursorBinding = {
  query: { township: '360732100', type: undefined, expiringBefore: '2027-01-01' },
  principal: { role: 'operator', subject: 'token:admin' },
};

function seal(key: Uint8Array = KEY, ttlSeconds = 3600): CursorSeal {
  return new CursorSeal(async () => key, ttlSeconds);
}

/** The message of the InvalidCursorError that opening throws. */
async function refusal(opening: Promise<unknown>): Promise<string> {
  const error = await opening.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidCursorError);
  return (error as Error).message;
}

describe('Class: CursorSeal', () => {
  describe('Method: open', () => {
    it('gives back the inner cursor it sealed, for the same query and caller', async () => {
      // Prepare
      const cursor = await seal().seal(INNER, operatorQuery, NOW);

      // Act
      const inner = await seal().open(cursor, operatorQuery, NOW.plus({ minutes: 59 }));

      // Assess
      expect(inner).toBe(INNER);
      expect(cursor).not.toContain(INNER);
    });

    it('refuses a cursor with one character changed, as not issued by this service', async () => {
      // Prepare
      const cursor = await seal().seal(INNER, operatorQuery, NOW);
      const at = 5;
      const tampered = `${cursor.slice(0, at)}${cursor[at] === 'A' ? 'B' : 'A'}${cursor.slice(at + 1)}`;

      // Act
      const message = await refusal(seal().open(tampered, operatorQuery, NOW));

      // Assess
      expect(message).toContain('not one this service issued');
    });

    it('refuses a raw DynamoDB start key passed as a cursor', async () => {
      // Prepare
      const crafted = Buffer.from(JSON.stringify({ pk: 'TOKENS', sk: 'TOKEN#admin' })).toString('base64url');

      // Act
      const message = await refusal(seal().open(crafted, operatorQuery, NOW));

      // Assess
      expect(message).toContain('not one this service issued');
    });

    it('refuses a cursor sealed with another service key', async () => {
      // Prepare
      const cursor = await seal(randomBytes(32)).seal(INNER, operatorQuery, NOW);

      // Act
      const message = await refusal(seal().open(cursor, operatorQuery, NOW));

      // Assess
      expect(message).toContain('not one this service issued');
    });

    it.each([
      ['another caller of the same role', { ...operatorQuery, principal: { role: 'operator', subject: 'token:other' } }],
      ['a bureau', { ...operatorQuery, principal: { role: 'bureau', authority: 'agriculture_rural', subject: 'token:admin' } }],
      ['another township', { ...operatorQuery, query: { ...operatorQuery.query, township: '360732101' } }],
      ['another expiry bound', { ...operatorQuery, query: { ...operatorQuery.query, expiringBefore: '2028-01-01' } }],
      ['an added type filter', { ...operatorQuery, query: { ...operatorQuery.query, type: 'pesticide_business_license' } }],
    ] as Array<[string, CursorBinding]>)('refuses an operator’s cursor replayed by %s', async (_who, other) => {
      // Prepare
      const cursor = await seal().seal(INNER, operatorQuery, NOW);

      // Act
      const message = await refusal(seal().open(cursor, other, NOW));

      // Assess
      expect(message).toContain('another query or caller');
    });

    it('refuses a cursor older than its lifetime, saying how long cursors last', async () => {
      // Prepare
      const cursor = await seal().seal(INNER, operatorQuery, NOW);

      // Act
      const message = await refusal(seal().open(cursor, operatorQuery, NOW.plus({ seconds: 3601 })));

      // Assess
      expect(message).toContain('60 minutes');
    });

    it.each([
      ['empty', ''],
      ['not base64', '!!!.???'],
      ['three parts', 'a.b.c'],
      ['thousands of characters', 'x'.repeat(5000)],
    ])('refuses a cursor that is %s', async (_what, cursor) => {
      // Act
      const message = await refusal(seal().open(cursor, operatorQuery, NOW));

      // Assess
      expect(message).toContain('not one this service issued');
    });
  });

  describe('Method: seal', () => {
    it('refuses a service key shorter than 32 bytes when it is first used', async () => {
      // Act
      const attempt = seal(randomBytes(16)).seal(INNER, operatorQuery, NOW);

      // Assess
      await expect(attempt).rejects.toThrow('32 bytes');
    });
  });
});
