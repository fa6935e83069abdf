import * as z from 'zod';
import { InvalidCursorError } from '../../../core/errors.js';
import { instantInShanghai } from '../../../core/time.js';
import { MAX_CURSOR_LENGTH } from '../../cursors.js';
import type { Route } from '../app.js';
import { HttpError, reply } from '../http.js';
import type { auditPageContract } from '../../../contracts/api/audit.js';
import { isoInstant, parseWith } from '../parse.js';

const auditQuery = z
  .object({
    since: isoInstant.optional(),
    actor: z.string().min(1).max(200).optional(),
    action: z.string().regex(/^[a-z]+(\.[a-z]+)*$/, 'an action such as calendar.load, or its kind such as import').optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(MAX_CURSOR_LENGTH).optional(),
  })
  .strict();

/** Read only: the trail has no route that edits or deletes an entry. */
export const auditRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/v1\/audit$/,
    access: 'readAudit',
    handler: async (req, _p, deps, principal) => {
      if (deps.audit === undefined) throw new HttpError(404, 'not_found', 'the audit log is not kept in this deployment');
      const query = parseWith(auditQuery, req.query, 'query');
      const since = query.since !== undefined ? (instantInShanghai(query.since).toUTC().toISO() ?? query.since) : undefined;
      // Sealed like the certificate listing's cursors: bound to this query and caller, and never a raw start key.
      const binding = { query: { since, actor: query.actor, action: query.action }, principal };
      const now = deps.clock.now();
      try {
        const cursor = query.cursor === undefined ? undefined : await deps.cursors.open(query.cursor, binding, now);
        const page = await deps.audit.list({
          limit: query.limit,
          ...(since !== undefined ? { since } : {}),
          ...(query.actor !== undefined ? { actor: query.actor } : {}),
          ...(query.action !== undefined ? { action: query.action } : {}),
          ...(cursor !== undefined ? { cursor } : {}),
        });
        const nextCursor = page.nextCursor === undefined ? undefined : await deps.cursors.seal(page.nextCursor, binding, now);
        return reply<typeof auditPageContract>(200, { ...page, ...(nextCursor !== undefined ? { nextCursor } : {}) });
      } catch (error) {
        if (error instanceof InvalidCursorError) throw new HttpError(400, 'invalid_cursor', error.message);
        throw error;
      }
    },
  },
];
