import { pino } from 'pino';
import { maskPhones } from '../core/log-masking.js';
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

