import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { KmsHolderIdCipher } from '../../functions/adapters/aws/kms-holder-id-cipher.js';
import { LocalHolderIdCipher, localHolderIdKey } from '../../functions/adapters/local/local-holder-id-cipher.js';
import { maskHolderId } from '../../functions/core/holder-id.js';
import { maskPhones, maskPhonesInText } from '../../functions/core/log-masking.js';

const PERSON = '36073219791130018X';
const COMPANY = '91360732MA35A1B2CW';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'certalarm-holder-id-key-'));
  dirs.push(dir);
  return dir;
}

describe('Function: localHolderIdKey', () => {
  it('makes a 256-bit key on the first start, readable by its owner only, and keeps it for the next', () => {
    // Prepare
    const dir = dataDir();

    // Act
    const first = localHolderIdKey(dir);
    const second = localHolderIdKey(dir);

    // Assess
    expect(first).toHaveLength(32);
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
    expect(statSync(join(dir, 'holder-id-key')).mode & 0o777).toBe(0o600);
  });

  it('refuses a damaged key file and says to restore it, never making a new key over it', () => {
    // Prepare
    const dir = dataDir();
    writeFileSync(join(dir, 'holder-id-key'), 'not a key\n');

    // Act & Assess
    expect(() => localHolderIdKey(dir)).toThrow('restore it from your backup');
  });
});

describe('Class: LocalHolderIdCipher', () => {
  const cipher = new LocalHolderIdCipher(Buffer.alloc(32, 1));

  it('seals an ID with AES-256-GCM under a random nonce, behind its scheme and key id, and opens it again', async () => {
    // Act
    const once = await cipher.seal(PERSON);
    const twice = await cipher.seal(PERSON);

    // Assess
    expect(once).toMatch(new RegExp(`^hid1:${cipher.keyId}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$`));
    expect(once).not.toContain(PERSON);
    expect(twice).not.toBe(once);
    expect(await cipher.open(once)).toBe(PERSON);
    expect(await cipher.open(twice)).toBe(PERSON);
  });

  it('reads an ID stored before encryption (no prefix) as it is', async () => {
    // Act & Assess
    expect(await cipher.open(COMPANY)).toBe(COMPANY);
  });

  it('refuses a value sealed with another key, naming both keys, and a value that was altered', async () => {
    // Prepare
    const other = new LocalHolderIdCipher(Buffer.alloc(32, 2));
    const sealed = await other.seal(PERSON);
    const mine = await cipher.seal(PERSON);
    const [scheme, keyId, nonce, body = ''] = mine.split(':');
    const altered = [scheme, keyId, nonce, `${body.slice(0, -2)}${body.endsWith('AA') ? 'AB' : 'AA'}`].join(':');

    // Act & Assess
    await expect(cipher.open(sealed)).rejects.toThrow(`sealed with key ${other.keyId}, but holder-id-key holds key ${cipher.keyId}`);
    await expect(cipher.open(altered)).rejects.toThrow();
  });
});

