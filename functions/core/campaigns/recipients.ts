import type { IsoDate } from '../model.js';
import type { Recipient, RecipientCertificate } from './model.js';

/**
 * The phones a visit's notice goes to: every distinct phone among certificates of the campaign's types
 * in the visit's township that expire on or before the season's end (already expired ones included).
 * A renewal is stored as a later expiry on the same certificate (see upload-certificates.ts), so a
 * certificate renewed past the season no longer qualifies. One recipient per phone, however many
 * certificates it holds; certificates are listed in a stable order so the count and the record agree.
 */
export function recipientsOf(certificates: Iterable<RecipientCertificate>, township: string, seasonEnd: IsoDate): Recipient[] {
  const byPhone = new Map<string, Map<string, Recipient['certificates'][number]>>();
  for (const c of certificates) {
    if (c.township !== township || c.expiresOn > seasonEnd) continue;
    let held = byPhone.get(c.phone);
    if (held === undefined) byPhone.set(c.phone, (held = new Map()));
    held.set(`${c.type}#${c.number}`, { type: c.type, number: c.number, expiresOn: c.expiresOn });
  }
  return [...byPhone.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([phone, held]) => ({ phone, certificates: [...held.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, c]) => c) }));
}
