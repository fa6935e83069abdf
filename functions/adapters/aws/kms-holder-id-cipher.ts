import type { HolderIdCipher } from '../../core/ports.js';
import { aesOpen, aesSeal, isSealed } from '../aes-holder-id-cipher.js';
import { KmsError, kmsJson, type KmsEndpoint } from './kms-json.js';

export interface KmsHolderIdCipherOptions extends KmsEndpoint {
  /** The symmetric KMS key the stack made for holder IDs (CERTALARM_HOLDER_ID_KMS_KEY_ID). */
  keyId: string;
}

export const KMS_SCHEME = 'kms1';

/**
 * Bound to every data key; the functions' grants require it, so the key serves holder IDs and nothing else.
 */
export const HOLDER_ID_ENCRYPTION_CONTEXT = { purpose: 'certalarm-holder-id' } as const;

interface DataKey {
  plaintext: Buffer;
  /** The data key encrypted under the KMS key, base64url: stored in every value it sealed. */
  encrypted: string;
}

/**
 * Envelope encryption on AWS: one data key per cold start from KMS GenerateDataKey (asked for on the
 * first seal only, so a function that only reads never makes one), used with AES-256-GCM locally; the
 * encrypted data key travels inside each sealed value (`kms1:<encrypted data key>:<nonce>:<ciphertext>`).
 * Opening a value asks KMS Decrypt once per distinct data key and keeps the answer for the cold start,
 * so reading a page of certificates written by a few cold starts costs a few KMS calls, not one per item.
 */
export class KmsHolderIdCipher implements HolderIdCipher {
  #dataKey: Promise<DataKey> | undefined;
  readonly #opened = new Map<string, Promise<Buffer>>();

  constructor(private readonly options: KmsHolderIdCipherOptions) {}

  async seal(plain: string): Promise<string> {
    const key = await this.dataKey();
    return aesSeal(KMS_SCHEME, key.encrypted, key.plaintext, plain);
  }

  async open(stored: string): Promise<string> {
    if (!isSealed(stored)) return stored;
    const [scheme, encrypted = '', nonce = '', sealed = ''] = stored.split(':');
    if (scheme !== KMS_SCHEME) throw new Error(`a holder ID sealed with scheme "${scheme ?? ''}" cannot be read with KMS (a local key file sealed it)`);
    return aesOpen(KMS_SCHEME, encrypted, await this.decryptDataKey(encrypted), nonce, sealed);
  }

  private dataKey(): Promise<DataKey> {
    this.#dataKey ??= this.call<{ Plaintext?: unknown; CiphertextBlob?: unknown }>('GenerateDataKey', {
      KeyId: this.options.keyId,
      KeySpec: 'AES_256',
      EncryptionContext: HOLDER_ID_ENCRYPTION_CONTEXT,
    }).then((answer) => {
      if (typeof answer.Plaintext !== 'string' || typeof answer.CiphertextBlob !== 'string') throw new Error('KMS GenerateDataKey answered without a key');
      const encrypted = Buffer.from(answer.CiphertextBlob, 'base64').toString('base64url');
      const plaintext = Buffer.from(answer.Plaintext, 'base64');
      // This instance opens what it sealed without asking KMS again.
      this.#opened.set(encrypted, Promise.resolve(plaintext));
      return { plaintext, encrypted };
    });
    this.#dataKey.catch(() => (this.#dataKey = undefined));
    return this.#dataKey;
  }

  private decryptDataKey(encrypted: string): Promise<Buffer> {
    let key = this.#opened.get(encrypted);
    if (key === undefined) {
      key = this.call<{ Plaintext?: unknown }>('Decrypt', {
        KeyId: this.options.keyId,
        CiphertextBlob: Buffer.from(encrypted, 'base64url').toString('base64'),
        EncryptionContext: HOLDER_ID_ENCRYPTION_CONTEXT,
      }).then((answer) => {
        if (typeof answer.Plaintext !== 'string') throw new Error('KMS Decrypt answered without a key');
        return Buffer.from(answer.Plaintext, 'base64');
      });
      key.catch(() => this.#opened.delete(encrypted));
      this.#opened.set(encrypted, key);
    }
    return key;
  }

  private async call<T extends object>(operation: string, request: object): Promise<T> {
    try {
      return await kmsJson<T>(this.options, operation, request);
    } catch (error) {
      if (error instanceof KmsError) throw new Error(`KMS ${operation} on the holder-ID key ${this.options.keyId} failed: ${error.message}`, { cause: error });
      throw error;
    }
  }
}
