import type { SmsMessage, SmsReceipt, SmsSender } from '../core/ports.js';

/**
 * Paces sends to at most `perSecond` across every caller sharing this instance.
 * Slots are reserved before waiting, so concurrent workers never burst past the rate.
 */
export class RateLimitedSmsSender implements SmsSender {
  private nextSlot = 0;
  private readonly spacingMs: number;

  constructor(
    private readonly inner: SmsSender,
    perSecond: number,
    private readonly wallClock: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.spacingMs = 1000 / perSecond;
  }

  async send(message: SmsMessage): Promise<SmsReceipt> {
    const now = this.wallClock();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + this.spacingMs;
    if (slot > now) await this.sleep(slot - now);
    return this.inner.send(message);
  }
}
