import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Principal } from '../../core/access.js';
import type { SpreadsheetLimits } from '../../core/import-limits.js';
import { createImport, runImport, startResume, type ImportDeps, type SpreadsheetOpener } from '../../app/imports/run-import.js';
import type { ImportSubmitter } from '../../app/http/routes/imports.js';
import { HttpError } from '../../app/http/http.js';
import { spreadsheetOpener } from '../import/import-opener.js';

/** Uploaded files wait in `<data dir>/imports/` until their import finishes, so a restart can resume them. */
export class LocalImportFiles {
  /** `limits`: `settings.importLimits`, what a file may make the service inflate and hold (defaults if unset). */
  constructor(
    readonly dir: string,
    private readonly limits?: SpreadsheetLimits,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** Streams a request body to disk, hashing as it goes, and refuses it past `maxBytes`. */
  spool(body: Readable, maxBytes: number): Promise<{ blobKey: string; bytes: number; sha256: string }> {
    const blobKey = join(this.dir, `${randomUUID()}.upload`);
    const hash = createHash('sha256');
    const out = createWriteStream(blobKey);
    let bytes = 0;
    return new Promise((resolve, reject) => {
      const fail = (error: unknown) => {
        body.unpipe(out);
        body.resume();
        out.destroy();
        void rm(blobKey, { force: true });
        reject(error);
      };
      body.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > maxBytes) {
          fail(new HttpError(413, 'file_too_large', `文件超过 ${maxBytes} 字节的上限 / the file exceeds the import limit of ${maxBytes} bytes; split it into smaller files`));
          return;
        }
        hash.update(chunk);
      });
      body.on('error', fail);
      out.on('error', fail);
      out.on('finish', () => {
        if (bytes <= maxBytes) resolve({ blobKey, bytes, sha256: hash.digest('hex') });
      });
      body.pipe(out);
    });
  }

  opener(): SpreadsheetOpener {
    return spreadsheetOpener((blobKey) => ({ path: blobKey }), this.limits !== undefined ? { limits: this.limits } : {});
  }

  async remove(blobKey: string): Promise<void> {
    await rm(blobKey, { force: true });
  }

  open(blobKey: string): Readable {
    return createReadStream(blobKey);
  }
}

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
    return async (principal: Principal, req, submission) => {
      if (req.upload === undefined) throw new HttpError(400, 'empty_body', 'send the file as the raw request body, with its content type');
      if (req.upload.bytes === 0) throw new HttpError(400, 'empty_body', '上传的文件是空的 / the uploaded file is empty');
      const { record, resumed } = await createImport(this.deps, principal, { ...submission, ...req.upload });
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
