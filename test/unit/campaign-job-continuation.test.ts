import { describe, expect, it } from 'vitest';
import { scheduleJobContinuation } from '../../functions/app/campaigns/visit-jobs.js';
import { DEFAULT_SEND_WINDOW } from '../../functions/core/model.js';
import type { ScheduleGateway, ScheduleOnceRequest } from '../../functions/core/ports.js';
import type { CampaignJobPayload } from '../../functions/core/schedule-payloads.js';
import { at } from '../support/fixtures.js';

const PAYLOAD = { kind: 'campaignJob', campaignId: 'cmp_spring2027', visitId: 'v_lianjiang', job: 'notice' } as const satisfies CampaignJobPayload;

/** A gateway that keeps what it was asked to schedule. */
function recordingGateway(): ScheduleGateway & { requests: ScheduleOnceRequest[] } {
  const requests: ScheduleOnceRequest[] = [];
  return {
    requests,
    scheduleOnce: (request) => {
      requests.push(request);
      return Promise.resolve();
    },
    reschedule: () => Promise.reject(new Error('a continuation is never a move')),
    cancel: () => Promise.reject(new Error('a continuation cancels nothing')),
  };
}

function scheduler(gateway: ScheduleGateway) {
  return { gateway, targetArn: 'arn:aws:lambda:ap-southeast-1:123456789012:function:certalarm-campaign-job', roleArn: 'arn:aws:iam::123456789012:role/scheduler', group: 'certalarm-campaigns' };
}

describe('Use case: scheduleJobContinuation', () => {
  it('runs a job that stopped inside the send window again ten minutes later, under a name that carries the minute', async () => {
    // Prepare
    const gateway = recordingGateway();

    // Act
    const when = await scheduleJobContinuation(scheduler(gateway), PAYLOAD, at('2026-12-29T10:03:27+08:00'), DEFAULT_SEND_WINDOW);

    // Assess
    expect(when.toISO()).toBe('2026-12-29T10:13:00.000+08:00');
    expect(gateway.requests).toEqual([
      expect.objectContaining({ name: 'campaign-notice-again-cmp_spring2027.v_lianjiang.202612291013', payload: PAYLOAD, group: 'certalarm-campaigns' }),
    ]);
  });

  it('waits for the next opening of the send window when the job stopped near or after its close', async () => {
    // Prepare
    const gateway = recordingGateway();

    // Act
    const when = await scheduleJobContinuation(scheduler(gateway), PAYLOAD, at('2026-12-29T19:55:00+08:00'), DEFAULT_SEND_WINDOW);

    // Assess
    expect(when.toISO()).toBe('2026-12-30T09:00:00.000+08:00');
    expect(gateway.requests[0]?.name).toBe('campaign-notice-again-cmp_spring2027.v_lianjiang.202612300900');
  });

  it('continues a job that left only messages deferred by the daily cap when the window opens the next day, not ten minutes later', async () => {
    // Prepare
    const gateway = recordingGateway();

    // Act
    const when = await scheduleJobContinuation(scheduler(gateway), PAYLOAD, at('2026-12-29T10:03:27+08:00'), DEFAULT_SEND_WINDOW, { nextDay: true });

    // Assess
    expect(when.toISO()).toBe('2026-12-30T09:00:00.000+08:00');
    expect(gateway.requests[0]?.name).toBe('campaign-notice-again-cmp_spring2027.v_lianjiang.202612300900');
  });
});
