import type { S3SigningConfig } from './s3-signing.js';
import { AwsRequestError, sendSigned } from './signed-request.js';

export interface KmsEndpoint {
  /** Credentials, region and hash to sign with: the function's DynamoDB client's `config`. */
  signing: S3SigningConfig;
  /** Tests point this at a fake; otherwise the regional KMS endpoint. */
  endpoint?: string;
  fetch?: typeof fetch;
  /** Waits between attempts; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
}

/** KMS's answer to a refused call: its error type and message. */
export class KmsError extends Error {
  override readonly name = 'KmsError';
  constructor(
    readonly operation: string,
    readonly code: string,
    message: string,
  ) {
    super(`${code} ${message}`.trim());
  }
}

/**
 * One KMS JSON call through the shared signed request (SigV4, the SDK's three attempts): the few KMS
 * operations certalarm uses do not justify bundling the KMS client into every function (see the bundle
 * figures in the README).
 */
export async function kmsJson<T extends object>(kms: KmsEndpoint, operation: string, request: object): Promise<T> {
  const region = typeof kms.signing.region === 'function' ? await kms.signing.region() : kms.signing.region;
  const url = new URL(kms.endpoint ?? `https://kms.${region}.amazonaws.com/`);
  try {
    const response = await sendSigned(
      { service: 'kms', url, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${operation}` }, body: JSON.stringify(request) },
      { signing: kms.signing, ...(kms.fetch !== undefined ? { fetch: kms.fetch } : {}), ...(kms.sleep !== undefined ? { sleep: kms.sleep } : {}) },
    );
    return (await response.json().catch(() => ({}))) as T;
  } catch (error) {
    if (error instanceof AwsRequestError) {
      const detail = error.message.includes(': ') ? error.message.slice(error.message.indexOf(': ') + 2) : '';
      throw new KmsError(operation, error.code ?? `HTTP ${error.status}`, detail);
    }
    throw error;
  }
}
