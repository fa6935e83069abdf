import * as z from 'zod';
import { instantInShanghai } from '../../../core/time.js';
import { BookingContended } from '../../campaigns/bookings.js';
import { receiveInboundSms } from '../../inbound/receive-inbound-sms.js';
import type { Route } from '../app.js';
import { HttpError, reply } from '../http.js';
import type { inboundOutcomeContract } from '../../../contracts/api/inbound.js';
import { isoInstant, parseJsonBody, parseWith } from '../parse.js';

/** What SNS two-way SMS carries, written by hand: who sent it, the text, and when it arrived. */
const inboundRequest = z.strictObject({
  from: z.string().trim().min(1, 'the sender, e.g. +8613900000001').max(32),
  // Longer than any real reply; the parser reads only short ones, the rest gets the help text.
  text: z.string().max(1000),
  receivedAt: isoInstant.optional(),
});

export const inboundRoutes: Route[] = [
  {
    // Local mode and tests: an operator feeds in a reply as SNS would deliver it (see README, *Campaigns*).
    method: 'POST',
    pattern: /^\/v1\/inbound-sms$/,
    access: 'receiveInboundSms',
    handler: async (req, _params, deps) => {
      const { campaigns, bookings } = deps;
      if (campaigns === undefined || bookings === undefined) throw new HttpError(404, 'not_found', 'campaigns are not kept in this deployment');
      const request = parseWith(inboundRequest, parseJsonBody(req), 'inbound SMS');
      const receivedAt = request.receivedAt === undefined ? deps.clock.now() : instantInShanghai(request.receivedAt);
      try {
        return reply<typeof inboundOutcomeContract>(200, await receiveInboundSms({ ...deps, campaigns, bookings }, { from: request.from, text: request.text, receivedAt }));
      } catch (error) {
        if (error instanceof BookingContended) throw new HttpError(503, 'contended', error.message);
        throw error;
      }
    },
  },
];
