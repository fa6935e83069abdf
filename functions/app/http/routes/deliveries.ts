import * as z from 'zod';
import { mayTouchType } from '../../../core/access.js';
import { DELIVERY_STATUSES } from '../../../core/delivery-status.js';
import { InvalidCursorError } from '../../../core/errors.js';
import { normaliseMainlandMobile, maskPhone } from '../../../core/phone.js';
import type { DeliveryListing } from '../../../core/ports.js';
import { instantInShanghai } from '../../../core/time.js';
import { MAX_CURSOR_LENGTH } from '../../cursors.js';
import { deliveriesNeedingAttention, listDeliveries } from '../../deliveries/list-deliveries.js';
import type { HttpAppDeps, Route } from '../app.js';
import { HttpError, reply } from '../http.js';
import type { attentionPageContract, deliveryPageContract } from '../../../contracts/api/deliveries.js';
import { isoInstant, parseWith } from '../parse.js';

const listQuery = z
  .object({
    status: z.enum(DELIVERY_STATUSES).optional(),
    type: z.string().min(1).max(200).optional(),
    number: z.string().min(1).max(64).optional(),
    // Never echoed back in an error: a bad phone is reported without its value (see phoneHashOf).
    phone: z.string().max(40).optional(),
    since: isoInstant.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(MAX_CURSOR_LENGTH).optional(),
  })
  .strict();

const attentionQuery = z
  .object({
    since: isoInstant.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(MAX_CURSOR_LENGTH).optional(),
  })
  .strict();

/** A delivery as the API shows it: the phone masked, always. */
function deliveryView(item: DeliveryListing) {
  return {
    source: item.source,
    ...(item.type !== undefined ? { type: item.type } : {}),
    ...(item.number !== undefined ? { number: item.number } : {}),
    kind: item.kind,
    to: item.to === undefined ? null : maskPhone(item.to),
    status: item.status,
    ...(item.reason !== undefined ? { reason: item.reason } : {}),
    body: item.body ?? null,
    messageId: item.messageId ?? null,
    sentAt: item.sentAt,
    ...(item.statusAt !== undefined ? { statusAt: item.statusAt } : {}),
    final: item.final,
  };
}

function deliveriesOf(deps: HttpAppDeps) {
  if (deps.deliveries === undefined) throw new HttpError(404, 'not_found', 'delivery status is not kept in this deployment');
  return deps.deliveries;
}

/** The keyed hash `phone=` is matched by; the number itself goes no further than this function. */
async function phoneHashOf(deps: HttpAppDeps, raw: string): Promise<string> {
  const phone = normaliseMainlandMobile(raw);
  // The reason is not passed on: it quotes the number, and an error message may end up in a log.
  const reason = '不是有效的中国大陆手机号 / not a valid mainland China mobile number';
  if (!phone.ok) throw new HttpError(400, 'invalid_request', `invalid query: phone: ${reason}`, [{ field: 'phone', reason }]);
  if (deps.phoneHasher === undefined) throw new HttpError(400, 'invalid_request', '本部署未配置按手机号查询 / searching deliveries by phone is not configured in this deployment');
  return deps.phoneHasher.hash(phone.e164);
}

function utc(instant: string | undefined): string | undefined {
  return instant === undefined ? undefined : (instantInShanghai(instant).toUTC().toISO() ?? undefined);
}

export const deliveryRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/v1\/deliveries$/,
    access: 'readDeliveries',
    handler: async (req, _p, deps, principal) => {
      const deliveries = deliveriesOf(deps);
      const query = parseWith(listQuery, req.query, 'query');
      let type: string | undefined;
      if (query.type !== undefined) {
        const resolved = deps.reference.catalogue.resolve(query.type);
        if (resolved === undefined) throw new HttpError(400, 'unknown_type', `unknown certificate type "${query.type}"; see GET /v1/catalogue`);
        const decision = mayTouchType(principal, resolved.code, resolved.authority);
        if (!decision.allowed) throw new HttpError(403, 'forbidden', decision.reason);
        type = resolved.code;
      }
      const phoneHash = query.phone === undefined ? undefined : await phoneHashOf(deps, query.phone);
      const since = utc(query.since);
      // The cursor is bound to the hash, not the phone: nothing the service signs carries the number.
      const binding = { query: { status: query.status, type, number: query.number, phoneHash, since }, principal };
      const now = deps.clock.now();
      try {
        const cursor = query.cursor === undefined ? undefined : await deps.cursors.open(query.cursor, binding, now);
        const page = await listDeliveries({ deliveries, reference: deps.reference }, principal, {
          limit: query.limit,
          ...(query.status !== undefined ? { status: query.status } : {}),
          ...(type !== undefined ? { type } : {}),
          ...(query.number !== undefined ? { number: query.number } : {}),
          ...(phoneHash !== undefined ? { phoneHash } : {}),
          ...(since !== undefined ? { since } : {}),
          ...(cursor !== undefined ? { cursor } : {}),
        });
        const nextCursor = page.nextCursor === undefined ? undefined : await deps.cursors.seal(page.nextCursor, binding, now);
        return reply<typeof deliveryPageContract>(200, { items: page.items.map(deliveryView), ...(nextCursor !== undefined ? { nextCursor } : {}) });
      } catch (error) {
        if (error instanceof InvalidCursorError) throw new HttpError(400, 'invalid_cursor', error.message);
        throw error;
      }
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/deliveries\/attention$/,
    access: 'readDeliveries',
    handler: async (req, _p, deps, principal) => {
      const deliveries = deliveriesOf(deps);
      const query = parseWith(attentionQuery, req.query, 'query');
      const since = utc(query.since);
      const binding = { query: { attention: 'final', since }, principal };
      const now = deps.clock.now();
      try {
        const cursor = query.cursor === undefined ? undefined : await deps.cursors.open(query.cursor, binding, now);
        const page = await deliveriesNeedingAttention({ deliveries, reference: deps.reference }, principal, now, {
          limit: query.limit,
          ...(since !== undefined ? { since } : {}),
          ...(cursor !== undefined ? { cursor } : {}),
        });
        const nextCursor = page.nextCursor === undefined ? undefined : await deps.cursors.seal(page.nextCursor, binding, now);
        return reply<typeof attentionPageContract>(200, {
          items: page.items.map((item) => ({ ...deliveryView(item), why: item.why })),
          ...(nextCursor !== undefined ? { nextCursor } : {}),
        });
      } catch (error) {
        if (error instanceof InvalidCursorError) throw new HttpError(400, 'invalid_cursor', error.message);
        throw error;
      }
    },
  },
];
