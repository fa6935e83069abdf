import type { ScanTrigger } from '../../core/ports.js';
import { dueScanPayloadSchema, type DueScanPayload } from '../../core/schedule-payloads.js';
import type { S3SigningConfig } from './s3-signing.js';
import { AwsRequestError, sendSigned } from './signed-request.js';

export class ScanTriggerError extends Error {
  override readonly name = 'ScanTriggerError';
  /** Lambda refused or failed to queue the event; asking again may work. */
  readonly retryable = true;
}

export interface LambdaScanTriggerOptions {
  /** Credentials, region and hash to sign with: the function's DynamoDB client's `config`. */
  signing: S3SigningConfig;
  /** The due-scan function's name (CERTALARM_SCAN_FUNCTION_NAME). */
  functionName: string;
  /** Tests point this at a stand-in (AWS_ENDPOINT_URL_LAMBDA); otherwise the regional Lambda endpoint. */
  endpoint?: string;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * `POST /v1/scans` on AWS: the due-scan function is invoked asynchronously with the payload the
 * Scheduler sends it, so the scan runs with the scan function's SMS permission and time limit, not the
 * API's 29 seconds, and the HTTP function never needs `sns:Publish`. The one Invoke is a signed request
 * (signed-request.ts), as the SDK's InvokeCommand would send it, so the HTTP bundle carries no Lambda client.
 */
export class LambdaScanTrigger implements ScanTrigger {
  constructor(private readonly options: LambdaScanTriggerOptions) {}

  async trigger(payload: DueScanPayload): Promise<void> {
    const body = JSON.stringify(dueScanPayloadSchema.parse(payload));
    const { region } = this.options.signing;
    const base = this.options.endpoint ?? `https://lambda.${typeof region === 'function' ? await region() : region}.amazonaws.com`;
    const url = new URL(`/2015-03-31/functions/${encodeURIComponent(this.options.functionName)}/invocations`, base);
    let response: Response;
    try {
      response = await sendSigned(
        { service: 'lambda', url, headers: { 'content-type': 'application/octet-stream', 'x-amz-invocation-type': 'Event' }, body },
        { signing: this.options.signing, ...(this.options.fetch !== undefined ? { fetch: this.options.fetch } : {}), ...(this.options.sleep !== undefined ? { sleep: this.options.sleep } : {}) },
      );
    } catch (error) {
      if (error instanceof AwsRequestError) throw new ScanTriggerError(`Lambda did not queue the due scan: ${error.message}`, { cause: error });
      throw error;
    }
    await response.body?.cancel();
    // An asynchronous invocation is accepted with 202; anything else means it was not queued.
    if (response.status !== 202) {
      throw new ScanTriggerError(`Lambda answered ${String(response.status)} instead of 202 when queueing the due scan`);
    }
  }
}
