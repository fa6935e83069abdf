import * as z from 'zod';
import { nextSendableInstant } from '../../../core/planning.js';
import { runScheduledScan } from '../../scheduled-scan.js';
import { previewDueReminders } from '../../send-due-reminders.js';
import type { Route } from '../app.js';
import { calendarDeps } from './calendar.js';
import { HttpError, json, reply } from '../http.js';
import type { scanPreviewContract, scanQueuedContract, scanResultContract } from '../../../contracts/api/scans.js';
import { isoInstant, parseJsonBody, parseWith } from '../parse.js';
import { instantInShanghai } from '../../../core/time.js';

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
  campaign?: { campaignId: string; visitId: string; kind: string };
}

const scanBody = z
  .object({
    now: isoInstant.optional(),
    /** Answer what would be sent, writing and sending nothing. */
    dryRun: z.boolean().optional(),
    /** Scan as of the next instant inside the send window (from `now`, or the service clock): a demo at night. */
    atNextWindow: z.boolean().optional(),
  })
  .strict();

const outboxQuery = z
  .object({
    /** Only the latest n messages; more than the outbox keeps in memory are read back from its file. */
    last: z.coerce.number().int().min(1).max(100_000).optional(),
  })
  .strict();

export const scanRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/scans$/,
    access: 'runScans',
    handler: async (req, _p, deps) => {
      const body = req.body === undefined || req.body.trim() === '' ? {} : parseJsonBody(req);
      const { now, dryRun, atNextWindow } = parseWith(scanBody, body, 'scan request');
      const given = now === undefined ? deps.clock.now() : instantInShanghai(now);
      const asOf = atNextWindow === true ? nextSendableInstant(given, deps.settings.sendWindow) : given;
      // A dry run only reads, so it is answered here even where real scans are queued to the scan function.
      if (dryRun === true) return reply<typeof scanPreviewContract>(200, await previewDueReminders(deps, asOf));
      if (deps.triggerScan !== undefined) {
        // Only a `now` the caller chose is passed on: otherwise the scan runs as of its own start.
        const chosen = atNextWindow === true ? { now: asOf.toISO() ?? '' } : now !== undefined ? { now } : {};
        await deps.triggerScan.trigger({ kind: 'dueScan', ...chosen });
        return reply<typeof scanQueuedContract>(202, { queued: true, now: asOf.toISO() });
      }
      // The same run as the scheduled scan's (the rest of a calendar re-plan first); the answer stays the scan's result.
      const { unsentAtWindowClose: _unsent, ...result } = await runScheduledScan({ ...deps, ...calendarDeps(deps) }, { now: asOf });
      return reply<typeof scanResultContract>(200, result);
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/outbox$/,
    access: 'readOutbox',
    handler: async (req, _p, deps) => {
      if (deps.outbox === undefined) throw new HttpError(404, 'not_found', 'the outbox exists only in local mode');
      const { last } = parseWith(outboxQuery, req.query, 'query');
      return json(
        200,
        deps.outbox.list(last).map((e) => ({
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
          ...(e.campaign !== undefined ? { campaign: e.campaign } : {}),
        })),
      );
    },
  },
];
