import type { Principal } from '../../core/access.js';
import type { ImportSubmission, ImportSubmitter } from '../../core/ports.js';
import { HttpError } from '../../contracts/http-error.js';
import { createImport, runImport, startResume, type ImportDeps } from '../../app/imports/run-import.js';

/*
 * An entry point, not an adapter: the local counterpart of handlers/import-worker.ts. It drives the
 * import use cases (createImport, startResume, runImport) in this process, so, like the Lambda
 * handlers and the composition roots, it may import from app/ (see eslint.config.js).
 */

/**
 * Runs imports in the background, one at a time, in the order they were submitted; on start it
 * picks up every import a previous run left unfinished.
 */
export class LocalImportWorker {
  private readonly queue: Array<{ id: string; resumed: boolean }> = [];
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: ImportDeps) {}

  /**
   * Queues every import a previous run left unfinished. Each resume is counted when it starts
   * running (see `startResume`), not here: an import still waiting its turn has not been tried.
   */
  async resumeUnfinished(): Promise<string[]> {
    const open = await this.deps.imports.openImports();
    for (const id of open) this.enqueue(id, true);
    return open;
  }

  enqueue(id: string, resumed = false): void {
    if (!this.queue.some((queued) => queued.id === id)) this.queue.push({ id, resumed });
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when the queue is empty (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  stop(): void {
    this.stopped = true;
  }

  submitter(): ImportSubmitter {
    return async (principal: Principal, submission: ImportSubmission) => {
      const { upload, file: _declared, ...rest } = submission;
      if (upload === undefined) throw new HttpError(400, 'empty_body', 'send the file as the raw request body, with its content type');
      if (upload.bytes === 0) throw new HttpError(400, 'empty_body', '上传的文件是空的 / the uploaded file is empty');
      const { record, resumed } = await createImport(this.deps, principal, { ...rest, ...upload });
      this.enqueue(record.id);
      return { id: record.id, resumed, ...(record.sameFileAs !== undefined ? { sameFileAs: record.sameFileAs } : {}) };
    };
  }

  private async drain(): Promise<void> {
    while (!this.stopped) {
      const next = this.queue.shift();
      if (next === undefined) return;
      const { id, resumed } = next;
      try {
        if (resumed && !(await startResume(this.deps, id))) continue;
        await runImport(this.deps, id);
      } catch (error) {
        this.deps.logger.error({ importId: id, err: (error as Error).message }, 'import interrupted; it resumes on the next start');
      }
    }
  }
}
