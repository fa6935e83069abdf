import { maskPhones } from '../../core/log-masking.js';
import type { Logger } from '../../core/ports.js';

type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Logs through Lambda's own structured logging: with the function's log format set to JSON, the runtime
 * turns each console call into a JSON record with its level, timestamp and request id, so Lambda needs
 * no logging library in its bundle. Phone numbers are masked before anything is written.
 */
export function lambdaLogger(options: { level?: string; service?: string; sink?: Pick<Console, Level> } = {}): Logger {
  const threshold = options.level === 'silent' ? Number.POSITIVE_INFINITY : (RANK[(options.level as Level | undefined) ?? 'info'] ?? RANK.info);
  const sink = options.sink ?? console;
  const service = options.service ?? 'certalarm';
  const emit = (level: Level) => (obj: object, msg?: string) => {
    if (RANK[level] < threshold) return;
    sink[level]({ service, ...maskPhones({ ...(msg !== undefined ? { msg } : {}), ...(obj as Record<string, unknown>) }) });
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
