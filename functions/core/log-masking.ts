import type { Logger } from './ports.js';

const PHONE = /(\+?86)?(1[3-9]\d)(\d{4})(\d{4})/g;

/** Phone numbers never reach a log unmasked: `+8613912345678` becomes `+86139****5678`, wherever it appears. */
export function maskPhonesInText(text: string): string {
  return text.replace(PHONE, (_m, cc: string | undefined, head: string, _mid: string, tail: string) => `${cc ?? ''}${head}****${tail}`);
}

export function maskPhones(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') out[k] = maskPhonesInText(v);
    else if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Error)) out[k] = maskPhones(v as Record<string, unknown>);
    else out[k] = v;
  }
  return out;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
