import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpApp } from '../../app/http/app.js';
import type { HttpRequest, HttpResponse } from '../../app/http/http.js';
import { errorResponse, HttpError } from '../../app/http/http.js';

/*
 * An entry point, not an adapter: the local counterpart of handlers/http-api.ts, it drives the HTTP
 * app, so it may import from app/ (see eslint.config.js).
 */

/** Serves the transport-neutral HTTP app on node:http, bound to loopback only. */
export async function startHttpServer(options: {
  app: Pick<HttpApp, 'admit'>;
  port: number;
  host?: string;
  maxBodyBytes: number;
  /** Requests whose raw body is a file to keep (imports): streamed to storage instead of buffered. */
  spool?: {
    matches(method: string, path: string): boolean;
    store(body: IncomingMessage): Promise<NonNullable<HttpRequest['upload']>>;
    /** The app did not take the file (refused): delete it. */
    discard(upload: NonNullable<HttpRequest['upload']>): Promise<void>;
  };
}): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((incoming, outgoing) => {
    void (async () => {
      let response: HttpResponse;
      try {
        const url = new URL(incoming.url ?? '/', 'http://localhost');
        const headers: Record<string, string | undefined> = {};
        for (const [name, value] of Object.entries(incoming.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        const head: HttpRequest = { method: incoming.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers };
        // The caller is known and allowed before a byte of the body is read or written to disk.
        const admission = await options.app.admit(head);
        if ('refused' in admission) {
          response = admission.refused;
        } else {
          const spooled = options.spool?.matches(head.method, head.path) === true;
          const upload = spooled ? await options.spool?.store(incoming) : undefined;
          const body = spooled ? undefined : await readBody(incoming, options.maxBodyBytes);
          response = await admission.handle({ ...head, ...(body !== undefined ? { body } : {}), ...(upload !== undefined ? { upload } : {}) });
          if (upload !== undefined && response.status !== 202) await options.spool?.discard(upload);
        }
      } catch (error) {
        response = errorResponse(error);
      }
      // A refused body is not read to its end: closing the connection stops it, where keeping the
      // connection alive would mean reading (or waiting for) the rest of it.
      const unread = !incoming.complete;
      if (unread) incoming.resume();
      outgoing.writeHead(response.status, { ...response.headers, 'content-length': Buffer.byteLength(response.body), ...(unread ? { connection: 'close' } : {}) });
      outgoing.end(response.body);
    })();
  });
  server.on('clientError', answerUnparsableRequest);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new PortInUseError(options.port, host) : error));
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Reads the body, refusing with 413 as soon as it passes the limit rather than buffering it all. */
function readBody(incoming: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(incoming.headers['content-length'] ?? '0');
    if (declared > limit) {
      reject(new HttpError(413, 'payload_too_large', `request body is ${declared} bytes; the limit is ${limit}. Split the batch, or use an import.`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    incoming.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        reject(new HttpError(413, 'payload_too_large', `request body exceeds the limit of ${limit} bytes. Split the batch, or use an import.`));
        return;
      }
      chunks.push(chunk);
    });
    incoming.on('end', () => {
      if (!refused) resolve(size === 0 ? undefined : Buffer.concat(chunks).toString('utf8'));
    });
    incoming.on('error', reject);
  });
}

/** The port is taken by another process: a person's choice to make, so it names the port and the way out. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly host: string,
  ) {
    super(
      `端口 ${port} 已被占用 / port ${port} on ${host} is already in use (another certalarm or another program). ` +
        `Stop that process, or pick another port: PORT=${port + 1} npm start, or certalarm serve --port ${port + 1}`,
    );
  }
}

/**
 * Node's parser refuses some requests before any handler sees them, most often a request target with raw
 * UTF-8 (`?fileName=名单.csv` typed into curl). Its default answer is a bare 400 with no body; the caller
 * deserves the same JSON error shape as every other answer, saying what to change.
 */
function answerUnparsableRequest(error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket): void {
  // A peer that hung up cannot be answered; nor can a socket that already carries a response.
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message =
    status === 431
      ? '请求头过大 / the request headers are too large'
      : status === 408
        ? '请求超时 / the request took too long to arrive; send it again'
        : '请求无法解析 / the request could not be parsed. Non-ASCII characters in the URL (such as a Chinese file name) must be percent-encoded: ' +
          `?fileName=${encodeURIComponent('名单.csv')} instead of ?fileName=名单.csv (curl 7.87 or later: --url-query "fileName=名单.csv"; the certalarm CLI does this for you)`;
  const body = JSON.stringify({ error: { code: status === 400 ? 'bad_request' : status === 431 ? 'headers_too_large' : 'request_timeout', message, details: { parser: error.code ?? null } } });
  const reason = status === 400 ? 'Bad Request' : status === 431 ? 'Request Header Fields Too Large' : 'Request Timeout';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
