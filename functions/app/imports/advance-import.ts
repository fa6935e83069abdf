import { ImportFailure } from '../../core/import-failure.js';
import type { ImportContinuationQueue } from '../../core/ports.js';
import { runImport, type ImportDeps } from './run-import.js';

export interface AdvanceImportDeps extends ImportDeps {
  continuations: ImportContinuationQueue;
}

/**
 * What one worker invocation did with an import:
 *   done / failed  the import reached its end;
 *   continued      it paused at `stopAtMs`, and the rest is queued as a continuation;
 *   skipped        nothing to do here: the import does not exist, or another worker holds it.
 */
export type AdvanceOutcome = 'done' | 'failed' | 'continued' | 'skipped';

/**
 * Run an import for as long as this invocation may, then hand the rest on. A big file is thus
 * imported in slices across invocations, each resuming from the checkpoint in the import record.
 *
 * Retrying is left to the queue: an unexpected error (DynamoDB or S3 unavailable, a crash) is
 * rethrown, the message comes back after its visibility timeout, and `runImport` resumes from the
 * checkpoint without losing or double-counting a row.
 */
export async function advanceImport(deps: AdvanceImportDeps, importId: string, options: { stopAtMs: number }): Promise<AdvanceOutcome> {
  let state: Awaited<ReturnType<typeof runImport>>;
  try {
    state = await runImport(deps, importId, options);
  } catch (error) {
    // Neither is cured by a retry. A missing record has nothing to run. A concurrent worker saved
    // the record first: it carries the import on (and its own message is redelivered if it dies).
    if (error instanceof ImportFailure && (error.code === 'not_found' || error.code === 'concurrent_worker')) {
      deps.logger.warn({ importId, reason: error.code }, 'import message skipped');
      return 'skipped';
    }
    throw error;
  }
  if (state === 'paused') {
    await deps.continuations.continueLater({ kind: 'importContinue', importId });
    deps.logger.info({ importId }, 'import paused; the rest is queued');
    return 'continued';
  }
  return state === 'failed' ? 'failed' : 'done';
}
