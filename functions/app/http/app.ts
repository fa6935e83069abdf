import { mayPerform, type Action, type Principal } from '../../core/access.js';
import { maskPhonesInText } from '../../core/log-masking.js';
import type { BookingStore } from '../../core/campaigns/booking-ports.js';
import type { AuditLog, CalendarSource, CertificateRevoker, RetentionStore, CalendarStore, Clock, DeliveryHistory, ImportStore, ImportSubmitter, MergedTemplateStore, ReplanMarks, ReplanSource, RuleStore, ScanTrigger, TokenStore, TypeCertificateSource } from '../../core/ports.js';
import type { PhoneHoldings, ProviderOptIn, SuppressedPhones } from '../../core/ports.js';
import type { CampaignServices } from '../campaigns/campaign-deps.js';
import type { CursorSeal } from '../cursors.js';
import type { ScanDeps } from '../send-due-reminders.js';
import { HttpError, type HttpRequest, type HttpResponse, errorResponse } from './http.js';
import type { OutboxView } from './routes/scans.js';
import { BOOKINGS_ROUTE_MODULES } from './groups/bookings.js';
import { CAMPAIGNS_ROUTE_MODULES } from './groups/campaigns.js';
import { CERTIFICATES_ROUTE_MODULES } from './groups/certificates.js';
import { DELIVERIES_ROUTE_MODULES } from './groups/deliveries.js';
import { RULES_ROUTE_MODULES } from './groups/rules.js';
import { groupOfModule, type HttpGroup, type ModulesOf, type RouteModuleName } from './route-groups.js';

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
  /** The merged reminder's texts, edited beside the rules (`/v1/rules/merged-template`). */
  mergedTemplates?: MergedTemplateStore;
  /** Delivery status: the history of sends through the deliveries index (phones are searched through `phoneHasher`). */
  deliveries?: DeliveryHistory;
  /** Seasonal campaigns: their store, the recipients' index and where visits' jobs are scheduled. */
  campaigns?: CampaignServices;
  /** The bookings that hold campaign slots (bookings, attendance, the report, inbound SMS). */
  bookings?: BookingStore;
  /** Our suppression list (`suppressions`, from ScanDeps) read in batches for the certificates' `suppressed` flag. */
  suppressedPhones?: SuppressedPhones;
  /** Which types a phone holds (the `byPhone` index): a bureau sees the suppressed numbers of its own holders only. */
  phoneHoldings?: PhoneHoldings;
  /** Opts a reinstated number back in at the provider (SNS `OptInPhoneNumber`; the local twin does nothing). */
  providerOptIn?: ProviderOptIn;
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

/**
 * Each route module, imported on its first request. esbuild still puts them in the one-file bundle, but
 * evaluates a module reached only through `import()` when it is first imported: a cold start pays for
 * the routing table and the composition, not for every use case behind it (bench/bundles.ts).
 * The modules are listed by group (route-groups.ts): a Lambda function of one group imports its group's
 * list only, so its bundle holds no other group's routes. Pure, so that a bundle which never calls
 * `createHttpApp` drops this list, and every other group's modules with it.
 */
const ROUTE_MODULES = /* @__PURE__ */ Object.assign(
  {},
  CERTIFICATES_ROUTE_MODULES,
  RULES_ROUTE_MODULES,
  CAMPAIGNS_ROUTE_MODULES,
  BOOKINGS_ROUTE_MODULES,
  DELIVERIES_ROUTE_MODULES,
) satisfies RouteModules;

/** Loaders of route modules by name: all of them (local mode), or one group's (a Lambda function). */
export type RouteModules<M extends RouteModuleName = RouteModuleName> = Record<M, () => Promise<readonly Route[]>>;

export type { RouteModuleName };

/** A route as the table knows it before its module is loaded: enough to match, authenticate and authorise. */
export type RouteEntry = Omit<Route, 'handler'> & { module: RouteModuleName };

/**
 * The routing table, in matching order (the first pattern that matches wins). A new route gets its entry
 * here and its handler in its module's `Route[]`; test/unit/http-route-table.test.ts holds the two equal.
 */
