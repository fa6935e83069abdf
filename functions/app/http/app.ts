import { DateTime } from 'luxon';
import * as z from 'zod';
import { ZONE, type Plan } from '../../core/model.js';
import type { Clock, StoredCertificate } from '../../core/ports.js';
import { InvalidCursorError } from '../../core/errors.js';
import { sendDueReminders, type ScanDeps } from '../send-due-reminders.js';
import { uploadCertificates } from '../upload-certificates.js';
import { HttpError, type HttpRequest, type HttpResponse, json, errorResponse } from './http.js';

export interface HttpAppDeps extends ScanDeps {
  clock: Clock;
  /** Local mode only: the outbox standing in for SNS. */
  outbox?: { list(): OutboxView[] };
}

export interface OutboxView {
  messageId: string;
  to: string;
  type: string;
  number: string;
  stage: string;
  expiresOn: string;
  renewalDeadline: string;
  body: string;
  segments: number;
  sentAt: string;
}

/** Most records one POST /v1/certificates may carry; larger sets go through imports. */
export const MAX_RECORDS_PER_REQUEST = 10_000;

const isoInstant = z.string().refine((s) => DateTime.fromISO(s, { setZone: true }).isValid, 'not an ISO-8601 instant, e.g. 2026-12-01T10:00:00+08:00');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'use YYYY-MM-DD').refine((s) => DateTime.fromISO(s).isValid, 'not a real date');

const scanBody = z.object({ now: isoInstant.optional() }).strict();
const listQuery = z
  .object({
    township: z.string().min(1).optional(),
    type: z.string().min(1).optional(),
    expiringBefore: isoDate.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().optional(),
  })
  .strict();

type Handler = (req: HttpRequest, params: string[], deps: HttpAppDeps) => Promise<HttpResponse>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

const routes: Route[] = [
  { method: 'GET', pattern: /^\/healthz$/, handler: async (_req, _p, deps) => json(200, { status: 'ok', now: deps.clock.now().toISO() }) },
  { method: 'GET', pattern: /^\/v1\/catalogue$/, handler: async (_req, _p, deps) => json(200, catalogueView(deps)) },
  { method: 'GET', pattern: /^\/v1\/townships$/, handler: async (_req, _p, deps) => json(200, deps.reference.townships.all()) },
  { method: 'POST', pattern: /^\/v1\/certificates$/, handler: postCertificates },
  { method: 'GET', pattern: /^\/v1\/certificates$/, handler: listCertificates },
  { method: 'GET', pattern: /^\/v1\/certificates\/([^/]+)\/([^/]+)$/, handler: getCertificate },
  { method: 'GET', pattern: /^\/v1\/certificates\/([^/]+)\/([^/]+)\/plan$/, handler: getPlan },
  { method: 'POST', pattern: /^\/v1\/scans$/, handler: postScan },
  { method: 'GET', pattern: /^\/v1\/outbox$/, handler: getOutbox },
];

