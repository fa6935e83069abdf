import { createHmac } from 'node:crypto';
import type { PhoneHasher } from '../../core/ports.js';

// Distinguishes this MAC from any other the same key might ever sign.
const CONTEXT = 'certalarm phone search v1\n';

/**
 * HMAC-SHA256 of an E.164 number under a service key (`<data dir>/phone-hash-key` locally, a KMS
 * HMAC key on AWS). Without the key the hash cannot be reversed by trying every mainland mobile
 * (there are only about 10^10), which a plain hash could be.
 */
export class HmacPhoneHasher implements PhoneHasher {
  #key: Promise<Uint8Array> | undefined;

  constructor(private readonly serviceKey: () => Promise<Uint8Array>) {}

  private key(): Promise<Uint8Array> {
    this.#key ??= this.serviceKey().then((key) => {
      if (key.length < 32) throw new Error(`the phone-hash service key has ${key.length} bytes; it needs at least 32`);
      return key;
    });
    this.#key.catch(() => (this.#key = undefined));
    return this.#key;
  }

  async hash(e164: string): Promise<string> {
    return createHmac('sha256', await this.key()).update(CONTEXT).update(e164).digest('base64url').slice(0, 32);
  }
}
