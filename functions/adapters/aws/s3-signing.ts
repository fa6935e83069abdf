import { S3RequestPresigner, type S3RequestPresignerOptions } from '@aws-sdk/s3-request-presigner';

/**
 * What signing an S3 URL takes: credentials, the region and a SHA-256. Any SDK client's resolved
 * `config` has all three, so a function's DynamoDB client lends them and no S3 client (whose
 * endpoint rules and XML protocol weigh about 200 KiB of bundle) is built just to reach one bucket.
 */
export type S3SigningConfig = Pick<S3RequestPresignerOptions, 'credentials' | 'region' | 'sha256'>;

/** One request on one object, as the SDK's command would send it. */
export interface S3ObjectRequest {
  method: 'GET' | 'PUT' | 'DELETE';
  bucket: string;
  key: string;
  /** The SDK's operation marker, `x-id=<Operation>`: S3 ignores it, but it keeps the URL the SDK's. */
  operation: string;
  headers?: Record<string, string>;
}

export interface S3PresignOptions {
  expiresInSeconds: number;
  /** Headers the client must send exactly, bound into the signature. */
  signableHeaders?: ReadonlySet<string>;
  /** Headers that stay headers instead of moving into the query (S3 verifies a checksum header against the body). */
  unhoistableHeaders?: ReadonlySet<string>;
}

/**
 * Presigned S3 URLs (SigV4 in the query string), built as the SDK's `getSignedUrl` would build them:
 * virtual-hosted bucket, regional endpoint, `x-id=<Operation>`, the query sorted by name.
 */
export class S3UrlSigner {
  private readonly presigner: S3RequestPresigner;

  constructor(private readonly signing: S3SigningConfig) {
    // Only these three: a client's config carries more (a used DynamoDB client's has `signingName:
    // 'dynamodb'`), and the presigner would take all of it, signing for the wrong service.
    const { credentials, region, sha256 } = signing;
    this.presigner = new S3RequestPresigner({ credentials, region, sha256 });
  }

  async presign(request: S3ObjectRequest, options: S3PresignOptions): Promise<string> {
    const { region } = this.signing;
    const presigned = await this.presigner.presign(
      {
        method: request.method,
        protocol: 'https:',
        hostname: s3Hostname(request.bucket, typeof region === 'function' ? await region() : region),
        path: `/${request.key.split('/').map(escapeUri).join('/')}`,
        query: { 'x-id': request.operation },
        headers: request.headers ?? {},
      },
      {
        expiresIn: options.expiresInSeconds,
        ...(options.signableHeaders !== undefined ? { signableHeaders: new Set(options.signableHeaders) } : {}),
        ...(options.unhoistableHeaders !== undefined ? { unhoistableHeaders: new Set(options.unhoistableHeaders) } : {}),
      },
    );
    return `${presigned.protocol}//${presigned.hostname}${presigned.path}?${queryString(presigned.query ?? {})}`;
  }
}

/**
 * The bucket's virtual-hosted name on its regional endpoint, as the SDK resolves it for a bucket name
 * without dots (the stack's is `certalarm-imports-<account>-<region>`) in the aws partition (the stack
 * refuses the China regions).
 */
function s3Hostname(bucket: string, region: string): string {
  return `${bucket}.s3.${region}.amazonaws.com`;
}

/** RFC 3986 escaping, as SigV4 and the SDK's URL formatting apply it. */
function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The query in the SDK's order (sorted by name), so the URL is the one `getSignedUrl` would give. */
function queryString(query: Record<string, string | string[] | null>): string {
  return Object.keys(query)
    .sort()
    .flatMap((name) => {
      const value = query[name];
      if (value === null || value === undefined) return [escapeUri(name)];
      return (Array.isArray(value) ? value : [value]).map((v) => `${escapeUri(name)}=${escapeUri(v)}`);
    })
    .join('&');
}
