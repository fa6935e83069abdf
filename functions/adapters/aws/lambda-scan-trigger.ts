import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { ScanTrigger } from '../../core/ports.js';
import { dueScanPayloadSchema, type DueScanPayload } from '../../core/schedule-payloads.js';

export class ScanTriggerError extends Error {
  override readonly name = 'ScanTriggerError';
  /** Lambda refused or failed to queue the event; asking again may work. */
  readonly retryable = true;
}

/**
 * `POST /v1/scans` on AWS: the due-scan function is invoked asynchronously with the payload the
 * Scheduler sends it, so the scan runs with the scan function's SMS permission and time limit, not the
 * API's 29 seconds, and the HTTP function never needs `sns:Publish`.
 */
export class LambdaScanTrigger implements ScanTrigger {
  constructor(private readonly options: { client: LambdaClient; functionName: string }) {}

  async trigger(payload: DueScanPayload): Promise<void> {
    const body = dueScanPayloadSchema.parse(payload);
    const result = await this.options.client.send(
      new InvokeCommand({
        FunctionName: this.options.functionName,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify(body)),
      }),
    );
    // An asynchronous invocation is accepted with 202; anything else means it was not queued.
    if (result.StatusCode !== 202) {
      throw new ScanTriggerError(`Lambda answered ${String(result.StatusCode)} instead of 202 when queueing the due scan`);
    }
  }
}
