import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The local service key that signs paging cursors: `<data dir>/cursor-key`, 32 random bytes as hex,
 * readable only by its owner, made on the first start and kept, like the admin token, so cursors
 * survive a restart. Deleting the file only invalidates cursors already handed out.
 */
export function localCursorKey(dataDir: string): Uint8Array {
  const file = join(dataDir, 'cursor-key');
  try {
    // 'wx' fails when the file exists, so a second start (or a racing one) never replaces the key.
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const text = readFileSync(file, 'utf8').trim();
  if (!/^(?:[0-9a-f]{2}){32,}$/i.test(text)) {
    throw new Error(`${file} is not a cursor key (at least 64 hex digits); delete it and restart to make a new one`);
  }
  return Buffer.from(text, 'hex');
}
