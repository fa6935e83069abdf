import type { Principal } from '../../core/access.js';
import { importBlobKey } from '../../core/import-messages.js';
import type { Clock, ImportRecord, ImportRecorder, ImportStore, ImportSubmission, ImportSubmitter, ImportUpload } from '../../core/ports.js';
import { HttpError } from '../../contracts/http-error.js';
import { S3UrlSigner, type S3SigningConfig } from './s3-signing.js';

export interface S3ImportSubmitterOptions {
  signing: S3SigningConfig;
  bucket: string;
  imports: ImportStore;
  /** Records the declared file as an import (`createImport`; nothing is uploaded yet, so there is no file to remove). */
  recordImport: ImportRecorder;
  clock: Clock;
  /** `settings.importMaxBytes`: a larger file is refused before an upload URL is issued. */
  maxBytes: number;
  /** How long the upload URL stays valid. */
  expiresInSeconds?: number;
}

/** Where a new record's file will be, until `imports/<id>` is known (`recordImport` picks the id). */
const AWAITING_UPLOAD = '(awaiting upload)';

/**
 * Imports on AWS: the API only records the import and hands out a presigned S3 PUT for the file
 * itself, so a file of any size up to `maxBytes` bypasses API Gateway's and Lambda's payload limits.
 * The upload lands on `imports/<id>`; the bucket notifies the import queue and the worker runs it.
 *
 * The signature binds what the client declared: content type, length and SHA-256. S3 refuses a PUT
 * whose body differs, so the import record's hash (which decides "same file again") is the file's.
 */
export class S3ImportSubmitter {
  private readonly expiresInSeconds: number;
  private readonly signer: S3UrlSigner;

  constructor(private readonly options: S3ImportSubmitterOptions) {
    this.expiresInSeconds = options.expiresInSeconds ?? 15 * 60;
    this.signer = new S3UrlSigner(options.signing);
  }

  submitter(): ImportSubmitter {
    return async (principal, submission) => this.submit(principal, submission);
  }

  async submit(principal: Principal, submission: ImportSubmission): Promise<Awaited<ReturnType<ImportSubmitter>>> {
    const { file } = submission;
    if (file === undefined) {
      throw new HttpError(
        400,
        'upload_declaration_required',
        '请以 JSON 提交文件信息，再把文件 PUT 到返回的 upload.url / send JSON {"fileName","contentType","bytes","sha256"} (content-type: application/json), then PUT the file to the returned upload.url with upload.headers',
      );
    }
    if (file.bytes > this.options.maxBytes) {
      throw new HttpError(413, 'file_too_large', `文件超过 ${this.options.maxBytes} 字节的上限 / the file exceeds the import limit of ${this.options.maxBytes} bytes; split it into smaller files`);
    }
    const { record, resumed } = await this.options.recordImport(principal, {
      fileName: submission.fileName,
      contentType: submission.contentType,
      bytes: file.bytes,
      sha256: file.sha256,
      blobKey: AWAITING_UPLOAD,
      options: submission.options,
    });
    const placed = await this.placeUnderOwnKey(record);
    // A resumed import gets an upload URL too: uploading the file again is what restarts a stalled import.
    return {
      id: placed.id,
      resumed,
      ...(placed.sameFileAs !== undefined ? { sameFileAs: placed.sameFileAs } : {}),
      upload: await this.presign(placed),
    };
  }

  /** Point the record at `imports/<id>`, the key the upload URL is for and the worker reads. */
  private async placeUnderOwnKey(record: ImportRecord): Promise<ImportRecord> {
    const blobKey = importBlobKey(record.id);
    if (record.blobKey === blobKey) return record;
    const next: ImportRecord = { ...record, blobKey, revision: record.revision + 1, updatedAt: this.options.clock.now().toISO() ?? record.updatedAt };
    if (await this.options.imports.saveImport(next)) return next;
    // Another request for the same file saved first; it can only have set the same key.
    const current = await this.options.imports.getImport(record.id);
    if (current?.blobKey !== blobKey) throw new Error(`import ${record.id} could not be pointed at ${blobKey}`);
    return current;
  }

  /**
   * A presigned PUT with the content type, length and SHA-256 checksum in its signature. The checksum
   * stays a header (not a query parameter) so that S3 verifies the body against it; the client must send
   * exactly `headers`. The request is built here as the SDK's PutObject would build it (virtual-hosted
   * bucket, regional endpoint, `x-id=PutObject`), and carries no SDK default CRC32 checksum, which would
   * be of an empty body and break every upload.
   */
  private async presign(record: ImportRecord): Promise<ImportUpload> {
    const checksum = Buffer.from(record.sha256, 'hex').toString('base64');
    const url = await this.signer.presign(
      {
        method: 'PUT',
        bucket: this.options.bucket,
        key: record.blobKey,
        operation: 'PutObject',
        headers: { 'content-type': record.contentType, 'content-length': String(record.bytes), 'x-amz-checksum-sha256': checksum },
      },
      {
        expiresInSeconds: this.expiresInSeconds,
        signableHeaders: new Set(['content-type', 'content-length']),
        unhoistableHeaders: new Set(['x-amz-checksum-sha256']),
      },
    );
    return {
      url,
      method: 'PUT',
      headers: { 'content-type': record.contentType, 'x-amz-checksum-sha256': checksum },
      expiresAt: this.options.clock.now().plus({ seconds: this.expiresInSeconds }).toISO() ?? '',
    };
  }
}

