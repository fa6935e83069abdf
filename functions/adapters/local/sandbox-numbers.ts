/**
 * The local outbox's receipt sandbox, documented like GOV.UK Notify's test numbers (README, "Delivery
 * status"): fixed numbers whose messages always fail, or are never confirmed, so that failures and the
 * attention list can be tried locally. Every other number is delivered.
 */

/** Why each number of 13900000900–13900000909 fails, by its last digit: the reasons mainland carriers report. */
export const SANDBOX_FAILURE_REASONS: readonly string[] = [
  '空号 / number does not exist',
  '停机 / number suspended by the carrier',
  '关机或不在服务区 / phone switched off or out of coverage',
  '用户拒收 / the recipient blocks messages from this sender',
  '运营商拦截 / blocked by the carrier',
  '空号 / number does not exist',
  '停机 / number suspended by the carrier',
  '关机或不在服务区 / phone switched off or out of coverage',
  '用户拒收 / the recipient blocks messages from this sender',
  '运营商拦截 / blocked by the carrier',
];

export type SandboxOutcome = { status: 'delivered' } | { status: 'failed'; reason: string } | { status: 'unconfirmed' };

/** What the sandbox reports for a message to `e164` (or to the bare 11 digits). */
export function sandboxOutcome(e164: string): SandboxOutcome {
  const digits = e164.replace(/^\+86/, '');
  const block = /^139000009([01])(\d)$/.exec(digits);
  if (block?.[1] === '0') return { status: 'failed', reason: SANDBOX_FAILURE_REASONS[Number(block[2])] ?? SANDBOX_FAILURE_REASONS[0] ?? '' };
  if (block?.[1] === '1') return { status: 'unconfirmed' };
  return { status: 'delivered' };
}
