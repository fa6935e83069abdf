import { mayPerform, type Action, type Principal } from '../../core/access.js';
import type { BookingStore } from '../../core/campaigns/booking-ports.js';
import type { AuditLog, CalendarSource, CertificateRevoker, RetentionStore, CalendarStore, Clock, DeliveryHistory, ImportStore, ImportSubmitter, ReplanMarks, ReplanSource, RuleStore, ScanTrigger, TokenStore, TypeCertificateSource } from '../../core/ports.js';
import type { CampaignServices } from '../campaigns/campaign-deps.js';
import type { CursorSeal } from '../cursors.js';
import type { ScanDeps } from '../send-due-reminders.js';
import { HttpError, type HttpRequest, type HttpResponse, errorResponse } from './http.js';
import { auditRoutes } from './routes/audit.js';
import { bookingRoutes } from './routes/bookings.js';
import { calendarRoutes } from './routes/calendar.js';
import { campaignRoutes } from './routes/campaigns.js';
import { certificateRoutes } from './routes/certificates.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { importRoutes } from './routes/imports.js';
import { inboundRoutes } from './routes/inbound.js';
import { referenceRoutes } from './routes/reference.js';
import { purgeRoutes } from './routes/purges.js';
import { ruleRoutes } from './routes/rules.js';
import { scanRoutes, type OutboxView } from './routes/scans.js';
import { tokenRoutes } from './routes/tokens.js';

export type { OutboxView };

export interface HttpAppDeps extends ScanDeps {
  clock: Clock;
  /** Who is calling: a local bearer token, or the claims of the AWS authorizer. */
  authenticate: (req: HttpRequest) => Promise<Principal | undefined>;
  imports?: ImportStore;
  /** Accepts an uploaded file for import (local: a spooled body; AWS: a presigned upload). */
  submitImport?: ImportSubmitter;
  /** A rule re-plan's marks and journal: uploads, revocations and rule changes cooperate through them. */
  replanMarks?: ReplanMarks;
  /** The re-plan re-reads index pages consistently and waits for the index (AWS; see RuleDeps). */
  consistentPages?: boolean;
  indexSettleMs?: number;
  /** AWS: `POST /v1/scans` queues a scan in the scan function; absent, the request runs the scan itself. */
  triggerScan?: ScanTrigger;
  /** Local mode only: API tokens are issued here (on AWS the identity provider issues JWTs). */
  tokens?: TokenStore;
  /** Seals the listing's paging cursors with the service key (see cursors.ts). */
  cursors: CursorSeal;
  /** The holiday calendar as stored, the cached calendar plans are made with, and where a load finds plans to re-plan. */
  calendars?: CalendarStore;
  calendarSource?: CalendarSource;
  replanSource?: ReplanSource;
  /** The trail of writes by people. */
  audit?: AuditLog;
  /** Marks certificates revoked and stops their reminders (the DynamoDB store). */
  revoker?: CertificateRevoker;
  /** Where a retention purge finds and deletes expired certificates (the DynamoDB store). */
  retention?: RetentionStore;
  /** Operators' reminder rules, and where a change finds the certificates it re-plans (the byType index). */
  ruleStore?: RuleStore;
  typeCertificates?: TypeCertificateSource;
  /** Delivery status: the history of sends through the deliveries index (phones are searched through `phoneHasher`). */
  deliveries?: DeliveryHistory;
  /** Seasonal campaigns: their store, the recipients' index and where visits' jobs are scheduled. */
  campaigns?: CampaignServices;
  /** The bookings that hold campaign slots (bookings, attendance, the report, inbound SMS). */
  bookings?: BookingStore;
  /** Local mode only: the outbox standing in for SNS; the latest messages, or the last `last` of them. */
  outbox?: { list(last?: number): OutboxView[] };
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

const routes: Route[] = [
  ...referenceRoutes,
  ...certificateRoutes,
  ...scanRoutes,
  ...tokenRoutes,
  ...importRoutes,
  ...calendarRoutes,
  ...auditRoutes,
  ...ruleRoutes,
  ...purgeRoutes,
  ...deliveryRoutes,
  ...campaignRoutes,
  ...bookingRoutes,
  ...inboundRoutes,
];

/** What admitting a request from its head decided: a refusal, or how to finish it once its body is read. */
export type Admission = { refused: HttpResponse } | { handle(req: HttpRequest): Promise<HttpResponse> };

/** The whole HTTP API as one function: the same code runs behind node:http locally and API Gateway on AWS. */
export interface HttpApp {
  (req: HttpRequest): Promise<HttpResponse>;
  /**
   * Routes, authenticates and authorises a request from its method, path, query and headers alone, so
   * that a transport can refuse a caller before reading a byte of its body (an anonymous 100 MB upload
   * costs the refusal, not the upload). `handle` finishes the request as the caller already admitted.
   */
  admit(head: HttpRequest): Promise<Admission>;
}

export function createHttpApp(deps: HttpAppDeps): HttpApp {
  const refusal = (error: unknown): HttpResponse => {
    if (!(error instanceof HttpError)) deps.logger.error({ err: (error as Error).message, stack: (error as Error).stack }, 'request failed');
    return errorResponse(error);
  };
  const admit = async (head: HttpRequest): Promise<Admission> => {
    try {
      const { route, params, principal } = await authorise(deps, head);
      return {
        handle: async (req) => {
          try {
            return await route.handler(req, params, deps, principal);
          } catch (error) {
            return refusal(error);
          }
        },
      };
    } catch (error) {
      return { refused: refusal(error) };
    }
  };
  const app = async (req: HttpRequest): Promise<HttpResponse> => {
    const bodyBytes = req.body === undefined ? 0 : Buffer.byteLength(req.body);
    if (bodyBytes > deps.settings.maxBodyBytes) {
      return refusal(new HttpError(413, 'payload_too_large', `request body is ${bodyBytes} bytes; the limit is ${deps.settings.maxBodyBytes}. Split the batch, or use an import (POST /v1/imports).`));
    }
    const admission = await admit(req);
    return 'refused' in admission ? admission.refused : admission.handle(req);
  };
  return Object.assign(app, { admit });
}

/** The route, its path parameters and the caller allowed to use it; throws the HttpError that refuses it. */
async function authorise(deps: HttpAppDeps, req: HttpRequest): Promise<{ route: Route; params: string[]; principal: Principal }> {
  const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
  const { route, params } = match(req.method, path);
  if (route.access === 'public') return { route, params, principal: ANONYMOUS };
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
  return { route, params, principal: caller };
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

/**
 * No identifier in a path is longer than this (a 64-character certificate number is at most 256 bytes
 * of UTF-8). Longer segments are refused here, before they can reach a DynamoDB key and its size limit.
 */
export const MAX_PATH_SEGMENT_BYTES = 256;

function decodeSegment(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'bad_path', `path segment "${segment.slice(0, 40)}" is not valid percent-encoding`);
  }
  const bytes = Buffer.byteLength(decoded);
  if (bytes > MAX_PATH_SEGMENT_BYTES) {
    throw new HttpError(
      404,
      'not_found',
      `路径中的标识长 ${bytes} 字节，超过任何证照、导入或令牌标识的上限 ${MAX_PATH_SEGMENT_BYTES} 字节 / ` +
        `a path segment of ${bytes} bytes is longer than any certificate, import or token identifier (at most ${MAX_PATH_SEGMENT_BYTES} bytes)`,
    );
  }
  return decoded;
}
