import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM with a random 96-bit nonce per value; the sealed form names the scheme and the key, so a
 * value sealed with another key is refused with a message saying so, never decrypted into garbage.
 *   `<scheme>:<key id>:<nonce, base64url>:<ciphertext and 16-byte tag, base64url>`
 * The additional data binds a value to its scheme and key id (a prefix swapped onto another value fails).
 */
export const AES_SCHEME = 'hid1';

/** Identifies a key without revealing it: the first 8 hex digits of a SHA-256 over a fixed label and the key. */
export function keyIdOf(key: Uint8Array): string {
  return createHash('sha256').update('certalarm holder-id key id\n').update(key).digest('hex').slice(0, 8);
}

export function aesSeal(scheme: string, keyId: string, key: Uint8Array, plain: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(`${scheme}:${keyId}`));
  const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${scheme}:${keyId}:${nonce.toString('base64url')}:${sealed.toString('base64url')}`;
}

/** The plain text of `aesSeal`'s output; throws when the value was altered or the key is not the one it was sealed with. */
export function aesOpen(scheme: string, keyId: string, key: Uint8Array, nonceText: string, sealedText: string): string {
  const sealed = Buffer.from(sealedText, 'base64url');
  if (sealed.length < 17) throw new Error('a sealed holder ID is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonceText, 'base64url'));
  decipher.setAAD(Buffer.from(`${scheme}:${keyId}`));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]).toString('utf8');
}

/** Holder IDs are `[0-9A-Z]`, never with a colon: a stored value without one is a bare ID stored before encryption. */
export function isSealed(stored: string): boolean {
  return stored.includes(':');
}
