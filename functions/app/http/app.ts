import { mayPerform, type Action, type Principal } from '../../core/access.js';
import type { AuditLog, CalendarSource, CalendarStore, Clock, ImportStore, ReplanSource, TokenStore } from '../../core/ports.js';
import type { ScanDeps } from '../send-due-reminders.js';
import { HttpError, type HttpRequest, type HttpResponse, errorResponse } from './http.js';
import { auditRoutes } from './routes/audit.js';
import { calendarRoutes } from './routes/calendar.js';
import { certificateRoutes } from './routes/certificates.js';
import { importRoutes, type ImportSubmitter } from './routes/imports.js';
import { referenceRoutes } from './routes/reference.js';
import { scanRoutes, type OutboxView, type ScanTrigger } from './routes/scans.js';
import { tokenRoutes } from './routes/tokens.js';

export type { OutboxView };

export interface HttpAppDeps extends ScanDeps {
  clock: Clock;
  /** Who is calling: a local bearer token, or the claims of the AWS authorizer. */
  authenticate: (req: HttpRequest) => Promise<Principal | undefined>;
  imports?: ImportStore;
  /** Accepts an uploaded file for import (local: a spooled body; AWS: a presigned upload). */
  submitImport?: ImportSubmitter;
  /** AWS: `POST /v1/scans` queues a scan in the scan function; absent, the request runs the scan itself. */
  triggerScan?: ScanTrigger;
  /** Local mode only: API tokens are issued here (on AWS the identity provider issues JWTs). */
  tokens?: TokenStore;
  /** The holiday calendar as stored, the cached calendar plans are made with, and where a load finds plans to re-plan. */
  calendars?: CalendarStore;
  calendarSource?: CalendarSource;
  replanSource?: ReplanSource;
  /** The trail of writes by people. */
  audit?: AuditLog;
  /** Local mode only: the outbox standing in for SNS. */
  outbox?: { list(): OutboxView[] };
}

export type RouteHandler = (req: HttpRequest, params: string[], deps: HttpAppDeps, principal: Principal) => Promise<HttpResponse>;

export interface Route {
  method: string;
  pattern: RegExp;
  /** `public` routes need no token; every other route needs a principal allowed this action. */
  access: 'public' | Action;
  handler: RouteHandler;
}

const ANONYMOUS: Principal = { role: 'viewer', subject: 'anonymous' };

const routes: Route[] = [...referenceRoutes, ...certificateRoutes, ...scanRoutes, ...tokenRoutes, ...importRoutes, ...calendarRoutes, ...auditRoutes];

/** The whole HTTP API as one function: the same code runs behind node:http locally and API Gateway on AWS. */
export function createHttpApp(deps: HttpAppDeps): (req: HttpRequest) => Promise<HttpResponse> {
  return async (req) => {
    try {
      const bodyBytes = req.body === undefined ? 0 : Buffer.byteLength(req.body);
      if (bodyBytes > deps.settings.maxBodyBytes) {
        throw new HttpError(413, 'payload_too_large', `request body is ${bodyBytes} bytes; the limit is ${deps.settings.maxBodyBytes}. Split the batch, or use an import (POST /v1/imports).`);
      }
      const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
      const { route, params } = match(req.method, path);
      let principal = ANONYMOUS;
      if (route.access !== 'public') {
        const caller = await deps.authenticate(req);
        if (caller === undefined) {
          throw new HttpError(
            401,
            'unauthorized',
            req.headers.authorization === undefined
              ? '缺少访问令牌 / missing bearer token: send "Authorization: Bearer <token>" (locally, the first operator token is printed at first start and kept in <data dir>/admin-token)'
              : '访问令牌无效或已吊销 / unknown or revoked bearer token: ask an operator for a new one (POST /v1/tokens)',
          );
        }
        const decision = mayPerform(caller, route.access);
        if (!decision.allowed) throw new HttpError(403, 'forbidden', decision.reason);
        principal = caller;
      }
      return await route.handler(req, params, deps, principal);
    } catch (error) {
      if (!(error instanceof HttpError)) deps.logger.error({ err: (error as Error).message, stack: (error as Error).stack }, 'request failed');
      return errorResponse(error);
    }
  };
}

function match(method: string, path: string): { route: Route; params: string[] } {
  let pathMatched = false;
  for (const route of routes) {
    const found = route.pattern.exec(path);
    if (found === null) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    return { route, params: found.slice(1).map(decodeSegment) };
  }
  if (pathMatched) throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${path}`);
  throw new HttpError(404, 'not_found', `no route for ${method} ${path}; see the README for the API`);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'bad_path', `path segment "${segment}" is not valid percent-encoding`);
  }
}
