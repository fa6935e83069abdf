/**
 * Fixture builders for holder identifiers. The checksums are written out again here, independently
 * of functions/core/holder-id.ts, so a test cannot pass merely because both sides share a bug.
 */

const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';

/** Completes 17 characters of a unified social credit code with its GB 32100-2015 check character. */
export function withUsccCheck(first17: string): string {
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const value = USCC_CHARS.indexOf(first17.charAt(i));
    if (value < 0) throw new Error(`not a USCC character: ${first17.charAt(i)}`);
    sum += value * weights[i]!;
  }
  return first17 + USCC_CHARS.charAt((31 - (sum % 31)) % 31);
}

/** Completes 17 digits of a resident identity number with its GB 11643-1999 check character. */
export function withResidentIdCheck(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17.charAt(i)) * weights[i]!;
  return first17 + '10X98765432'.charAt(sum % 11);
}

/** The same identifier with its last character replaced by a different valid-looking one. */
export function withWrongCheck(id: string): string {
  const last = id.charAt(17);
  return id.slice(0, 17) + (last === '1' ? '2' : '1');
}
