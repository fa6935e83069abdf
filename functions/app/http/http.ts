import type * as z from 'zod';
import { HttpError } from '../../contracts/http-error.js';

/** A transport-neutral HTTP exchange: node:http and API Gateway both map to and from these. */
export interface HttpRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  body?: string;
  /** A raw upload the transport already wrote to storage (local imports), instead of `body`. */
  upload?: { blobKey: string; bytes: number; sha256: string };
  /** Claims a trusted authorizer already verified (API Gateway JWT authorizer). */
  claims?: Record<string, unknown>;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export { HttpError };

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(body) };
}

/**
 * An answer that must match its contract (functions/contracts/api/): `reply<typeof ruleContract>(200, rule)`.
 * The check is the compiler's; the schema is imported as a type only, so a route's bundle does not build it.
 */
export function reply<Contract extends z.ZodType>(status: number, body: z.infer<Contract>, headers: Record<string, string> = {}): HttpResponse {
  return json(status, body, headers);
}

export function errorResponse(error: unknown): HttpResponse {
  if (error instanceof HttpError) {
    return json(
      error.status,
      { error: { code: error.code, message: error.message, details: error.details ?? null } },
      error.status === 401 ? { 'www-authenticate': 'Bearer realm="certalarm"' } : {},
    );
  }
  return json(500, { error: { code: 'internal', message: 'the service failed to handle the request; it has been logged, please retry', details: null } });
}
