import type { Context, SQSEvent } from 'aws-lambda';
import { advanceImport, type AdvanceOutcome } from '../app/imports/advance-import.js';
import { parseImportMessage } from '../core/import-messages.js';
import { importWorkerDeps } from './import-worker-runtime.js';

/** Stop starting new chunks this long before the invocation's end: the last chunk and the hand-off must fit. */
const SAFETY_MARGIN_MS = 60_000;

/**
 * The import queue (batch size 1) → advance each import it names by one invocation's worth.
 * An S3 test event is acknowledged and dropped; a message that is not ours throws and, after the
 * queue's receive limit, lands in the dead-letter queue (alarmed).
 */
export async function handler(event: SQSEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<Record<string, AdvanceOutcome>> {
  const deps = importWorkerDeps();
  // The invocation's remaining time, as an instant on the composition's clock.
  const stopAtMs = deps.clock.now().toMillis() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS;
  const outcomes: Record<string, AdvanceOutcome> = {};
  for (const record of event.Records) {
    const message = parseImportMessage(record.body);
    if (message.kind === 'ignore') {
      deps.logger.info({ messageId: record.messageId, reason: message.reason }, 'queue message ignored');
      continue;
    }
    for (const importId of message.importIds) {
      outcomes[importId] = await advanceImport(deps, importId, { stopAtMs });
    }
  }
  return outcomes;
}
