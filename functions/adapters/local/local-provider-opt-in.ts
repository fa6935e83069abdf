import type { ProviderOptIn } from '../../core/ports.js';
import type { ProviderOptInOutcome } from '../../core/suppression.js';

/**
 * The local twin of SNS's opt-in: the outbox keeps no opt-out list of its own, so a number reinstated on
 * ours has nothing else to leave.
 */
export class LocalProviderOptIn implements ProviderOptIn {
  optIn(): Promise<ProviderOptInOutcome> {
    return Promise.resolve({ status: 'not-needed' });
  }
}
