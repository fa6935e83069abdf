import * as z from 'zod';
import { InvalidCursorError } from '../../../core/errors.js';
import { instantInShanghai } from '../../../core/time.js';
import type { Route } from '../app.js';
import { HttpError, json } from '../http.js';
import { isoInstant, parseWith } from '../parse.js';

const auditQuery = z
  .object({
    since: isoInstant.optional(),
    actor: z.string().min(1).max(200).optional(),
    action: z.string().regex(/^[a-z]+(\.[a-z]+)*$/, 'an action such as calendar.load, or its kind such as import').optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(2000).optional(),
  })
  .strict();

/** Read only: the trail has no route that edits or deletes an entry. */
export const auditRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/v1\/audit$/,
    access: 'readAudit',
    handler: async (req, _p, deps) => {
      if (deps.audit === undefined) throw new HttpError(404, 'not_found', 'the audit log is not kept in this deployment');
      const query = parseWith(auditQuery, req.query, 'query');
      try {
        const page = await deps.audit.list({
          limit: query.limit,
          ...(query.since !== undefined ? { since: instantInShanghai(query.since).toUTC().toISO() ?? query.since } : {}),
          ...(query.actor !== undefined ? { actor: query.actor } : {}),
          ...(query.action !== undefined ? { action: query.action } : {}),
          ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
        });
        return json(200, page);
      } catch (error) {
        if (error instanceof InvalidCursorError) throw new HttpError(400, 'invalid_cursor', error.message);
        throw error;
      }
    },
  },
];
