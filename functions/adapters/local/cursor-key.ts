import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The local service key that signs paging cursors: `<data dir>/cursor-key`, 32 random bytes as hex,
 * readable only by its owner, made on the first start and kept, like the admin token, so cursors
 * survive a restart. Deleting the file only invalidates cursors already handed out.
 */
export function localCursorKey(dataDir: string): Uint8Array {
  return localServiceKey(dataDir, 'cursor-key', 'a cursor key');
}

/**
 * The local key of the phone search hash (`<data dir>/phone-hash-key`), made and kept the same way.
 * Unlike the cursor key it must outlive every delivery: a new key makes the stored hashes unmatchable,
 * so `phone=` would find only deliveries sent after it was made.
 */
export function localPhoneHashKey(dataDir: string): Uint8Array {
  return localServiceKey(dataDir, 'phone-hash-key', 'a phone-hash key');
}

function localServiceKey(dataDir: string, name: string, what: string): Uint8Array {
  const file = join(dataDir, name);
  try {
    // 'wx' fails when the file exists, so a second start (or a racing one) never replaces the key.
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const text = readFileSync(file, 'utf8').trim();
  if (!/^(?:[0-9a-f]{2}){32,}$/i.test(text)) {
    throw new Error(`${file} is not ${what} (at least 64 hex digits); delete it and restart to make a new one`);
  }
  return Buffer.from(text, 'hex');
}
