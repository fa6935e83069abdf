import { SignatureV4 } from '@smithy/signature-v4';
import type { S3SigningConfig } from './s3-signing.js';

export interface KmsCursorKeyOptions {
  /** Credentials, region and hash to sign with: the function's DynamoDB client's `config`. */
  signing: S3SigningConfig;
  /** The HMAC_256 KMS key the stack made for cursors (CERTALARM_CURSOR_KMS_KEY_ID). */
  keyId: string;
  /** Tests point this at a fake; otherwise the regional KMS endpoint. */
  endpoint?: string;
  /** What the key is derived from; each purpose has its own (the phone-hash key uses PHONE_HASH_DERIVATION_MESSAGE). */
  message?: string;
  fetch?: typeof fetch;
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
  const { credentials, region, sha256 } = options.signing;
  const resolvedRegion = typeof region === 'function' ? await region() : region;
  const url = new URL(options.endpoint ?? `https://kms.${resolvedRegion}.amazonaws.com/`);
  const body = JSON.stringify({ KeyId: options.keyId, Message: Buffer.from(options.message ?? DERIVATION_MESSAGE).toString('base64'), MacAlgorithm: 'HMAC_SHA_256' });
  const signer = new SignatureV4({ credentials, region: resolvedRegion, service: 'kms', sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port !== '' ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: {},
    headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.GenerateMac' },
    body,
  });
  const response = await (options.fetch ?? fetch)(url, { method: 'POST', headers: signed.headers, body });
  const answer = (await response.json().catch(() => ({}))) as { Mac?: unknown; __type?: unknown; message?: unknown; Message?: unknown };
  if (!response.ok || typeof answer.Mac !== 'string') {
    const code = typeof answer.__type === 'string' ? answer.__type.split('#').pop() : `HTTP ${response.status}`;
    throw new Error(`KMS GenerateMac on the key ${options.keyId} failed: ${code} ${String(answer.message ?? answer.Message ?? '')}`.trim());
  }
  return Buffer.from(answer.Mac, 'base64');
}
