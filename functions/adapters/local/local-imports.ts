import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { SpreadsheetLimits } from '../../core/import-limits.js';
import type { SpreadsheetOpener } from '../../core/ports.js';
import { HttpError } from '../../contracts/http-error.js';
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