// The runtime signs with its DynamoDB client's resolved config, as the cursor key does.
const SIGNING = new DynamoDBClient({ region: 'ap-southeast-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }).config;
const KEY_ARN = 'arn:aws:kms:ap-southeast-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const DATA_KEY = Buffer.alloc(32, 7);
const ENCRYPTED_DATA_KEY = Buffer.from('encrypted data key blob, as KMS returns it');
const CONTEXT = { purpose: 'certalarm-holder-id' };

/** A fetch standing in for KMS: GenerateDataKey and Decrypt as KMS answers them, every request kept. */
function fakeKms(options: { refuse?: boolean } = {}) {
  const calls: Array<{ target: string; body: Record<string, unknown>; authorization: string }> = [];
  const fetch = (async (_url: URL, init: RequestInit) => {
    const headers = init.headers as Record<string, string>;
    const target = headers['x-amz-target'] ?? '';
    calls.push({ target, body: JSON.parse(String(init.body)) as Record<string, unknown>, authorization: headers.authorization ?? '' });
    if (options.refuse === true) return new Response(JSON.stringify({ __type: 'com.amazonaws.kms#AccessDeniedException', message: 'not authorized to perform kms:Decrypt' }), { status: 400 });
    const answer =
      target === 'TrentService.GenerateDataKey'
        ? { KeyId: KEY_ARN, Plaintext: DATA_KEY.toString('base64'), CiphertextBlob: ENCRYPTED_DATA_KEY.toString('base64') }
        : { KeyId: KEY_ARN, Plaintext: DATA_KEY.toString('base64') };
    return new Response(JSON.stringify(answer), { status: 200 });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}

describe('Class: KmsHolderIdCipher', () => {
  it('makes one data key per cold start with GenerateDataKey (AES_256, the holder-ID context) and seals every ID with it', async () => {
    // Prepare
    const kms = fakeKms();
    const cipher = new KmsHolderIdCipher({ signing: SIGNING, keyId: KEY_ARN, fetch: kms.fetch });

    // Act
    const person = await cipher.seal(PERSON);
    const company = await cipher.seal(COMPANY);
    const opened = [await cipher.open(person), await cipher.open(company)];

    // Assess
    expect(kms.calls.map((c) => c.target)).toEqual(['TrentService.GenerateDataKey']);
    expect(kms.calls[0]?.body).toEqual({ KeyId: KEY_ARN, KeySpec: 'AES_256', EncryptionContext: CONTEXT });
    expect(kms.calls[0]?.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/ap-southeast-1\/kms\/aws4_request/);
    expect(person).toMatch(new RegExp(`^kms1:${ENCRYPTED_DATA_KEY.toString('base64url')}:`));
    expect(person).not.toContain(PERSON);
    expect(opened).toEqual([PERSON, COMPANY]);
  });

  it('opens values another instance sealed with one Decrypt per data key, and never makes a data key only to read', async () => {
    // Prepare
    const writer = new KmsHolderIdCipher({ signing: SIGNING, keyId: KEY_ARN, fetch: fakeKms().fetch });
    const values = [await writer.seal(PERSON), await writer.seal(COMPANY)];
    const kms = fakeKms();
    const reader = new KmsHolderIdCipher({ signing: SIGNING, keyId: KEY_ARN, fetch: kms.fetch });

    // Act
    const opened = await Promise.all(values.map((v) => reader.open(v)));

    // Assess
    expect(opened).toEqual([PERSON, COMPANY]);
    expect(kms.calls).toHaveLength(1);
    expect(kms.calls[0]?.target).toBe('TrentService.Decrypt');
    expect(kms.calls[0]?.body).toEqual({ KeyId: KEY_ARN, CiphertextBlob: ENCRYPTED_DATA_KEY.toString('base64'), EncryptionContext: CONTEXT });
  });

  it('reads an ID stored before encryption as it is, without calling KMS', async () => {
    // Prepare
    const kms = fakeKms();
    const cipher = new KmsHolderIdCipher({ signing: SIGNING, keyId: KEY_ARN, fetch: kms.fetch });

    // Act & Assess
    expect(await cipher.open(PERSON)).toBe(PERSON);
    expect(kms.calls).toEqual([]);
  });

  it('throws naming the operation, the key and KMS’s error when a call is refused', async () => {
    // Prepare
    const sealed = await new KmsHolderIdCipher({ signing: SIGNING, keyId: KEY_ARN, fetch: fakeKms().fetch }).seal(PERSON);
    const cipher = new KmsHolderIdCipher({ signing: SIGNING, keyId: KEY_ARN, fetch: fakeKms({ refuse: true }).fetch });

    // Act & Assess
    await expect(cipher.open(sealed)).rejects.toThrow(`KMS Decrypt on the holder-ID key ${KEY_ARN} failed: AccessDeniedException not authorized to perform kms:Decrypt`);
  });
});

describe('Function: maskHolderId', () => {
  it('shows the first and last four characters of an 18-character ID', () => {
    // Act & Assess
    expect(maskHolderId('36073219791130123X')).toBe('3607**********123X');
    expect(maskHolderId(COMPANY)).toBe('9136**********B2CW');
  });
});

describe('Log masking of holder IDs', () => {
  it('masks resident IDs and credit codes wherever they stand in a log text, before phones', () => {
    // Act
    const text = maskPhonesInText(`holder ${PERSON} of ${COMPANY}, phone 13912345678; ref imp_0123456789abcdef0123`);

    // Assess
    expect(text).toBe('holder 3607**********018X of 9136**********B2CW, phone 139****5678; ref imp_0123456789abcdef0123');
  });

  it('masks IDs and phones inside arrays of a log object too', () => {
    // Act
    const masked = maskPhones({ rows: [`${PERSON} bad`, '13912345678', 7], nested: { id: COMPANY } });

    // Assess
    expect(masked).toEqual({ rows: ['3607**********018X bad', '139****5678', 7], nested: { id: '9136**********B2CW' } });
  });
});
