import * as z from 'zod';
import { auditPrincipal } from '../../audit.js';
import { purgeExpired } from '../../purge-expired.js';
import type { Route } from '../app.js';
import { HttpError, reply } from '../http.js';
import type { purgeResultContract } from '../../../contracts/api/scans.js';
import { parseWith } from '../parse.js';

/** A purge in a request stops here and answers `running`; the daily job, or the next request, continues it. */
const REQUEST_BUDGET_MS = 20_000;

const purgeBody = z.object({ dryRun: z.boolean().optional() }).strict();

export const purgeRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/purges$/,
    access: 'runPurges',
    handler: async (req, _p, deps, principal) => {
      if (deps.retention === undefined) throw new HttpError(404, 'not_found', 'retention purges are not available in this deployment');
      const body = req.body === undefined || req.body.trim() === '' ? {} : parseWith(purgeBody, parseBodyJson(req.body), 'body');
      const now = deps.clock.now();
      const result = await purgeExpired({ ...deps, retention: deps.retention }, now, {
        dryRun: body.dryRun === true,
        stopAtMs: now.toMillis() + REQUEST_BUDGET_MS,
        by: auditPrincipal(principal),
      });
      return reply<typeof purgeResultContract>(200, result);
    },
  },
];

function parseBodyJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, 'invalid_json', `the body is not valid JSON: ${(error as Error).message}`);
  }
}
