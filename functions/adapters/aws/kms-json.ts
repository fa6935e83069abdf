import { SignatureV4 } from '@smithy/signature-v4';
import type { S3SigningConfig } from './s3-signing.js';

export interface KmsEndpoint {
  /** Credentials, region and hash to sign with: the function's DynamoDB client's `config`. */
  signing: S3SigningConfig;
  /** Tests point this at a fake; otherwise the regional KMS endpoint. */
  endpoint?: string;
  fetch?: typeof fetch;
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
 * One KMS JSON call, signed with SigV4 and sent with fetch: the few KMS operations certalarm uses do not
 * justify bundling the KMS client into every function (see the bundle figures in the README).
 */
export async function kmsJson<T extends object>(kms: KmsEndpoint, operation: string, request: object): Promise<T> {
  const { credentials, region, sha256 } = kms.signing;
  const resolvedRegion = typeof region === 'function' ? await region() : region;
  const url = new URL(kms.endpoint ?? `https://kms.${resolvedRegion}.amazonaws.com/`);
  const body = JSON.stringify(request);
  const signer = new SignatureV4({ credentials, region: resolvedRegion, service: 'kms', sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port !== '' ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: {},
    headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${operation}` },
    body,
  });
  const response = await (kms.fetch ?? fetch)(url, { method: 'POST', headers: signed.headers, body });
  const answer = (await response.json().catch(() => ({}))) as T & { __type?: unknown; message?: unknown; Message?: unknown };
  if (!response.ok) {
    const code = typeof answer.__type === 'string' ? (answer.__type.split('#').pop() ?? '') : `HTTP ${response.status}`;
    throw new KmsError(operation, code, String(answer.message ?? answer.Message ?? ''));
  }
  return answer;
}
