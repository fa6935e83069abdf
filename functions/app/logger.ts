import { pino } from 'pino';

/** The slice of a structured logger the use cases need; pino and Powertools both fit. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Phone numbers never reach a log unmasked: `phone`, `to` and `sentTo` fields are redacted by pattern. */
export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { service: 'certalarm' },
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        logMethod(args, method) {
          const [first, ...rest] = args;
          if (first !== null && typeof first === 'object') {
            method.apply(this, [maskPhones(first as Record<string, unknown>), ...rest] as Parameters<typeof method>);
          } else {
            method.apply(this, args);
          }
        },
      },
    },
    options.destination as never,
  );
}

const PHONE = /(\+?86)?(1[3-9]\d)(\d{4})(\d{4})/g;

export function maskPhonesInText(text: string): string {
  return text.replace(PHONE, (_m, cc: string | undefined, head: string, _mid: string, tail: string) => `${cc ?? ''}${head}****${tail}`);
}

function maskPhones(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') out[k] = maskPhonesInText(v);
    else if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Error)) out[k] = maskPhones(v as Record<string, unknown>);
    else out[k] = v;
  }
  return out;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
