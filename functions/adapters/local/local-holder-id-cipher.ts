import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HolderIdCipher } from '../../core/ports.js';
import { AES_SCHEME, aesOpen, aesSeal, isSealed, keyIdOf } from '../aes-holder-id-cipher.js';

/** The file in the data dir that holds the key; back it up with the DynamoDB files, or the IDs are lost. */
export const HOLDER_ID_KEY_FILE = 'holder-id-key';

/**
 * The local key that seals holder IDs: `<data dir>/holder-id-key`, 32 random bytes as hex, readable only by its
 * owner, made on the first start and kept (as the cursor key is). Unlike the cursor key it must never be
 * replaced: the stored IDs can only be read with it.
 */
export function localHolderIdKey(dataDir: string): Uint8Array {
  const file = join(dataDir, HOLDER_ID_KEY_FILE);
  try {
    // 'wx' fails when the file exists, so a second start (or a racing one) never replaces the key.
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const text = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/i.test(text)) {
    throw new Error(`${file} is not a holder-ID key (64 hex digits); restore it from your backup — the stored holder IDs can only be read with the key they were sealed with`);
  }
  return Buffer.from(text, 'hex');
}

/** Local mode: AES-256-GCM under the key file's key. */
export class LocalHolderIdCipher implements HolderIdCipher {
  readonly keyId: string;

  constructor(private readonly key: Uint8Array) {
    this.keyId = keyIdOf(key);
  }

  async seal(plain: string): Promise<string> {
    return aesSeal(AES_SCHEME, this.keyId, this.key, plain);
  }

  async open(stored: string): Promise<string> {
    if (!isSealed(stored)) return stored;
    const [scheme, keyId, nonce = '', sealed = ''] = stored.split(':');
    if (scheme !== AES_SCHEME) throw new Error(`a holder ID sealed with scheme "${scheme ?? ''}" cannot be read by the local key file`);
    if (keyId !== this.keyId) {
      throw new Error(`a holder ID was sealed with key ${keyId ?? ''}, but ${HOLDER_ID_KEY_FILE} holds key ${this.keyId}: restore the key file the data was written with`);
    }
    return aesOpen(AES_SCHEME, this.keyId, this.key, nonce, sealed);
  }
}
