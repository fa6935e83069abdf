import { createHash } from 'node:crypto';
import { importContinueMessageSchema, type ImportContinueMessage } from '../../core/import-messages.js';
import type { ImportContinuationQueue } from '../../core/ports.js';
import type { S3SigningConfig } from './s3-signing.js';
import { sendSigned } from './signed-request.js';

export interface SqsImportQueueOptions {
  /** Credentials, region and hash to sign with: the function's DynamoDB client's `config`. */
  signing: S3SigningConfig;
  /** The import queue (CERTALARM_IMPORT_QUEUE_URL); its origin is the endpoint, as the SDK uses it. */
  queueUrl: string;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Continuations go to the import queue itself; the same worker receives them. SendMessage is one signed
 * request in SQS's JSON protocol (signed-request.ts), checked as the SDK checks it (the MD5 of the body
 * SQS stored must be the body's), so the worker's bundle carries no SQS client.
 */
export class SqsImportQueue implements ImportContinuationQueue {
  constructor(private readonly options: SqsImportQueueOptions) {}

  async continueLater(message: ImportContinueMessage): Promise<void> {
    // Parsed on the way out with the schema the worker parses it with on the way in.
    const messageBody = JSON.stringify(importContinueMessageSchema.parse(message));
    const { queueUrl, signing } = this.options;
    const response = await sendSigned(
      {
        service: 'sqs',
        url: new URL('/', queueUrl),
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' },
        body: JSON.stringify({ QueueUrl: queueUrl, MessageBody: messageBody }),
      },
      { signing, ...(this.options.fetch !== undefined ? { fetch: this.options.fetch } : {}), ...(this.options.sleep !== undefined ? { sleep: this.options.sleep } : {}) },
    );
    const answer = (await response.json().catch(() => ({}))) as { MD5OfMessageBody?: unknown };
    const expected = createHash('md5').update(messageBody).digest('hex');
    if (answer.MD5OfMessageBody !== expected) {
      throw new Error(`SQS SendMessage to ${queueUrl}: the MD5 of the stored body (${String(answer.MD5OfMessageBody)}) is not the sent body's (${expected})`);
    }
  }
}
