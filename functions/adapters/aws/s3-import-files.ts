import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import type { SpreadsheetLimits } from '../../core/import-limits.js';
import type { ImportFileStore } from '../../core/ports.js';
import type { SpreadsheetOpener } from '../../core/ports.js';
import { spreadsheetOpener } from '../import/import-opener.js';
import { S3UrlSigner, type S3ObjectRequest, type S3SigningConfig } from './s3-signing.js';

export interface S3ImportFilesOptions {
  /** Credentials, region and hash to sign with: the function's DynamoDB client's `config`. */
  signing: S3SigningConfig;
  bucket: string;
  /** `settings.importMaxBytes`; the upload URL already bound the length, this is a second guard. */
  maxBytes?: number;
  /** `settings.importLimits`: what a file may make the worker inflate and hold. */
  limits?: SpreadsheetLimits;
}

/**
 * A presigned URL only has to outlive the moment its request starts: S3 checks the expiry when the
 * request arrives, and a GET that has started streams to its end however long the import reads.
 */
const URL_EXPIRES_IN_SECONDS = 60;

/** An S3 answer other than success; the queue retries the message (S3's code is the error's name). */
export class S3RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/**
 * Uploaded import files in the S3 bucket, read by the import worker. GetObject and DeleteObject are
 * presigned and sent with Node's fetch instead of through an S3 client: the client's endpoint rules,
 * XML protocol and checksum middleware were about 140 KiB of the worker's bundle, and its cold start
 * grows with the bundle. Each request is tried once; a network error or an S3 error answer throws a
 * plain error, and the queue's redelivery is the retry.
 */
export class S3ImportFiles implements ImportFileStore {
  private readonly signer: S3UrlSigner;

  constructor(private readonly options: S3ImportFilesOptions) {
    this.signer = new S3UrlSigner(options.signing);
  }

  /**
   * A fresh stream of the object from its first byte. Each call is its own GetObject, issued on the
   * first read: an import reads its file once per pass, and a stream nobody reads costs no request.
   */
  open(blobKey: string): Readable {
    return Readable.from(this.body(blobKey), { objectMode: false });
  }

  /** Deleting a missing object succeeds in S3 (204), so removing twice (a redelivered message) is harmless. */
  async remove(blobKey: string): Promise<void> {
    const response = await this.send({ method: 'DELETE', bucket: this.options.bucket, key: blobKey, operation: 'DeleteObject' });
    if (!response.ok && response.status !== 404) throw await this.failure(response, blobKey);
    await response.body?.cancel();
  }

  /** Opens an import's file as a spreadsheet; a file that cannot be read fails its import instead of being retried. */
  opener(): SpreadsheetOpener {
    const { maxBytes, limits } = this.options;
    return spreadsheetOpener((blobKey) => ({ stream: () => this.open(blobKey) }), {
      ...(maxBytes !== undefined ? { maxBytes } : {}),
      ...(limits !== undefined ? { limits } : {}),
    });
  }

  private async *body(blobKey: string): AsyncGenerator<Buffer> {
    const response = await this.send({ method: 'GET', bucket: this.options.bucket, key: blobKey, operation: 'GetObject' });
    if (!response.ok) throw await this.failure(response, blobKey);
    if (response.body === null) throw new Error(`${this.where(blobKey)} has no readable body`);
    // Leaving early (the reader stops) returns this generator, which destroys the body and frees the socket.
    yield* Readable.fromWeb(response.body as ReadableStream<Uint8Array>) as AsyncIterable<Buffer>;
  }

  private async send(request: S3ObjectRequest): Promise<Response> {
    const url = await this.signer.presign(request, { expiresInSeconds: URL_EXPIRES_IN_SECONDS });
    return fetch(url, { method: request.method });
  }

  /** S3's error document names the code (`NoSuchKey`, `AccessDenied`, `SlowDown` …); the body is read to free the socket. */
  private async failure(response: Response, blobKey: string): Promise<S3RequestError> {
    const text = await response.text().catch(() => '');
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `Http${response.status}`;
    if (response.status === 404) {
      return new S3RequestError(404, code, `${this.where(blobKey)} does not exist (${code}): the upload is missing or was already removed`);
    }
    return new S3RequestError(response.status, code, `S3 answered ${response.status} ${code} for ${this.where(blobKey)}`);
  }

  private where(blobKey: string): string {
    return `s3://${this.options.bucket}/${blobKey}`;
  }
}
