import { DateTime } from 'luxon';
import * as z from 'zod';
import { HttpError, type HttpRequest } from './http.js';
import { instantInShanghai } from '../../core/time.js';

export const isoInstant = z
  .string()
  .refine((s) => instantInShanghai(s).isValid, 'not an ISO-8601 instant, e.g. 2026-12-01T10:00:00+08:00');
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'use YYYY-MM-DD')
  .refine((s) => DateTime.fromISO(s).isValid, 'not a real date');

export function parseJsonBody(req: HttpRequest): unknown {
  if (req.body === undefined || req.body.trim() === '') throw new HttpError(400, 'empty_body', 'the request needs a JSON body');
  try {
    return JSON.parse(req.body) as unknown;
  } catch (error) {
    throw new HttpError(400, 'invalid_json', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

export function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new HttpError(
    400,
    'invalid_request',
    `invalid ${what}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    parsed.error.issues.map((i) => ({ field: i.path.join('.'), reason: i.message })),
  );
}
