/**
 * Booking codes: what a holder types in an SMS reply or tells the service desk. Six characters from
 * an alphabet without look-alikes (no 0/O, 1/I/L), so a code read aloud or copied by hand is not
 * mistaken for another. Uniqueness within a campaign is the store's to enforce (a conditional put);
 * on a clash the caller draws again.
 */
export const BOOKING_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const BOOKING_CODE_LENGTH = 6;
export const BOOKING_CODE_PATTERN = new RegExp(`^[${BOOKING_CODE_ALPHABET}]{${BOOKING_CODE_LENGTH}}$`);

/**
 * A code from random bytes (at least six). Codes are not derived from the phone or the visit: knowing
 * one holder's code says nothing about another's. A byte maps onto the 31 letters with a bias of at
 * most one in eight, harmless for codes that are checked against their owner anyway.
 */
export function bookingCodeFrom(bytes: Uint8Array): string {
  if (bytes.length < BOOKING_CODE_LENGTH) throw new RangeError(`a booking code needs ${BOOKING_CODE_LENGTH} random bytes, got ${bytes.length}`);
  let code = '';
  for (let i = 0; i < BOOKING_CODE_LENGTH; i += 1) code += BOOKING_CODE_ALPHABET[(bytes[i] ?? 0) % BOOKING_CODE_ALPHABET.length];
  return code;
}

/** A code as people type it: case and surrounding spaces do not matter; look-alikes are not guessed. */
export function normaliseBookingCode(input: string): string | undefined {
  const code = input.normalize('NFKC').trim().toUpperCase();
  return BOOKING_CODE_PATTERN.test(code) ? code : undefined;
}
