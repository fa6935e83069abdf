import * as z from 'zod';

/**
 * What arrives on the import queue, and where an import's file lives in the upload bucket. The HTTP
 * function (which presigns the upload), the import worker (which sends continuations and reads the
 * queue) and the stack (notification filter, lifecycle rule, IAM) all take them from here.
 *
 * Two kinds of message:
 *   - an S3 event notification: a file was uploaded to `imports/<import id>`; start (or resume) it;
 *   - a continuation `{"kind":"importContinue","importId":"imp_…"}`: the worker ran out of time and
 *     queued the rest of the import for the next invocation.
 * S3 also sends one `s3:TestEvent` when the notification is configured; it carries no work.
 */

/** Every import file sits under this prefix; the bucket notifies the queue for it only. */
export const IMPORT_BLOB_PREFIX = 'imports/';

/** `createImport` makes ids as `imp_` and 20 hex digits. */
export const IMPORT_ID = /^imp_[0-9a-f]{20}$/;
const importId = z.string().regex(IMPORT_ID, 'an import id, e.g. imp_0123456789abcdef0123');

/** The S3 object key of an import's file. */
export function importBlobKey(id: string): string {
  return `${IMPORT_BLOB_PREFIX}${id}`;
}

/** The import an S3 object key belongs to, or undefined for a key that is not `imports/<id>`. */
export function importIdOfBlobKey(key: string): string | undefined {
  if (!key.startsWith(IMPORT_BLOB_PREFIX)) return undefined;
  const id = key.slice(IMPORT_BLOB_PREFIX.length);
  return importId.safeParse(id).success ? id : undefined;
}

/** Sent by the worker to itself (through the queue) when an import paused before its end. */
export const importContinueMessageSchema = z
  .object({
    kind: z.literal('importContinue'),
    importId,
  })
  .strict();

export type ImportContinueMessage = z.infer<typeof importContinueMessageSchema>;

/** The fields of an S3 event notification record the worker uses (S3 adds many more). */
const s3NotificationSchema = z.object({
  Records: z
    .array(
      z.object({
        eventSource: z.literal('aws:s3'),
        eventName: z.string().startsWith('ObjectCreated:', 'only ObjectCreated events are routed to the import queue'),
        s3: z.object({
          bucket: z.object({ name: z.string().min(1) }),
          // Keys arrive URL-encoded, spaces as '+'.
          object: z.object({ key: z.string().min(1).transform((key) => decodeURIComponent(key.replace(/\+/g, ' '))) }),
        }),
      }),
    )
    .min(1),
});

/** What S3 sends once, when the bucket's notification configuration is saved. */
const s3TestEventSchema = z.object({ Service: z.literal('Amazon S3'), Event: z.literal('s3:TestEvent') });

export type ImportMessage =
  | { kind: 'run'; importIds: string[] }
  | { kind: 'ignore'; reason: string };

/** A queue message that is not one of ours. Retrying cannot fix it: it goes to the DLQ for a person to look at. */
export class InvalidImportMessageError extends Error {
  override readonly name = 'InvalidImportMessageError';
  readonly retryable = false;
}

/** Parse an SQS message body into the imports it asks to run. */
export function parseImportMessage(body: string): ImportMessage {
  let json: unknown;
  try {
    json = JSON.parse(body) as unknown;
  } catch (error) {
    throw new InvalidImportMessageError(`the message body is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const continuation = importContinueMessageSchema.safeParse(json);
  if (continuation.success) return { kind: 'run', importIds: [continuation.data.importId] };
  if (s3TestEventSchema.safeParse(json).success) return { kind: 'ignore', reason: 's3:TestEvent' };
  const notification = s3NotificationSchema.safeParse(json);
  if (!notification.success) {
    throw new InvalidImportMessageError(
      `neither an S3 ObjectCreated notification nor an import continuation: ${z.prettifyError(notification.error)}; ` +
        `or, as a continuation: ${z.prettifyError(continuation.error)}`,
      { cause: notification.error },
    );
  }
  const keys = notification.data.Records.map((record) => record.s3.object.key);
  const importIds = keys.map(importIdOfBlobKey).filter((id): id is string => id !== undefined);
  if (importIds.length === 0) return { kind: 'ignore', reason: `no import file among ${keys.join(', ')}` };
  return { kind: 'run', importIds: [...new Set(importIds)] };
}