export const ROUTE_TABLE: readonly RouteEntry[] = [
  { method: 'GET', pattern: /^\/healthz$/, access: 'public', module: 'reference' },
  { method: 'GET', pattern: /^\/v1\/catalogue$/, access: 'readCertificates', module: 'reference' },
  { method: 'GET', pattern: /^\/v1\/townships$/, access: 'readCertificates', module: 'reference' },
  { method: 'GET', pattern: /^\/v1\/authorities$/, access: 'readCertificates', module: 'reference' },
  { method: 'POST', pattern: /^\/v1\/certificates\/revocations$/, access: 'writeCertificates', module: 'certificates' },
  { method: 'DELETE', pattern: /^\/v1\/certificates\/([^/]+)\/([^/]+)$/, access: 'writeCertificates', module: 'certificates' },
  { method: 'POST', pattern: /^\/v1\/certificates$/, access: 'writeCertificates', module: 'certificates' },
  { method: 'GET', pattern: /^\/v1\/certificates$/, access: 'readCertificates', module: 'certificates' },
  { method: 'GET', pattern: /^\/v1\/certificates\/([^/]+)\/([^/]+)$/, access: 'readCertificates', module: 'certificates' },
  { method: 'GET', pattern: /^\/v1\/certificates\/([^/]+)\/([^/]+)\/plan$/, access: 'readCertificates', module: 'certificates' },
  { method: 'POST', pattern: /^\/v1\/scans$/, access: 'runScans', module: 'scans' },
  { method: 'GET', pattern: /^\/v1\/outbox$/, access: 'readOutbox', module: 'scans' },
  { method: 'POST', pattern: /^\/v1\/tokens$/, access: 'manageTokens', module: 'tokens' },
  { method: 'GET', pattern: /^\/v1\/tokens$/, access: 'manageTokens', module: 'tokens' },
  { method: 'DELETE', pattern: /^\/v1\/tokens\/([^/]+)$/, access: 'manageTokens', module: 'tokens' },
  { method: 'POST', pattern: /^\/v1\/imports$/, access: 'writeCertificates', module: 'imports' },
  { method: 'GET', pattern: /^\/v1\/imports\/([^/]+)$/, access: 'readImports', module: 'imports' },
  { method: 'GET', pattern: /^\/v1\/imports\/([^/]+)\/errors\.csv$/, access: 'readImports', module: 'imports' },
  { method: 'GET', pattern: /^\/v1\/calendar$/, access: 'readCertificates', module: 'calendar' },
  { method: 'GET', pattern: /^\/v1\/calendar\/([^/]+)$/, access: 'readCertificates', module: 'calendar' },
  { method: 'PUT', pattern: /^\/v1\/calendar\/([^/]+)$/, access: 'loadCalendar', module: 'calendar' },
  { method: 'GET', pattern: /^\/v1\/audit$/, access: 'readAudit', module: 'audit' },
  // Before the per-type routes: `merged-template` is not a type code.
  { method: 'GET', pattern: /^\/v1\/rules\/merged-template$/, access: 'readCertificates', module: 'rules' },
  { method: 'PUT', pattern: /^\/v1\/rules\/merged-template$/, access: 'changeRules', module: 'rules' },
  { method: 'POST', pattern: /^\/v1\/rules\/merged-template\/preview$/, access: 'changeRules', module: 'rules' },
  { method: 'GET', pattern: /^\/v1\/rules$/, access: 'readCertificates', module: 'rules' },
  { method: 'GET', pattern: /^\/v1\/rules\/([^/]+)$/, access: 'readCertificates', module: 'rules' },
  { method: 'PUT', pattern: /^\/v1\/rules\/([^/]+)$/, access: 'changeRules', module: 'rules' },
  { method: 'POST', pattern: /^\/v1\/rules\/([^/]+)\/preview$/, access: 'changeRules', module: 'rules' },
  { method: 'GET', pattern: /^\/v1\/rules\/([^/]+)\/history$/, access: 'readCertificates', module: 'rules' },
  { method: 'POST', pattern: /^\/v1\/rules\/([^/]+)\/restore$/, access: 'changeRules', module: 'rules' },
  { method: 'POST', pattern: /^\/v1\/purges$/, access: 'runPurges', module: 'purges' },
  { method: 'GET', pattern: /^\/v1\/deliveries$/, access: 'readDeliveries', module: 'deliveries' },
  { method: 'GET', pattern: /^\/v1\/deliveries\/attention$/, access: 'readDeliveries', module: 'deliveries' },
  { method: 'POST', pattern: /^\/v1\/campaigns$/, access: 'manageCampaigns', module: 'campaigns' },
  { method: 'GET', pattern: /^\/v1\/campaigns$/, access: 'readCampaigns', module: 'campaigns' },
  { method: 'GET', pattern: /^\/v1\/campaigns\/([^/]+)$/, access: 'readCampaigns', module: 'campaigns' },
  { method: 'PATCH', pattern: /^\/v1\/campaigns\/([^/]+)$/, access: 'manageCampaigns', module: 'campaigns' },
  { method: 'POST', pattern: /^\/v1\/campaigns\/([^/]+)\/preview$/, access: 'manageCampaigns', module: 'campaigns' },
  { method: 'POST', pattern: /^\/v1\/campaigns\/([^/]+)\/visits$/, access: 'manageCampaigns', module: 'campaigns' },
  { method: 'PATCH', pattern: /^\/v1\/campaigns\/([^/]+)\/visits\/([^/]+)$/, access: 'manageCampaigns', module: 'campaigns' },
  { method: 'DELETE', pattern: /^\/v1\/campaigns\/([^/]+)\/visits\/([^/]+)$/, access: 'manageCampaigns', module: 'campaigns' },
  { method: 'POST', pattern: /^\/v1\/campaigns\/([^/]+)\/bookings$/, access: 'manageCampaigns', module: 'bookings' },
  { method: 'DELETE', pattern: /^\/v1\/campaigns\/([^/]+)\/bookings\/([^/]+)$/, access: 'manageCampaigns', module: 'bookings' },
  { method: 'POST', pattern: /^\/v1\/campaigns\/([^/]+)\/visits\/([^/]+)\/attendance$/, access: 'manageCampaigns', module: 'bookings' },
  { method: 'GET', pattern: /^\/v1\/campaigns\/([^/]+)\/report$/, access: 'readCampaigns', module: 'bookings' },
  { method: 'POST', pattern: /^\/v1\/inbound-sms$/, access: 'receiveInboundSms', module: 'inbound' },
  { method: 'GET', pattern: /^\/v1\/suppressions$/, access: 'readSuppressions', module: 'suppressions' },
  { method: 'DELETE', pattern: /^\/v1\/suppressions\/([^/]+)$/, access: 'reinstateSuppressions', module: 'suppressions' },
];

