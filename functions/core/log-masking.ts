import type { Logger } from './ports.js';

const PHONE = /(\+?86)?(1[3-9]\d)(\d{4})(\d{4})/g;

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
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') out[k] = maskPhonesInText(v);
    else if (Array.isArray(v)) out[k] = v.map((item: unknown) => (typeof item === 'string' ? maskPhonesInText(item) : item));
    else if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Error)) out[k] = maskPhones(v as Record<string, unknown>);
    else out[k] = v;
  }
  return out;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
