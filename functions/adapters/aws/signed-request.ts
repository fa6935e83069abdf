import { SignatureV4 } from '@smithy/signature-v4';
import type { S3SigningConfig } from './s3-signing.js';

/**
 * One AWS API call, signed with SigV4 and sent with Node's fetch. The functions call Lambda and SQS for
 * one operation each (and KMS for one, in kms-cursor-key.ts); an SDK client per service would add its
 * protocol, endpoint rules and error classes to the bundle (about 70 KiB for Lambda, 25 KiB for SQS),
 * and every cold start would evaluate them. Credentials, region and hash come from the function's
 * DynamoDB client.
 */
export interface SignedRequest {
  /** `kms`, `lambda`, `sqs`: the signing name. */
  service: string;
  url: URL;
  /** Sent as given and signed, with `host` added. */
  headers: Record<string, string>;
  body: string;
}

export interface SignedRequestOptions {
  /** Credentials, region and hash to sign with: the function's DynamoDB client's `config`. */
  signing: S3SigningConfig;
  fetch?: typeof fetch;
  /** Waits between attempts; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
}

/** The SDK's standard retry: three attempts in all. */
const MAX_ATTEMPTS = 3;
const BASE_DELAY_MS = 100;
/** Error codes (the part after `#`, or the whole `__type`) that mean "slow down" whatever the status. */
const THROTTLING = /Throttl|TooManyRequests|RequestLimitExceeded|SlowDown/;

/** An AWS answer that is not a success, with the service's error code and message when it gave them. */
export class AwsRequestError extends Error {
  override readonly name = 'AwsRequestError';

  constructor(
    readonly service: string,
    readonly status: number,
    readonly code: string | undefined,
    readonly retryable: boolean,
    detail: string,
  ) {
    super(`${service} answered HTTP ${status}${code !== undefined ? ` ${code}` : ''}${detail !== '' ? `: ${detail}` : ''}`);
  }
}

/**
 * Sends the request and returns the successful response. As the SDK's standard retry does, a throttled
 * request, a server error (5xx) or a network failure is tried again, up to three attempts in all, after
 * a jittered exponential wait; any other answer throws at once. The request is signed again each time.
 */
export async function sendSigned(request: SignedRequest, options: SignedRequestOptions): Promise<Response> {
  const { credentials, region, sha256 } = options.signing;
  const resolvedRegion = typeof region === 'function' ? await region() : region;
  const signer = new SignatureV4({ credentials, region: resolvedRegion, service: request.service, sha256 });
  const send = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt += 1) {
    const signed = await signer.sign({
      method: 'POST',
      protocol: request.url.protocol,
      hostname: request.url.hostname,
      ...(request.url.port !== '' ? { port: Number(request.url.port) } : {}),
      path: request.url.pathname,
      query: {},
      headers: { ...request.headers, host: request.url.host },
      body: request.body,
    });
    let failure: unknown;
    try {
      const response = await send(request.url, { method: 'POST', headers: signed.headers, body: request.body });
      if (response.ok) return response;
      failure = await errorOf(request.service, response);
    } catch (error) {
      // fetch rejects only when no answer came (DNS, connection, reset): the request may be tried again.
      failure = error;
    }
    const retryable = failure instanceof AwsRequestError ? failure.retryable : true;
    if (!retryable || attempt >= MAX_ATTEMPTS) throw failure;
    await sleep(Math.random() * BASE_DELAY_MS * 2 ** (attempt - 1));
  }
}

/** The error an AWS JSON or REST-JSON service put in its answer: `__type` or the error-type header, and `message`. */
async function errorOf(service: string, response: Response): Promise<AwsRequestError> {
  const text = await response.text().catch(() => '');
  let answer: { __type?: unknown; code?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    // Not JSON (a proxy's page, an empty body): the status says enough.
  }
  const rawCode = response.headers.get('x-amzn-errortype') ?? (typeof answer.__type === 'string' ? answer.__type : typeof answer.code === 'string' ? answer.code : undefined);
  const code = rawCode?.split(':')[0]?.split('#').pop();
  const message = answer.message ?? answer.Message;
  const retryable = response.status === 429 || response.status >= 500 || (code !== undefined && THROTTLING.test(code));
  return new AwsRequestError(service, response.status, code, retryable, typeof message === 'string' ? message : '');
}