/** The group that serves a route on AWS: its module's (route-groups.ts). */
export function groupOf(entry: RouteEntry): HttpGroup {
  return groupOfModule(entry.module);
}

const loadedModules = new Map<() => Promise<readonly Route[]>, Promise<readonly Route[]>>();

/** A module's route array, imported once per loader (a failed import is tried again by the next request). */
function loadWith(loader: () => Promise<readonly Route[]>): Promise<readonly Route[]> {
  let loading = loadedModules.get(loader);
  if (loading === undefined) {
    loading = loader();
    void loading.catch(() => loadedModules.delete(loader));
    loadedModules.set(loader, loading);
  }
  return loading;
}

/** The loaded modules' route arrays, by module name (the route table's test compares them with the table). */
export function loadRouteModule(name: RouteModuleName): Promise<readonly Route[]> {
  return loadWith(ROUTE_MODULES[name]);
}

async function handlerOf(entry: RouteEntry, modules: Partial<RouteModules>): Promise<RouteHandler> {
  const loader = modules[entry.module];
  if (loader === undefined) throw new Error(`route table: routes/${entry.module} is not served by this function`);
  const route = (await loadWith(loader)).find((r) => r.method === entry.method && r.pattern.source === entry.pattern.source);
  if (route === undefined) throw new Error(`route table: ${entry.method} ${entry.pattern.source} has no handler in routes/${entry.module}`);
  return route.handler;
}

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
  return createRoutedApp(deps, ROUTE_MODULES);
}

/**
 * The HTTP API as one group's Lambda function serves it: the routes of the other groups are answered
 * with a 404 that names the group serving them (API Gateway sends them to that group's function, so only
 * a misrouted request gets here). Unknown paths and methods get the same 404 and 405 as everywhere.
 */
export function createGroupApp<G extends HttpGroup>(deps: HttpAppDeps, group: G, modules: RouteModules<ModulesOf<G>>): HttpApp {
  return createRoutedApp(deps, modules as Partial<RouteModules>, group);
}

function createRoutedApp(deps: HttpAppDeps, modules: Partial<RouteModules>, group?: HttpGroup): HttpApp {
  const refusal = (error: unknown): HttpResponse => {
    if (!(error instanceof HttpError)) deps.logger.error({ err: (error as Error).message, stack: (error as Error).stack }, 'request failed');
    return errorResponse(error);
  };
  const admit = async (head: HttpRequest): Promise<Admission> => {
    try {
      const { route, params, principal } = await authorise(deps, head, group);
      return {
        handle: async (req) => {
          try {
            return await (await handlerOf(route, modules))(req, params, deps, principal);
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
async function authorise(deps: HttpAppDeps, req: HttpRequest, group: HttpGroup | undefined): Promise<{ route: RouteEntry; params: string[]; principal: Principal }> {
  const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
  const { route, params } = match(req.method, path);
  if (group !== undefined && groupOf(route) !== group) {
    throw new HttpError(
      404,
      'not_found',
      `本函数不提供 ${req.method} ${maskPhonesInText(path)}，由 HTTP API 的 ${groupOf(route)} 函数提供 / ` +
        `${req.method} ${maskPhonesInText(path)} is served by the HTTP API's ${groupOf(route)} function, not this one: send it to the API's URL`,
    );
  }
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

function match(method: string, path: string): { route: RouteEntry; params: string[] } {
  let pathMatched = false;
  for (const route of ROUTE_TABLE) {
    const found = route.pattern.exec(path);
    if (found === null) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    return { route, params: found.slice(1).map(decodeSegment) };
  }
  // A path may carry a phone (DELETE /v1/suppressions/{phone}), and an error message may be logged or shown.
  if (pathMatched) throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${maskPhonesInText(path)}`);
  throw new HttpError(404, 'not_found', `no route for ${method} ${maskPhonesInText(path)}; see the README for the API`);
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
