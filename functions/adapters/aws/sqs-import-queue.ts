import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { importContinueMessageSchema, type ImportContinueMessage } from '../../core/import-messages.js';
import type { ImportContinuationQueue } from '../../core/ports.js';

/** Continuations go to the import queue itself; the same worker receives them. */
export class SqsImportQueue implements ImportContinuationQueue {
  constructor(private readonly options: { client: SQSClient; queueUrl: string }) {}

  async continueLater(message: ImportContinueMessage): Promise<void> {
    // Parsed on the way out with the schema the worker parses it with on the way in.
    const body = importContinueMessageSchema.parse(message);
    await this.options.client.send(new SendMessageCommand({ QueueUrl: this.options.queueUrl, MessageBody: JSON.stringify(body) }));
  }
}
