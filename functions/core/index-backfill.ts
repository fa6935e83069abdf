import type { IsoDate, IsoInstant } from './model.js';

/**
 * Which form of the `byTownshipType` keys the stored certificates carry. A change to that form bumps it,
 * and the backfill, which is done only for the version it finished, walks the table again.
 */
export const TOWNSHIP_TYPE_INDEX_VERSION = 1;

/** How far the backfill of the `byTownshipType` keys got; saved after every page, so a stopped run resumes there. */
export interface IndexBackfillProgress {
  version: number;
  state: 'running' | 'done';
  /** Catalogue types whose certificates have all been walked. */
  typesDone: string[];
  /** Where the walk of the type being walked stopped: that type and the store's cursor in it. */
  position?: { type: string; cursor: string };
  /** Certificates given the keys so far. */
  updated: number;
  /** Certificates found without the keys but rewritten since (they carry their current keys): left alone. */
  skipped: number;
  startedAt: IsoInstant;
  finishedAt?: IsoInstant;
}

/** What the backfill needs of a certificate found without the keys: the keys' inputs, and the version it was read at. */
export interface CertificateIndexSnapshot {
  type: string;
  number: string;
  township: string;
  expiresOn: IsoDate | null;
  /** The certificate's version when read; the keys are set only if it is still that version. */
  version: number | null;
}
