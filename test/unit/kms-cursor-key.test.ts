import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { kmsCursorKey } from '../../functions/adapters/aws/kms-cursor-key.js';

// The runtime signs with its DynamoDB client's resolved config, which has to sign for kms, not dynamodb.
const SIGNING = new DynamoDBClient({ region: 'ap-southeast-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }).config;
const KEY_ID = 'arn:aws:kms:ap-southeast-1:123456789012:key/11111111-2222-3333-4444-555555555555';

/** A fetch that records the request and answers as KMS would. */
function fakeKms(status: number, answer: unknown) {
  const calls: Array<{ url: string; headers: Record<string, string>; body: string }> = [];
  const fetch = (async (url: URL, init: RequestInit) => {
    calls.push({ url: String(url), headers: init.headers as Record<string, string>, body: String(init.body) });
    return new Response(JSON.stringify(answer), { status });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}

describe('Function: kmsCursorKey', () => {
  it('derives the key as KMS GenerateMac of a fixed message, in one signed JSON call to the regional endpoint', async () => {
    // Prepare
    const mac = Buffer.alloc(32, 7);
    const kms = fakeKms(200, { KeyId: KEY_ID, Mac: mac.toString('base64'), MacAlgorithm: 'HMAC_SHA_256' });

    // Act
    const key = await kmsCursorKey({ signing: SIGNING, keyId: KEY_ID, fetch: kms.fetch });

    // Assess
    expect(Buffer.from(key)).toEqual(mac);
    expect(kms.calls).toHaveLength(1);
    const [call] = kms.calls;
    expect(call?.url).toBe('https://kms.ap-southeast-1.amazonaws.com/');
    expect(call?.headers['x-amz-target']).toBe('TrentService.GenerateMac');
    expect(call?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/ap-southeast-1\/kms\/aws4_request/);
    expect(JSON.parse(call?.body ?? '{}')).toEqual({ KeyId: KEY_ID, Message: Buffer.from('certalarm paging cursor key v1').toString('base64'), MacAlgorithm: 'HMAC_SHA_256' });
  });

  it('throws naming KMS’s error when the call is refused', async () => {
    // Prepare
    const kms = fakeKms(400, { __type: 'com.amazonaws.kms#AccessDeniedException', message: 'not authorized to perform kms:GenerateMac' });

    // Act
    const attempt = kmsCursorKey({ signing: SIGNING, keyId: KEY_ID, fetch: kms.fetch });

    // Assess
    await expect(attempt).rejects.toThrow('AccessDeniedException not authorized to perform kms:GenerateMac');
  });
});
