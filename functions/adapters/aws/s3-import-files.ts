import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ImportFileStore } from '../../core/ports.js';
import type { SpreadsheetOpener } from '../../app/imports/run-import.js';
import { spreadsheetOpener } from '../import/import-opener.js';

export interface S3ImportFilesOptions {
  client: S3Client;
  bucket: string;
  /** `settings.importMaxBytes`; the upload URL already bound the length, this is a second guard. */
  maxBytes?: number;
}

/** Uploaded import files in the S3 bucket, read by the import worker. */
export class S3ImportFiles implements ImportFileStore {
  constructor(private readonly options: S3ImportFilesOptions) {}

  /**
   * A fresh stream of the object from its first byte. Each call is its own GetObject, issued on the
   * first read: an import reads its file once per pass, and a stream nobody reads costs no request.
   */
  open(blobKey: string): Readable {
    return Readable.from(this.body(blobKey), { objectMode: false });
  }

  /** Deleting a missing object succeeds in S3, so removing twice (a redelivered message) is harmless. */
  async remove(blobKey: string): Promise<void> {
    await this.options.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: blobKey }));
  }

  /** Opens an import's file as a spreadsheet; a file that cannot be read fails its import instead of being retried. */
  opener(): SpreadsheetOpener {
    return spreadsheetOpener((blobKey) => ({ stream: () => this.open(blobKey) }), this.options.maxBytes);
  }

  private async *body(blobKey: string): AsyncGenerator<Buffer> {
    const { Body } = await this.options.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: blobKey }));
    if (!(Body instanceof Readable)) throw new Error(`s3://${this.options.bucket}/${blobKey} has no readable body`);
    // Leaving early (the reader stops) returns this generator, which destroys the body and frees the socket.
    yield* Body as AsyncIterable<Buffer>;
  }
}
