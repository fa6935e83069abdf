import { pino } from 'pino';
import { maskPhones, type Logger } from './log-masking.js';

export { maskPhonesInText, silentLogger, type Logger } from './log-masking.js';

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

