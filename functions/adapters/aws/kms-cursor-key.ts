import { KmsError, kmsJson, type KmsEndpoint } from './kms-json.js';

export interface KmsCursorKeyOptions extends KmsEndpoint {
  /** The HMAC_256 KMS key the stack made for cursors (CERTALARM_CURSOR_KMS_KEY_ID). */
  keyId: string;
  /** What the key is derived from; each purpose has its own (the phone-hash key uses PHONE_HASH_DERIVATION_MESSAGE). */
  message?: string;
}

/** The fixed message whose MAC is the cursor key: the same on every instance, and only KMS can make it. */
const DERIVATION_MESSAGE = 'certalarm paging cursor key v1';
/** The phone search hash's key is derived the same way, under its own KMS key (CERTALARM_PHONE_HASH_KMS_KEY_ID). */
export const PHONE_HASH_DERIVATION_MESSAGE = 'certalarm phone search key v1';

/**
 * The key that signs paging cursors on AWS, derived once per cold start as KMS's HMAC-SHA256 of a
 * fixed message under an HMAC_256 key the stack owns. Every instance derives the same key, the
 * key material never leaves KMS, the function needs only kms:GenerateMac on that one key, and
 * nothing secret sits in the environment. The one JSON call is signed and sent with fetch, as the
 * S3 requests are, so the bundle carries no KMS client.
 */
export async function kmsCursorKey(options: KmsCursorKeyOptions): Promise<Uint8Array> {
  let answer: { Mac?: unknown };
  try {
    answer = await kmsJson<{ Mac?: unknown }>(options, 'GenerateMac', {
      KeyId: options.keyId,
      Message: Buffer.from(options.message ?? DERIVATION_MESSAGE).toString('base64'),
      MacAlgorithm: 'HMAC_SHA_256',
    });
  } catch (error) {
    if (error instanceof KmsError) throw new Error(`KMS GenerateMac on the key ${options.keyId} failed: ${error.message}`, { cause: error });
    throw error;
  }
  if (typeof answer.Mac !== 'string') throw new Error(`KMS GenerateMac on the key ${options.keyId} failed: the answer has no Mac`);
  return Buffer.from(answer.Mac, 'base64');
}
