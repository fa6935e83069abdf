import { DateTime } from 'luxon';
import * as z from 'zod';
import { mayPerform, mayTouchType, visibleTypes, type Principal } from '../../../core/access.js';
import { MAX_NUMBER_LENGTH } from '../../../core/certificate.js';
import { maskHolderId } from '../../../core/holder-id.js';
import { InvalidCursorError } from '../../../core/errors.js';
import { ZONE, type CertificateType, type Plan } from '../../../core/model.js';
import type { StoredCertificate } from '../../../core/ports.js';
import { MAX_CURSOR_LENGTH } from '../../cursors.js';
import { suppressedFlags } from '../../suppressions/suppressed-flags.js';
import { auditPrincipal, recordAudit } from '../../audit.js';
import { uploadCertificates } from '../../upload-certificates.js';
import { MAX_REVOCATIONS_PER_REQUEST, revokeCertificates, type RevocationItemResult } from '../../revoke-certificates.js';
import { revocationBodySchema } from '../../../core/revocation.js';
import type { HttpAppDeps, Route } from '../app.js';
import { HttpError, reply } from '../http.js';
import type {
  CertificateAnswer,
  certificateContract,
  certificatePageContract,
  PlanAnswer,
  planContract,
  RevocationAnswer,
  revocationContract,
  revocationReportContract,
  uploadResultContract,
} from '../../../contracts/api/certificates.js';
import { isoDate, parseJsonBody, parseWith } from '../parse.js';

/** Most records one POST /v1/certificates may carry; larger sets go through imports. */
export const MAX_RECORDS_PER_REQUEST = 10_000;

const listQuery = z
  .object({
    township: z.string().min(1).max(200).optional(),
    type: z.string().min(1).max(200).optional(),
    expiringBefore: isoDate.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().max(MAX_CURSOR_LENGTH).optional(),
  })
  .strict();

// Other query parameters are ignored here, as before `reveal` existed.
const readQuery = z.object({ reveal: z.enum(['holderId'], { error: 'reveal=holderId is the only value / 只能是 holderId' }).optional() });

const uploadQuery = z.object({ allOrNothing: z.enum(['true', 'false']).optional() }).strict();

/**
 * A certificate as the API shows it. The holder ID is masked (`3607**********123X`) unless `revealHolderId`:
 * only an operator's audited request for one record sees it whole.
 */
function certificateView(stored: StoredCertificate, revealHolderId = false, suppressed?: (phone: string) => boolean): CertificateAnswer {
  const { holder } = stored.certificate;
  return {
    ...stored.certificate,
    holder: holder.id === undefined || revealHolderId ? holder : { ...holder, id: maskHolderId(holder.id) },
    renewalDeadline: stored.plan.renewalDeadline,
    windowOpens: stored.plan.windowOpens,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
    ...(stored.revoked !== undefined ? { revoked: stored.revoked } : {}),
    // The holder opted out of SMS: staff phone them instead (see README, "Opting out").
    ...(suppressed !== undefined ? { suppressed: suppressed(stored.certificate.phone) } : {}),
  };
}

/**
 * A plan as the API shows it. `reminders` says whether certalarm reminds of this certificate at all:
 * false for a type without an expiry, whose plan is empty, with a note saying why rather than a bare `[]`.
 */
