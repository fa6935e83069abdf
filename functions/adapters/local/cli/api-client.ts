import type * as z from 'zod';
import { maskPhonesInText } from '../../../core/log-masking.js';

/** A failure talking to the service, phrased for the person at the terminal. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly status?: number,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

/** The CLI's view of a running certalarm service. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  /**
   * Each call names the answer's contract (functions/contracts/api/): the answer is checked against it,
   * so a CLI and a service of different versions fail with a message rather than print nonsense.
   */
  get<C extends z.ZodType>(path: string, contract: C): Promise<z.infer<C>>;
  get<T>(path: string): Promise<T>;
  get(path: string, contract?: z.ZodType): Promise<unknown> {
    return this.request('GET', path, {}, contract);
  }

  post<C extends z.ZodType>(path: string, body: unknown, contract: C): Promise<z.infer<C>>;
  post<T>(path: string, body: unknown): Promise<T>;
  post(path: string, body: unknown, contract?: z.ZodType): Promise<unknown> {
    return this.request('POST', path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }, contract);
  }

  patch<C extends z.ZodType>(path: string, body: unknown, contract: C): Promise<z.infer<C>> {
    return this.request('PATCH', path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }, contract) as Promise<z.infer<C>>;
  }

  put<C extends z.ZodType>(path: string, body: unknown, contract: C): Promise<z.infer<C>>;
  put<T>(path: string, body: unknown): Promise<T>;
  put(path: string, body: unknown, contract?: z.ZodType): Promise<unknown> {
    return this.request('PUT', path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }, contract);
  }

  delete<C extends z.ZodType>(path: string, body: unknown, contract: C): Promise<z.infer<C>>;
  delete<T>(path: string, body?: unknown): Promise<T>;
  delete(path: string, body?: unknown, contract?: z.ZodType): Promise<unknown> {
    return body === undefined
      ? this.request('DELETE', path, {}, contract)
      : this.request('DELETE', path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }, contract);
  }

  /** Streams a file as the raw request body. */
  upload<C extends z.ZodType>(path: string, body: ReadableStream<Uint8Array>, headers: Record<string, string>, contract: C): Promise<z.infer<C>> {
    return this.request('POST', path, { body, headers, duplex: 'half' }, contract) as Promise<z.infer<C>>;
  }

  /**
   * A download exactly as served, byte for byte: `Response.text()` would drop a leading UTF-8 BOM,
   * which is what makes Excel read a CSV as UTF-8.
   */
  async bytes(path: string): Promise<Uint8Array> {
    const response = await this.send('GET', path);
    const body = new Uint8Array(await response.arrayBuffer());
    if (!response.ok) throw new ApiError(`GET ${path.split('?')[0]} failed with ${response.status}: ${new TextDecoder().decode(body)}`, response.status);
    return body;
  }

  /** A non-JSON resource, such as errors.csv. */
  async text(path: string): Promise<string> {
    const response = await this.send('GET', path);
    const text = await response.text();
    if (!response.ok) throw new ApiError(`GET ${path} failed with ${response.status}: ${text}`, response.status);
    return text;
  }

  private async send(method: string, path: string, init: { body?: string | ReadableStream<Uint8Array>; headers?: Record<string, string>; duplex?: 'half' } = {}): Promise<Response> {
    const url = new URL(path, this.baseUrl);
    try {
      return await fetch(url, {
        method,
        headers: { ...init.headers, ...(this.token !== undefined ? { authorization: `Bearer ${this.token}` } : {}) },
        ...(init.body !== undefined ? { body: init.body } : {}),
        ...(init.duplex !== undefined ? { duplex: init.duplex } : {}),
      } as RequestInit);
    } catch (error) {
      throw new ApiError(`cannot reach the certalarm service at ${this.baseUrl} (${(error as Error).message}). Start it with \`npm start\`, or pass --url.`);
    }
  }

  private async request(
    method: string,
    path: string,
    init: { body?: string | ReadableStream<Uint8Array>; headers?: Record<string, string>; duplex?: 'half' } = {},
    contract?: z.ZodType,
  ): Promise<unknown> {
    const response = await this.send(method, path, init);
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    // A path may carry a phone (DELETE /v1/suppressions/{phone}): the terminal and its logs get it masked.
    const shownPath = maskPhonesInText(decodeURIComponent(path.split('?')[0] ?? ''));
    if (!response.ok) {
      const error = (parsed as { error?: { message?: string; code?: string } } | undefined)?.error;
      const hint = response.status === 401 ? ' (pass --token, set CERTALARM_TOKEN, or run from the service\'s directory so <data dir>/admin-token is found)' : '';
      throw new ApiError(`${method} ${shownPath} failed with ${response.status}: ${error?.message ?? text}${hint}`, response.status, parsed);
    }
    if (contract !== undefined) {
      const checked = contract.safeParse(parsed);
      if (!checked.success) {
        const first = checked.error.issues[0];
        const where = first === undefined ? '' : ` (${first.path.join('.') || 'the answer'}: ${first.message})`;
        throw new ApiError(
          `服务对 ${method} ${shownPath} 的回答格式与本命令不符，请使用与服务同一版本的 certalarm / ` +
            `the service's answer to ${method} ${shownPath} is not in the shape this CLI knows${where}: run the CLI of the same certalarm version as the service`,
          response.status,
          parsed,
        );
      }
    }
    // The answer as served, not the parsed copy: `--json` prints every field, including ones newer than this CLI.
    return parsed;
  }
}
