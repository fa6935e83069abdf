import { distance } from 'fastest-levenshtein';

/** Full-width letters, spaces and case differ between a clerk's sheet and the catalogue, but mean nothing. */
function comparable(text: string): string {
  return text.normalize('NFKC').replace(/\s+/g, '').toLowerCase();
}

/** Official names carry qualifiers in brackets (药品经营许可证（零售）) that clerks usually leave out. */
function withoutQualifier(name: string): string {
  return name.replace(/[（(][^）)]*[）)]/g, '');
}

/**
 * The catalogue type an unknown type text most likely meant, by edit distance over the Chinese name
 * (with and without its bracketed qualifier) and the code; a name that contains the text, or is
 * contained in it, counts as close. Nothing is suggested when no candidate is near enough to help:
 * a wrong suggestion would send the clerk to the wrong licence.
 */
export function closestType<T extends { code: string; nameZh: string }>(input: string, types: readonly T[]): T | undefined {
  const wanted = comparable(input);
  if (wanted.length === 0) return undefined;
  let best: { type: T; score: number } | undefined;
  for (const type of types) {
    for (const candidate of new Set([type.code, type.nameZh, withoutQualifier(type.nameZh)].map(comparable))) {
      const edits = distance(wanted, candidate);
      const contained = wanted.length >= 2 && (candidate.includes(wanted) || wanted.includes(candidate));
      const score = contained ? Math.min(edits, Math.abs(candidate.length - wanted.length)) : edits;
      // Up to about a third of the name may differ; beyond that the "match" is a guess.
      if (score > Math.max(1, Math.floor(candidate.length * 0.4))) continue;
      if (best === undefined || score < best.score) best = { type, score };
    }
  }
  return best?.type;
}
