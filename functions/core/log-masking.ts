import type { Logger } from './ports.js';

// People write numbers in groups (139 0000 0001, 139-0000-0001, +86 139…): those are masked too.
const PHONE = /(\+?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})/g;

/**
 * 18-character holder IDs: a resident ID (17 digits and a digit or X, GB 11643) or a unified social credit
 * code (GB 32100: two code characters, a six-digit region, ten code characters), standing on their own.
 */
const HOLDER_ID = /(?<![0-9A-Za-z])(\d{17}[\dXx]|[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10})(?![0-9A-Za-z])/g;

/** Holder IDs never reach a log: `360732198001011234` becomes `3607**********1234`, wherever it appears. */
export function maskHolderIdsInText(text: string): string {
  return text.replace(HOLDER_ID, (id: string) => `${id.slice(0, 4)}${'*'.repeat(10)}${id.slice(-4)}`);
}

/**
 * Phone numbers never reach a log unmasked: `+8613912345678` becomes `+86139****5678`, wherever it
 * appears; holder IDs are masked first, so the digits inside a resident ID are not taken for a phone.
 */
export function maskPhonesInText(text: string): string {
  return maskHolderIdsInText(text).replace(PHONE, (_m, cc: string | undefined, head: string, _mid: string, tail: string) => `${cc ?? ''}${head}****${tail}`);
}

export function maskPhones(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskValue(v);
  return out;
}

/** Strings, and the strings inside arrays and plain objects at any depth (rows refused, lists of messages). */
function maskValue(value: unknown): unknown {
  if (typeof value === 'string') return maskPhonesInText(value);
  if (Array.isArray(value)) return value.map(maskValue);
  if (value !== null && typeof value === 'object' && !(value instanceof Error)) return maskPhones(value as Record<string, unknown>);
  return value;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
