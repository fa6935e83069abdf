/**
 * Paging cursors handed to callers: the store's own cursor (a DynamoDB start key) sealed with an
 * HMAC under the service key, bound to the query it pages through and to the caller, and valid for
 * a limited time. A caller can neither forge a start key (the store would read from it, whatever
 * item it names) nor reuse another caller's or another query's cursor.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { DateTime } from 'luxon';
import * as z from 'zod';
import type { Principal } from '../core/access.js';
import { InvalidCursorError } from '../core/errors.js';

/** Longer than any cursor this service issues; a longer one is refused unread. */
export const MAX_CURSOR_LENGTH = 2048;

/** The shortest service key accepted: HMAC-SHA256's own block of security. */
export const MIN_CURSOR_KEY_BYTES = 32;

/** What a cursor is bound to: the listing's parameters (as resolved codes) and who asked. */
export interface CursorBinding {
  query: Readonly<Record<string, string | undefined>>;
  principal: Principal;
}

const payloadSchema = z.object({ k: z.string().min(1).max(MAX_CURSOR_LENGTH), b: z.string(), e: z.number().int() }).strict();

// Distinguishes this MAC from any other the same key might ever sign.
const MAC_CONTEXT = 'certalarm paging cursor v1\n';

const FORGED = new InvalidCursorError();

function foreign(): InvalidCursorError {
  return new InvalidCursorError(
    '翻页游标属于另一个查询或另一个调用者，请去掉 cursor 从第一页重新开始 / the cursor belongs to another query or caller; start again without it',
  );
}

function stale(ttlSeconds: number): InvalidCursorError {
  const minutes = Math.round(ttlSeconds / 60);
  return new InvalidCursorError(
    `翻页游标已过期（游标有效 ${minutes} 分钟），请去掉 cursor 从第一页重新开始 / the cursor has expired (cursors last ${minutes} minutes); start again without it`,
  );
}

function bindingDigest(binding: CursorBinding): string {
  const { query, principal } = binding;
  const fields = Object.keys(query)
    .sort()
    .map((name) => [name, query[name] ?? null]);
  return createHash('sha256')
    .update(JSON.stringify([fields, principal.role, principal.subject, principal.authority ?? null]))
    .digest('base64url')
    .slice(0, 22);
}

export class CursorSeal {
  #key: Promise<Uint8Array> | undefined;

  /**
   * @param serviceKey gives the service key (a file locally, a KMS-derived key on AWS); asked once,
   *   again only if it failed.
   * @param ttlSeconds how long a cursor stays valid after it is issued.
   */
  constructor(
    private readonly serviceKey: () => Promise<Uint8Array>,
    readonly ttlSeconds: number,
  ) {}

  private key(): Promise<Uint8Array> {
    this.#key ??= this.serviceKey().then((key) => {
      if (key.length < MIN_CURSOR_KEY_BYTES) throw new Error(`the cursor service key has ${key.length} bytes; it needs at least ${MIN_CURSOR_KEY_BYTES} bytes`);
      return key;
    });
    this.#key.catch(() => (this.#key = undefined));
    return this.#key;
  }

  private async mac(payload: string): Promise<Buffer> {
    return createHmac('sha256', await this.key()).update(MAC_CONTEXT).update(payload).digest();
  }

  /** The cursor to hand the caller for `inner`, the store's cursor of the next page. */
  async seal(inner: string, binding: CursorBinding, now: DateTime): Promise<string> {
    const payload = Buffer.from(JSON.stringify({ k: inner, b: bindingDigest(binding), e: Math.floor(now.toSeconds()) + this.ttlSeconds })).toString('base64url');
    return `${payload}.${(await this.mac(payload)).toString('base64url')}`;
  }

  /** The store's cursor inside `cursor`; throws InvalidCursorError saying why it cannot be used. */
  async open(cursor: string, binding: CursorBinding, now: DateTime): Promise<string> {
    if (cursor.length > MAX_CURSOR_LENGTH) throw FORGED;
    const parts = cursor.split('.');
    if (parts.length !== 2) throw FORGED;
    const [payload = '', mac = ''] = parts;
    const presented = Buffer.from(mac, 'base64url');
    const expected = await this.mac(payload);
    // Checked before the payload is even parsed: nothing a caller wrote is read unless this service wrote it.
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) throw FORGED;
    let parsed: z.infer<typeof payloadSchema>;
    try {
      parsed = payloadSchema.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    } catch {
      throw FORGED;
    }
    if (parsed.b !== bindingDigest(binding)) throw foreign();
    if (Math.floor(now.toSeconds()) >= parsed.e) throw stale(this.ttlSeconds);
    return parsed.k;
  }
}
