import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kmsCursorKey, PHONE_HASH_DERIVATION_MESSAGE } from '../../functions/adapters/aws/kms-cursor-key.js';
import { localPhoneHashKey } from '../../functions/adapters/local/cursor-key.js';
import { HmacPhoneHasher } from '../../functions/app/deliveries/phone-hash.js';

const SIGNING = new DynamoDBClient({ region: 'ap-southeast-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }).config;

describe('Class: HmacPhoneHasher', () => {
  it('gives one number the same hash every time, and another number or another key a different one', async () => {
    // Prepare
    const one = new HmacPhoneHasher(async () => Buffer.alloc(32, 1));
    const other = new HmacPhoneHasher(async () => Buffer.alloc(32, 2));

    // Act
    const [a, again, b, otherKey] = await Promise.all([one.hash('+8613900000900'), one.hash('+8613900000900'), one.hash('+8613900000901'), other.hash('+8613900000900')]);

    // Assess
    expect(a).toBe(again);
    expect(a).not.toBe(b);
    expect(a).not.toBe(otherKey);
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(a).not.toContain('13900000900');
  });

  it('refuses a key shorter than 32 bytes', async () => {
    // Act
    const attempt = new HmacPhoneHasher(async () => Buffer.alloc(16, 1)).hash('+8613900000900');

    // Assess
    await expect(attempt).rejects.toThrow('at least 32');
  });
});

describe('Function: localPhoneHashKey', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'certalarm-phone-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes <data dir>/phone-hash-key once, readable only by its owner, and keeps it across starts', () => {
    // Act
    const first = localPhoneHashKey(dir);
    const second = localPhoneHashKey(dir);

    // Assess
    expect(Buffer.from(first)).toEqual(Buffer.from(second));
    expect(first.length).toBe(32);
    expect(statSync(join(dir, 'phone-hash-key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'phone-hash-key'), 'utf8').trim()).toBe(Buffer.from(first).toString('hex'));
  });
});

describe('Function: kmsCursorKey (phone-hash derivation)', () => {
  it('derives the phone-hash key from its own message', async () => {
    // Prepare
    const bodies: string[] = [];
    const fetch = (async (_url: URL, init: RequestInit) => {
      bodies.push(String(init.body));
      return new Response(JSON.stringify({ Mac: Buffer.alloc(32, 9).toString('base64') }), { status: 200 });
    }) as unknown as typeof globalThis.fetch;

    // Act
    await kmsCursorKey({ signing: SIGNING, keyId: 'phone-key', message: PHONE_HASH_DERIVATION_MESSAGE, fetch });

    // Assess
    expect(JSON.parse(bodies[0] ?? '{}')).toMatchObject({ KeyId: 'phone-key', Message: Buffer.from('certalarm phone search key v1').toString('base64') });
  });
});
