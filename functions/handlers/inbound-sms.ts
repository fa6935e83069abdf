import { inboundSmsFromSns } from '../adapters/aws/sns-inbound-sms.js';
import { receiveInboundSms, type InboundOutcome } from '../app/inbound/receive-inbound-sms.js';
import { inboundDeps } from './runtime.js';

/** SNS two-way SMS → each holder's reply books, moves, cancels or gets the help text. */
export async function handler(event: unknown): Promise<InboundOutcome[]> {
  const deliveries = inboundSmsFromSns(event);
  const deps = inboundDeps();
  const outcomes: InboundOutcome[] = [];
  for (const { inboundMessageId, ...message } of deliveries) {
    const outcome = await receiveInboundSms(deps, message);
    deps.logger.info({ inboundMessageId, action: outcome.action }, 'inbound SMS handled');
    outcomes.push(outcome);
  }
  return outcomes;
}
