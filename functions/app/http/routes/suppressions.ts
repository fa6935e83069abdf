import * as z from 'zod';
import { InvalidCursorError } from '../../../core/errors.js';
import { maskPhonesInText } from '../../../core/log-masking.js';
import { maskPhone, normaliseMainlandMobile } from '../../../core/phone.js';
import { providerOptInMessage, type ProviderOptInOutcome, type Suppression } from '../../../core/suppression.js';
import { MAX_CURSOR_LENGTH } from '../../cursors.js';
import { listSuppressions, reinstateSuppression, type SuppressionDeps } from '../../suppressions/manage-suppressions.js';
import type { HttpAppDeps, Route } from '../app.js';
import { HttpError, reply } from '../http.js';
import type { reinstatedContract, suppressionPageContract } from '../../../contracts/api/suppressions.js';
import { parseJsonBody, parseWith } from '../parse.js';

const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(MAX_CURSOR_LENGTH).optional(),
  })
  .strict();

/** Longest comment kept with a reinstatement; a longer story belongs in the bureau's own file. */
export const MAX_REINSTATE_COMMENT = 500;

const reinstateBody = z
  .object({
    comment: z
      .string({ error: '需要说明恢复发送的原因 / a comment saying why the number is reinstated is required' })
      .trim()
      .min(1, '说明不能为空 / the comment must not be blank')
      .max(MAX_REINSTATE_COMMENT, `说明最多 ${MAX_REINSTATE_COMMENT} 个字符 / the comment is at most ${MAX_REINSTATE_COMMENT} characters`),
  })
  .strict();

/** An entry as the API shows it: the phone masked, always. */
function suppressionView(entry: Suppression) {
  return { phone: maskPhone(entry.phone), source: entry.source, at: entry.at, ...(entry.detail !== undefined ? { detail: entry.detail } : {}) };
}

/** What the provider said to opting the number back in; a refusal with what to do about it, in both languages. */
function providerOptInView(outcome: ProviderOptInOutcome) {
  return outcome.status === 'refused' ? { status: outcome.status, reason: outcome.reason, message: providerOptInMessage(outcome.reason) } : { status: outcome.status };
}

function suppressionDeps(deps: HttpAppDeps): SuppressionDeps {
  if (deps.suppressions === undefined || deps.phoneHoldings === undefined) throw new HttpError(404, 'not_found', 'the suppression list is not kept in this deployment');
  return { ...deps, suppressions: deps.suppressions, holdings: deps.phoneHoldings };
}

/** The number in the path, as E.164; an error never repeats it (it may be logged or shown). */
function phoneOf(raw: string): string {
  const phone = normaliseMainlandMobile(raw);
  const reason = '不是有效的中国大陆手机号 / not a valid mainland China mobile number';
  if (!phone.ok) throw new HttpError(400, 'invalid_request', `invalid path: phone: ${reason}`, [{ field: 'phone', reason }]);
  return phone.e164;
}

export const suppressionRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/v1\/suppressions$/,
    access: 'readSuppressions',
    handler: async (req, _p, deps, principal) => {
      const services = suppressionDeps(deps);
      const query = parseWith(listQuery, req.query, 'query');
      const binding = { query: { suppressions: 'all' }, principal };
      const now = deps.clock.now();
      try {
        const cursor = query.cursor === undefined ? undefined : await deps.cursors.open(query.cursor, binding, now);
        const page = await listSuppressions(services, principal, { limit: query.limit, ...(cursor !== undefined ? { cursor } : {}) });
        const nextCursor = page.nextCursor === undefined ? undefined : await deps.cursors.seal(page.nextCursor, binding, now);
        return reply<typeof suppressionPageContract>(200, { items: page.items.map(suppressionView), ...(nextCursor !== undefined ? { nextCursor } : {}) });
      } catch (error) {
        if (error instanceof InvalidCursorError) throw new HttpError(400, 'invalid_cursor', error.message);
        throw error;
      }
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/v1\/suppressions\/([^/]+)$/,
    access: 'reinstateSuppressions',
    handler: async (req, params, deps, principal) => {
      const services = suppressionDeps(deps);
      const phone = phoneOf(params[0] ?? '');
      const body = parseWith(reinstateBody, req.body === undefined || req.body.trim() === '' ? {} : parseJsonBody(req), 'body');
      const result = await reinstateSuppression(services, principal, phone, body.comment);
      if (result.outcome === 'not_suppressed') {
        throw new HttpError(404, 'not_found', `${maskPhone(phone)} 不在退订名单上 / ${maskPhone(phone)} is not on the suppression list`);
      }
      // The comment as the audit trail keeps it: a number typed into it is masked there too.
      return reply<typeof reinstatedContract>(200, { ...suppressionView(result.removed), reinstated: true, comment: maskPhonesInText(body.comment), providerOptIn: providerOptInView(result.providerOptIn) });
    },
  },
];
