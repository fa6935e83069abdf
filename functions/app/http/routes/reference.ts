import { currentCoverage } from '../../calendar/stored-calendar.js';
import type { Route } from '../app.js';
import { json } from '../http.js';

export const referenceRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/healthz$/,
    access: 'public',
    handler: async (_req, _p, deps) => {
      // Still "ok": a missing holiday year makes plans provisional, it does not stop the service.
      const warnings = deps.calendarSource === undefined ? [] : (await currentCoverage(deps.calendarSource, deps.clock)).warnings;
      return json(200, { status: 'ok', now: deps.clock.now().toISO(), warnings });
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/catalogue$/,
    access: 'readCertificates',
    handler: async (_req, _p, deps) =>
      json(
        200,
        deps.reference.catalogue.all().map((t) => ({
          code: t.code,
          nameZh: t.nameZh,
          nameEn: t.nameEn,
          smsName: t.smsName,
          category: t.category,
          authority: t.authority,
          renewalWindow: t.renewalWindow,
          renewalNote: t.renewalNote,
          renewalAction: t.renewalAction,
          renewalPlace: t.renewalPlace,
          reminders: t.reminders,
          basis: t.basis,
          legalBasis: t.legalBasis,
          seasonal: t.seasonal,
          confidence: t.confidence,
          ...(t.confidenceNote !== undefined ? { confidenceNote: t.confidenceNote } : {}),
        })),
      ),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/townships$/,
    access: 'readCertificates',
    handler: async (_req, _p, deps) => json(200, deps.reference.townships.all()),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/authorities$/,
    access: 'readCertificates',
    handler: async (_req, _p, deps) =>
      json(
        200,
        deps.reference.authorities.map((a) => ({
          ...a,
          types: deps.reference.catalogue
            .all()
            .filter((t) => t.authority === a.code)
            .map((t) => t.code),
        })),
      ),
  },
];
