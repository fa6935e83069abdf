/**
 * A refusal with its HTTP status; the body is always `{"error": {"code", "message", "details"}}`.
 * Here rather than in app/http/ because adapters behind HTTP ports (the import submitters, the local
 * upload spool) refuse requests too, and an adapter does not import the application.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}