export function planView(plan: Plan, type: CertificateType | undefined): PlanAnswer {
  const reminders = type?.reminders !== false && plan.renewalDeadline !== null;
  const subject = type === undefined ? { zh: '此证照', en: 'this certificate' } : { zh: type.nameZh, en: `${type.code} (${type.nameZh})` };
  return {
    reminders,
    ...(reminders
      ? {}
      : { note: `${subject.zh}没有有效期，本服务不为其安排提醒 / ${subject.en} has no expiry, so certalarm plans no reminders for it` }),
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

function ensureMayTouch(deps: HttpAppDeps, principal: Principal, typeCode: string): void {
  const type = deps.reference.catalogue.get(typeCode);
  const decision = mayTouchType(principal, typeCode, type?.authority ?? '');
  if (!decision.allowed) throw new HttpError(403, 'forbidden', decision.reason);
}

async function findCertificate(params: string[], deps: HttpAppDeps, principal: Principal): Promise<StoredCertificate> {
  const [typeInput = '', number = ''] = params;
  const type = deps.reference.catalogue.resolve(typeInput);
  if (type === undefined) throw new HttpError(404, 'unknown_type', `unknown certificate type "${typeInput}"; see GET /v1/catalogue`);
  ensureMayTouch(deps, principal, type.code);
  // The upload's limit: a longer number was never stored, so it is not looked up.
  if (Array.from(number).length > MAX_NUMBER_LENGTH) {
    throw new HttpError(404, 'not_found', `no ${type.code} certificate numbered "${number.slice(0, 40)}…": certificate numbers are at most ${MAX_NUMBER_LENGTH} characters`);
  }
  const stored = await deps.store.getCertificate({ type: type.code, number });
  if (stored === undefined) throw new HttpError(404, 'not_found', `no ${type.code} certificate numbered "${number}"`);
  return stored;
}

const bulkRevocationBody = z
  .object({ items: z.array(z.unknown()).min(1, '至少一项 / at least one item').max(MAX_REVOCATIONS_PER_REQUEST, `每次最多 ${MAX_REVOCATIONS_PER_REQUEST} 项 / at most ${MAX_REVOCATIONS_PER_REQUEST} items per request`) })
  .strict();

function revoker(deps: HttpAppDeps) {
  if (deps.revoker === undefined) throw new HttpError(404, 'not_found', 'revocation is not available in this deployment');
  return deps.revoker;
}

/** The answer for one certificate: its mark, and the stages a scan had already claimed, if any. */
function revocationView(result: RevocationItemResult, stored: StoredCertificate): RevocationAnswer {
  // A revoked or already revoked certificate always carries its mark; the stored record names it.
  const revoked = result.revoked ?? stored.revoked;
  if (revoked === undefined) throw new Error(`revocation of ${stored.certificate.type} ${stored.certificate.number} answered ${result.outcome} without its mark`);
  return {
    type: result.type ?? stored.certificate.type,
    number: result.number ?? stored.certificate.number,
    revoked,
    ...(result.outcome === 'alreadyRevoked' ? { alreadyRevoked: true } : {}),
    ...(result.inFlight !== undefined ? { inFlight: result.inFlight } : {}),
  };
}

export const certificateRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/certificates\/revocations$/,
    access: 'writeCertificates',
    handler: async (req, _p, deps, principal) => {
      const { items } = parseWith(bulkRevocationBody, parseJsonBody(req), 'body');
      const report = await revokeCertificates({ ...deps, revoker: revoker(deps) }, principal, items, deps.clock.now());
      return reply<typeof revocationReportContract>(200, report);
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/v1\/certificates\/([^/]+)\/([^/]+)$/,
    access: 'writeCertificates',
    handler: async (req, params, deps, principal) => {
      const body = parseWith(revocationBodySchema, parseJsonBody(req), 'body');
      // 404 and 403 as a GET of the same certificate answers them.
      const stored = await findCertificate(params, deps, principal);
      const item = { type: stored.certificate.type, number: stored.certificate.number, ...body };
      const { results } = await revokeCertificates({ ...deps, revoker: revoker(deps) }, principal, [item], deps.clock.now());
      const [result] = results;
      if (result === undefined || result.outcome === 'notFound') throw new HttpError(404, 'not_found', result?.reason ?? 'not found');
      if (result.outcome === 'forbidden') throw new HttpError(403, 'forbidden', result.reason ?? 'forbidden');
      if (result.outcome === 'invalid') throw new HttpError(400, 'invalid_request', result.reason ?? 'invalid', result.errors);
      return reply<typeof revocationContract>(200, revocationView(result, stored));
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/certificates$/,
    access: 'writeCertificates',
    handler: async (req, _p, deps, principal) => {
      const query = parseWith(uploadQuery, req.query, 'query');
      const body = parseJsonBody(req);
      const records = Array.isArray(body) ? body : [body];
      if (records.length > MAX_RECORDS_PER_REQUEST) {
        throw new HttpError(413, 'too_many_records', `${records.length} records in one request; the limit is ${MAX_RECORDS_PER_REQUEST}. Split the batch, or use an import (POST /v1/imports).`);
      }
      // A request reaching outside the caller's scope is refused whole: nothing of it is stored.
      const outside = records.flatMap((record, index) => {
        const typeInput = (record as { type?: unknown } | null)?.type;
        const type = typeof typeInput === 'string' ? deps.reference.catalogue.resolve(typeInput) : undefined;
        if (type === undefined) return [];
        const decision = mayTouchType(principal, type.code, type.authority);
        return decision.allowed ? [] : [{ index, field: 'type', reason: decision.reason }];
      });
      if (outside.length > 0) throw new HttpError(403, 'forbidden', outside[0]?.reason ?? 'outside your scope', outside);
      const result = await uploadCertificates(deps, records, deps.clock.now(), { allOrNothing: query.allOrNothing === 'true' });
      const written = result.created + result.updated + result.renewed;
      await recordAudit(deps, auditPrincipal(principal), {
        action: 'certificates.upload',
        target: 'certificates',
        summary:
          `上传 ${records.length} 条：新增 ${result.created}、续期 ${result.renewed}、更新 ${result.updated}、未变 ${result.unchanged}、拒绝 ${result.rejected.length} / ` +
          `uploaded ${records.length} records: ${result.created} new, ${result.renewed} renewed, ${result.updated} updated, ${result.unchanged} unchanged, ${result.rejected.length} rejected`,
        details: { records: records.length, written, created: result.created, renewed: result.renewed, updated: result.updated, unchanged: result.unchanged, rejected: result.rejected.length },
      });
      return reply<typeof uploadResultContract>(200, result);
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/certificates$/,
    access: 'readCertificates',
    handler: async (req, _p, deps, principal) => {
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
        ensureMayTouch(deps, principal, type);
      }
      const scope = type === undefined ? visibleTypes(principal, deps.reference.catalogue.all()) : undefined;
      if (scope !== undefined && scope.length === 0) return reply<typeof certificatePageContract>(200, { items: [] });
      // A cursor pages through one query for one caller: the store's start key never crosses either.
      const binding = { query: { township, type, expiringBefore: query.expiringBefore }, principal };
      const now = deps.clock.now();
      try {
        const cursor = query.cursor === undefined ? undefined : await deps.cursors.open(query.cursor, binding, now);
        const page = await deps.store.listCertificates({
          limit: query.limit,
          ...(township !== undefined ? { township } : {}),
          ...(type !== undefined ? { type } : {}),
          ...(scope !== undefined ? { types: scope } : {}),
          ...(query.expiringBefore !== undefined ? { expiringBefore: query.expiringBefore } : {}),
          ...(cursor !== undefined ? { cursor } : {}),
        });
        const nextCursor = page.nextCursor === undefined ? undefined : await deps.cursors.seal(page.nextCursor, binding, now);
        const suppressed = await suppressedFlags(deps, principal, page.items.map((item) => item.certificate.phone));
        return reply<typeof certificatePageContract>(200, { items: page.items.map((item) => certificateView(item, false, suppressed)), ...(nextCursor !== undefined ? { nextCursor } : {}) });
      } catch (error) {
        if (error instanceof InvalidCursorError) throw new HttpError(400, 'invalid_cursor', error.message);
        throw error;
      }
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/certificates\/([^/]+)\/([^/]+)$/,
    access: 'readCertificates',
    handler: async (req, params, deps, principal) => {
      const query = parseWith(readQuery, req.query, 'query');
      const stored = await findCertificate(params, deps, principal);
      const suppressed = await suppressedFlags(deps, principal, [stored.certificate.phone]);
      if (query.reveal !== 'holderId') return reply<typeof certificateContract>(200, certificateView(stored, false, suppressed));
      const decision = mayPerform(principal, 'revealHolderIds');
      if (!decision.allowed) throw new HttpError(403, 'forbidden', decision.reason);
      // Every look at a whole ID is on the trail, whether or not the record has one.
      await recordAudit(deps, auditPrincipal(principal), {
        action: 'certificate.reveal',
        target: `certificate/${stored.certificate.type}/${stored.certificate.number}`,
        summary: `查看完整证件号码 / revealed the holder ID of ${stored.certificate.type} ${stored.certificate.number}`,
        details: { field: 'holder.id', present: stored.certificate.holder.id !== undefined },
      });
      return reply<typeof certificateContract>(200, certificateView(stored, true, suppressed));
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/certificates\/([^/]+)\/([^/]+)\/plan$/,
    access: 'readCertificates',
    handler: async (_req, params, deps, principal) => {
      const stored = await findCertificate(params, deps, principal);
      return reply<typeof planContract>(200, planView(stored.plan, deps.reference.catalogue.get(stored.certificate.type)));
    },
  },
];
