import { pino } from 'pino';
import { maskPhones, maskPhonesInText } from '../core/log-masking.js';
import type { Logger } from '../core/ports.js';

export { maskPhonesInText, silentLogger } from '../core/log-masking.js';
export type { Logger } from '../core/ports.js';

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
          // The message too: a constant today, but one built from a value must not carry a number out.
          const masked = rest.map((arg: unknown) => (typeof arg === 'string' ? maskPhonesInText(arg) : arg));
          if (first !== null && typeof first === 'object') {
            method.apply(this, [maskPhones(first as Record<string, unknown>), ...masked] as Parameters<typeof method>);
          } else {
            method.apply(this, [typeof first === 'string' ? maskPhonesInText(first) : first, ...masked] as Parameters<typeof method>);
          }
        },
      },
    },
    options.destination as never,
  );
}

