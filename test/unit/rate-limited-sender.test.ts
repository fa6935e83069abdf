import { describe, expect, it } from 'vitest';
import type { SmsMessage } from '../../functions/core/ports.js';
import { RateLimitedSmsSender } from '../../functions/app/rate-limited-sender.js';

describe('Class: RateLimitedSmsSender', () => {
  it('spaces sends to the configured rate, even for concurrent callers', async () => {
    // Prepare: a virtual clock that advances only when the limiter sleeps.
    let now = 0;
    const sentAt: number[] = [];
    const inner = { send: async (_m: SmsMessage) => (sentAt.push(now), { messageId: String(sentAt.length) }) };
    const limiter = new RateLimitedSmsSender(inner, 4, () => now, async (ms) => {
      now += ms;
    });
    const message = { to: '+8613900000001', body: 'x', idempotencyKey: 'k' };

    // Act
    await Promise.all(Array.from({ length: 5 }, () => limiter.send(message)));

    // Assess
    expect(sentAt).toHaveLength(5);
    expect(Math.max(...sentAt)).toBeGreaterThanOrEqual(1000);
  });
});