/** The whole HTTP API as one function: the same code runs behind node:http locally and API Gateway on AWS. */
export function createHttpApp(deps: HttpAppDeps): (req: HttpRequest) => Promise<HttpResponse> {
  return async (req) => {
    try {
      const bodyBytes = req.body === undefined ? 0 : Buffer.byteLength(req.body);
      if (bodyBytes > deps.settings.maxBodyBytes) {
        throw new HttpError(413, 'payload_too_large', `request body is ${bodyBytes} bytes; the limit is ${deps.settings.maxBodyBytes}. Split the batch, or use an import.`);
      }
      const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
      let pathMatched = false;
      for (const route of routes) {
        const match = route.pattern.exec(path);
        if (match === null) continue;
        pathMatched = true;
        if (route.method !== req.method) continue;
        const params = match.slice(1).map((segment) => decodeSegment(segment));
        return await route.handler(req, params, deps);
      }
      if (pathMatched) throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${path}`);
      throw new HttpError(404, 'not_found', `no route for ${req.method} ${path}; see README for the API`);
    } catch (error) {
      if (!(error instanceof HttpError)) deps.logger.error({ err: (error as Error).message, stack: (error as Error).stack }, 'request failed');
      return errorResponse(error);
    }
  };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'bad_path', `path segment "${segment}" is not valid percent-encoding`);
  }
}

function parseJsonBody(req: HttpRequest): unknown {
  if (req.body === undefined || req.body.trim() === '') throw new HttpError(400, 'empty_body', 'the request needs a JSON body');
  try {
    return JSON.parse(req.body) as unknown;
  } catch (error) {
    throw new HttpError(400, 'invalid_json', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new HttpError(
    400,
    'invalid_request',
    `invalid ${what}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    parsed.error.issues.map((i) => ({ field: i.path.join('.'), reason: i.message })),
  );
}

function catalogueView(deps: HttpAppDeps) {
  return deps.reference.catalogue.all().map((t) => ({
    code: t.code,
    nameZh: t.nameZh,
    nameEn: t.nameEn,
    category: t.category,
    authority: t.authority,
    renewalWindow: t.renewalWindow,
    renewalAction: t.renewalAction,
    legalBasis: t.legalBasis,
    seasonal: t.seasonal,
    confidence: t.confidence,
    ...(t.confidenceNote !== undefined ? { confidenceNote: t.confidenceNote } : {}),
  }));
}

async function postCertificates(req: HttpRequest, _params: string[], deps: HttpAppDeps): Promise<HttpResponse> {
  const body = parseJsonBody(req);
  const records = Array.isArray(body) ? body : [body];
  if (records.length > MAX_RECORDS_PER_REQUEST) {
    throw new HttpError(413, 'too_many_records', `${records.length} records in one request; the limit is ${MAX_RECORDS_PER_REQUEST}. Split the batch.`);
  }
  const result = await uploadCertificates(deps, records, deps.clock.now());
  return json(200, result);
}

function certificateView(stored: StoredCertificate) {
  return {
    ...stored.certificate,
    renewalDeadline: stored.plan.renewalDeadline,
    windowOpens: stored.plan.windowOpens,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
  };
}

export function planView(plan: Plan) {
  return {
    renewalDeadline: plan.renewalDeadline,
    windowOpens: plan.windowOpens,
    calendarProvisional: plan.calendarProvisional,
    stages: plan.stages.map((s) => ({
      stage: s.stage,
      date: s.date,
      sendAt: DateTime.fromISO(s.sendAt, { zone: ZONE }).toISO(),
      status: s.status,
      ...(s.note !== undefined ? { note: s.note } : {}),
      ...(s.messageId !== undefined ? { messageId: s.messageId } : {}),
      ...(s.sentAt !== undefined ? { sentAt: s.sentAt } : {}),
    })),
  };
}

async function findCertificate(params: string[], deps: HttpAppDeps): Promise<StoredCertificate> {
  const [typeInput = '', number = ''] = params;
  const type = deps.reference.catalogue.resolve(typeInput);
  if (type === undefined) throw new HttpError(404, 'unknown_type', `unknown certificate type "${typeInput}"; see GET /v1/catalogue`);
  const stored = await deps.store.getCertificate({ type: type.code, number });
  if (stored === undefined) throw new HttpError(404, 'not_found', `no ${type.code} certificate numbered "${number}"`);
  return stored;
}

async function getCertificate(_req: HttpRequest, params: string[], deps: HttpAppDeps): Promise<HttpResponse> {
  return json(200, certificateView(await findCertificate(params, deps)));
}

async function getPlan(_req: HttpRequest, params: string[], deps: HttpAppDeps): Promise<HttpResponse> {
  return json(200, planView((await findCertificate(params, deps)).plan));
}

async function listCertificates(req: HttpRequest, _params: string[], deps: HttpAppDeps): Promise<HttpResponse> {
  const query = parseWith(listQuery, req.query, 'query');
  let township: string | undefined;
  if (query.township !== undefined) {
    township = deps.reference.townships.resolve(query.township)?.code;
    if (township === undefined) throw new HttpError(400, 'unknown_township', `unknown township "${query.township}"; see GET /v1/townships`);
  }
  let type: string | undefined;
  if (query.type !== undefined) {
    type = deps.reference.catalogue.resolve(query.type)?.code;
    if (type === undefined) throw new HttpError(400, 'unknown_type', `unknown certificate type "${query.type}"; see GET /v1/catalogue`);
  }
  try {
    const page = await deps.store.listCertificates({
      limit: query.limit,
      ...(township !== undefined ? { township } : {}),
      ...(type !== undefined ? { type } : {}),
      ...(query.expiringBefore !== undefined ? { expiringBefore: query.expiringBefore } : {}),
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    });
    return json(200, { items: page.items.map(certificateView), ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}) });
  } catch (error) {
    if (error instanceof InvalidCursorError) throw new HttpError(400, 'invalid_cursor', error.message);
    throw error;
  }
}

async function postScan(req: HttpRequest, _params: string[], deps: HttpAppDeps): Promise<HttpResponse> {
  const body = req.body === undefined || req.body.trim() === '' ? {} : parseJsonBody(req);
  const { now } = parseWith(scanBody, body, 'scan request');
  const asOf = now === undefined ? deps.clock.now() : DateTime.fromISO(now, { setZone: true }).setZone(ZONE);
  return json(200, await sendDueReminders(deps, asOf));
}

async function getOutbox(_req: HttpRequest, _params: string[], deps: HttpAppDeps): Promise<HttpResponse> {
  if (deps.outbox === undefined) throw new HttpError(404, 'not_found', 'the outbox exists only in local mode');
  return json(
    200,
    deps.outbox.list().map((e) => ({
      to: e.to,
      type: e.type,
      number: e.number,
      stage: e.stage,
      expiresOn: e.expiresOn,
      renewalDeadline: e.renewalDeadline,
      body: e.body,
      segments: e.segments,
      sentAt: e.sentAt,
      messageId: e.messageId,
    })),
  );
}
