import { DateTime } from 'luxon';
import * as z from 'zod';
import { ZONE } from '../../../core/model.js';
import { sendDueReminders } from '../../send-due-reminders.js';
import type { Route } from '../app.js';
import { HttpError, json } from '../http.js';
import { isoInstant, parseJsonBody, parseWith } from '../parse.js';

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

const scanBody = z.object({ now: isoInstant.optional() }).strict();

export const scanRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/scans$/,
    access: 'runScans',
    handler: async (req, _p, deps) => {
      const body = req.body === undefined || req.body.trim() === '' ? {} : parseJsonBody(req);
      const { now } = parseWith(scanBody, body, 'scan request');
      const asOf = now === undefined ? deps.clock.now() : DateTime.fromISO(now, { setZone: true }).setZone(ZONE);
      return json(200, await sendDueReminders(deps, asOf));
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/outbox$/,
    access: 'readOutbox',
    handler: async (_req, _p, deps) => {
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
    },
  },
];
