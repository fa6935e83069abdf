import 'aws-sdk-client-mock-vitest/extend';
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { DateTime } from 'luxon';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventBridgeScheduleGateway, SCHEDULE_NAME_PATTERN, scheduleName } from '../../functions/adapters/aws/schedule-gateway.js';
import { InProcessScheduleGateway } from '../../functions/adapters/local/in-process-schedule-gateway.js';
import type { Clock, ScheduleOnceRequest } from '../../functions/core/ports.js';
import { campaignJobPayloadSchema, type CampaignJobPayload } from '../../functions/core/schedule-payloads.js';

const schedulerMock = mockClient(SchedulerClient);
const meta = (httpStatusCode: number) => ({ httpStatusCode, requestId: 'req-1', attempts: 1, totalRetryDelay: 0 });

const TARGET_ARN = 'arn:aws:lambda:ap-southeast-1:123456789012:function:certalarm-due-scan';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/certalarm-scheduler';
const DLQ_ARN = 'arn:aws:sqs:ap-southeast-1:123456789012:certalarm-campaign-jobs-dlq';
const CAMPAIGN_TARGET_ARN = 'arn:aws:lambda:ap-southeast-1:123456789012:function:certalarm-campaign-job';
const CAMPAIGN_ROLE_ARN = 'arn:aws:iam::123456789012:role/certalarm-campaign-scheduler';

function gatewayFor(): EventBridgeScheduleGateway {
  return new EventBridgeScheduleGateway({ client: new SchedulerClient({ region: 'ap-southeast-1' }), deadLetterArn: DLQ_ARN });
}

/** A visit's booking notice as the campaign use case schedules it: 14 days before a 2027-01-20 visit, 09:00 Beijing. */
const VISIT_NOTICE_PAYLOAD = { kind: 'campaignJob', campaignId: 'C7K2P9', visitId: 'V3M8Q4', job: 'notice' } as const satisfies CampaignJobPayload;
function visitNotice(at = '2027-01-06T01:00:00Z'): ScheduleOnceRequest {
  return {
    name: scheduleName('campaign-notice', 'C7K2P9.V3M8Q4'),
    at: DateTime.fromISO(at, { zone: 'utc' }),
    payload: VISIT_NOTICE_PAYLOAD,
    targetArn: CAMPAIGN_TARGET_ARN,
    roleArn: CAMPAIGN_ROLE_ARN,
    group: 'certalarm-campaigns',
  };
}

/** Every field CreateSchedule and UpdateSchedule take for a visit's notice: UpdateSchedule replaces them all. */
function expectedVisitNoticeInput(expression: string) {
  return {
    Name: 'campaign-notice-C7K2P9.V3M8Q4',
    GroupName: 'certalarm-campaigns',
    ScheduleExpression: expression,
    ScheduleExpressionTimezone: 'Asia/Shanghai',
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'DELETE',
    Target: {
      Arn: CAMPAIGN_TARGET_ARN,
      RoleArn: CAMPAIGN_ROLE_ARN,
      Input: '{"kind":"campaignJob","campaignId":"C7K2P9","visitId":"V3M8Q4","job":"notice"}',
      RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 21_600 },
      DeadLetterConfig: { Arn: DLQ_ARN },
    },
  };
}

function request(overrides: Partial<ScheduleOnceRequest> = {}): ScheduleOnceRequest {
  return {
    name: 'retry-SC01-JY13607330000001',
    // 01:30 UTC is 09:30 in Beijing.
    at: DateTime.fromISO('2026-08-03T01:30:00Z', { zone: 'utc' }),
    payload: { kind: 'dueScan' },
    targetArn: TARGET_ARN,
    roleArn: ROLE_ARN,
    group: 'certalarm',
    ...overrides,
  };
}

describe('Function: scheduleName', () => {
  it('keeps a name that is already valid as it is', () => {
    // Act
    const name = scheduleName('retry', 'SC01-JY13607330000001');

    // Assess
    expect(name).toBe('retry-SC01-JY13607330000001');
  });

  it('replaces characters Scheduler rejects and adds a hash so different ids never collide', () => {
    // Act
    const fromHash = scheduleName('retry', 'CERT#SC01#A/1');
    const fromDash = scheduleName('retry', 'CERT-SC01-A-1');

    // Assess
    expect(fromHash).toMatch(SCHEDULE_NAME_PATTERN);
    expect(fromHash.startsWith('retry-CERT-SC01-A-1-')).toBe(true);
    expect(fromHash).not.toBe(fromDash);
  });

  it('hashes a name that would be longer than 64 characters, deterministically', () => {
    // Prepare
    const id = `证照-${'9'.repeat(80)}`;

    // Act
    const first = scheduleName('reminder', id);
    const second = scheduleName('reminder', id);

    // Assess
    expect(first).toHaveLength(64);
    expect(first).toMatch(SCHEDULE_NAME_PATTERN);
    expect(first).toBe(second);
    expect(scheduleName('reminder', `${id}0`)).not.toBe(first);
  });
});

describe('Class: EventBridgeScheduleGateway', () => {
  beforeEach(() => {
    schedulerMock.reset();
  });

  afterEach(() => {
    schedulerMock.reset();
  });

  describe('Method: scheduleOnce', () => {
    it("creates a visit's notice schedule with exactly the parameters Scheduler needs, the payload the campaign-job function parses", async () => {
      // Prepare
      schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/certalarm-campaigns/x' });
      const gateway = gatewayFor();

      // Act
      await gateway.scheduleOnce(visitNotice());

      // Assess
      const calls = schedulerMock.commandCalls(CreateScheduleCommand);
      expect(calls).toHaveLength(1);
      const input = calls[0]?.args[0].input;
      expect(input).toStrictEqual(expectedVisitNoticeInput('at(2027-01-06T09:00:00)'));
      expect(campaignJobPayloadSchema.parse(JSON.parse(input?.Target?.Input ?? ''))).toStrictEqual(VISIT_NOTICE_PAYLOAD);
    });

    it('creates a one-off schedule at Beijing wall-clock time that deletes itself after running', async () => {
      // Prepare
      schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/certalarm/x' });
      const gateway = gatewayFor();

      // Act
      await gateway.scheduleOnce(request());

      // Assess
      expect(schedulerMock).toHaveReceivedCommandTimes(CreateScheduleCommand, 1);
      expect(schedulerMock).toHaveReceivedCommandWith(CreateScheduleCommand, {
        Name: 'retry-SC01-JY13607330000001',
        GroupName: 'certalarm',
        ScheduleExpression: 'at(2026-08-03T09:30:00)',
        ScheduleExpressionTimezone: 'Asia/Shanghai',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: {
          Arn: TARGET_ARN,
          RoleArn: ROLE_ARN,
          Input: '{"kind":"dueScan"}',
          RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 21_600 },
          DeadLetterConfig: { Arn: DLQ_ARN },
        },
      });
    });

    it('treats an existing schedule of the same name as already done', async () => {
      // Prepare
      schedulerMock.on(CreateScheduleCommand).rejects(new ConflictException({ message: 'Schedule already exists', Message: 'Schedule already exists', $metadata: meta(409) }));
      const gateway = gatewayFor();

      // Act
      const outcome = gateway.scheduleOnce(request());

      // Assess
      await expect(outcome).resolves.toBeUndefined();
    });

    it('passes any other Scheduler error on', async () => {
      // Prepare
      const error = new ValidationException({ message: 'bad role', Message: 'bad role', $metadata: meta(400) });
      schedulerMock.on(CreateScheduleCommand).rejects(error);
      const gateway = gatewayFor();

      // Act
      const outcome = gateway.scheduleOnce(request());

      // Assess
      await expect(outcome).rejects.toBe(error);
    });

    it('throws before calling AWS when the name is not one Scheduler accepts', async () => {
      // Prepare
      const gateway = gatewayFor();

      // Act
      const outcome = gateway.scheduleOnce(request({ name: 'CERT#SC01#1' }));

      // Assess
      await expect(outcome).rejects.toThrow(/must match/);
      expect(schedulerMock).not.toHaveReceivedCommand(CreateScheduleCommand);
    });
  });

  describe('Method: reschedule', () => {
    it('updates the schedule with the same parameters a creation would send', async () => {
      // Prepare
      schedulerMock.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/certalarm/x' });
      const gateway = gatewayFor();

      // Act
      await gateway.reschedule(request({ at: DateTime.fromISO('2026-08-10T01:00:00Z', { zone: 'utc' }) }));

      // Assess
      expect(schedulerMock).toHaveReceivedCommandWith(UpdateScheduleCommand, {
        Name: 'retry-SC01-JY13607330000001',
        GroupName: 'certalarm',
        ScheduleExpression: 'at(2026-08-10T09:00:00)',
        ScheduleExpressionTimezone: 'Asia/Shanghai',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: {
          Arn: TARGET_ARN,
          RoleArn: ROLE_ARN,
          Input: '{"kind":"dueScan"}',
          RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 21_600 },
          DeadLetterConfig: { Arn: DLQ_ARN },
        },
      });
      expect(schedulerMock).not.toHaveReceivedCommand(CreateScheduleCommand);
    });

    it('creates the schedule anew when it already ran and deleted itself', async () => {
      // Prepare
      schedulerMock.on(UpdateScheduleCommand).rejects(new ResourceNotFoundException({ message: 'not found', Message: 'not found', $metadata: meta(404) }));
      schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/certalarm/x' });
      const gateway = gatewayFor();

      // Act
      await gateway.reschedule(request());

      // Assess
      expect(schedulerMock).toHaveReceivedCommandWith(CreateScheduleCommand, { Name: 'retry-SC01-JY13607330000001', ScheduleExpression: 'at(2026-08-03T09:30:00)' });
    });

    it('replaces the whole definition of a moved visit\'s schedule, not only its time', async () => {
      // Prepare
      schedulerMock.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/certalarm-campaigns/x' });
      const gateway = gatewayFor();

      // Act: the visit moved from 20 to 27 January, so its notice moves from 6 to 13 January.
      await gateway.reschedule(visitNotice('2027-01-13T01:00:00Z'));

      // Assess
      const calls = schedulerMock.commandCalls(UpdateScheduleCommand);
      expect(calls).toHaveLength(1);
      expect(calls[0]?.args[0].input).toStrictEqual(expectedVisitNoticeInput('at(2027-01-13T09:00:00)'));
      expect(schedulerMock).not.toHaveReceivedCommand(CreateScheduleCommand);
    });

    it('creates the schedule anew, with the same parameters, when it already ran and deleted itself', async () => {
      // Prepare
      schedulerMock.on(UpdateScheduleCommand).rejects(new ResourceNotFoundException({ message: 'Schedule not found', Message: 'Schedule not found', $metadata: meta(404) }));
      schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/certalarm-campaigns/x' });
      const gateway = gatewayFor();

      // Act
      await gateway.reschedule(visitNotice('2027-01-13T01:00:00Z'));

      // Assess
      expect(schedulerMock.commandCalls(CreateScheduleCommand)[0]?.args[0].input).toStrictEqual(expectedVisitNoticeInput('at(2027-01-13T09:00:00)'));
    });

    it('passes any other Scheduler error on without creating anything', async () => {
      // Prepare
      const error = new ValidationException({ message: 'bad role', Message: 'bad role', $metadata: meta(400) });
      schedulerMock.on(UpdateScheduleCommand).rejects(error);
      const gateway = gatewayFor();

      // Act
      const outcome = gateway.reschedule(visitNotice());

      // Assess
      await expect(outcome).rejects.toBe(error);
      expect(schedulerMock).not.toHaveReceivedCommand(CreateScheduleCommand);
    });
  });

  describe('Method: cancel', () => {
    it('deletes the named schedule from its group, with nothing else', async () => {
      // Prepare
      schedulerMock.on(DeleteScheduleCommand).resolves({});
      const gateway = gatewayFor();

      // Act
      await gateway.cancel('campaign-notice-C7K2P9.V3M8Q4', 'certalarm-campaigns');

      // Assess
      const calls = schedulerMock.commandCalls(DeleteScheduleCommand);
      expect(calls).toHaveLength(1);
      expect(calls[0]?.args[0].input).toStrictEqual({ Name: 'campaign-notice-C7K2P9.V3M8Q4', GroupName: 'certalarm-campaigns' });
    });

    it('is not an error when the schedule already ran or never existed', async () => {
      // Prepare
      schedulerMock.on(DeleteScheduleCommand).rejects(new ResourceNotFoundException({ message: 'not found', Message: 'not found', $metadata: meta(404) }));
      const gateway = gatewayFor();

      // Act
      const outcome = gateway.cancel('gone', 'certalarm');

      // Assess
      await expect(outcome).resolves.toBeUndefined();
    });
  });
});

describe('Class: InProcessScheduleGateway', () => {
  const START = DateTime.fromISO('2026-08-03T09:00:00', { zone: 'Asia/Shanghai' });
  const clock: Clock = { now: () => DateTime.now().setZone('Asia/Shanghai') };

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(START.toJSDate());
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs the payload, as JSON, when the service clock reaches the time', async () => {
    // Prepare
    const run = vi.fn();
    const gateway = new InProcessScheduleGateway({ clock, run, onError: vi.fn() });
    await gateway.scheduleOnce(request({ at: START.plus({ minutes: 30 }), payload: { kind: 'dueScan', at: START } }));

    // Act
    await vi.advanceTimersByTimeAsync(29 * 60_000);
    const before = run.mock.calls.length;
    await vi.advanceTimersByTimeAsync(60_000);

    // Assess
    expect(before).toBe(0);
    expect(run).toHaveBeenCalledExactlyOnceWith({ kind: 'dueScan', at: START.toISO() }, { name: 'retry-SC01-JY13607330000001', group: 'certalarm' });
    expect(gateway.pending()).toEqual([]);
  });

  it('keeps the first schedule when the same name is scheduled again', async () => {
    // Prepare
    const run = vi.fn();
    const gateway = new InProcessScheduleGateway({ clock, run, onError: vi.fn() });

    // Act
    await gateway.scheduleOnce(request({ at: START.plus({ minutes: 5 }), payload: 'first' }));
    await gateway.scheduleOnce(request({ at: START.plus({ minutes: 1 }), payload: 'second' }));
    await vi.advanceTimersByTimeAsync(5 * 60_000);

    // Assess
    expect(run).toHaveBeenCalledExactlyOnceWith('first', expect.anything());
  });

  it('does not run a cancelled schedule, and cancelling twice is fine', async () => {
    // Prepare
    const run = vi.fn();
    const gateway = new InProcessScheduleGateway({ clock, run, onError: vi.fn() });
    await gateway.scheduleOnce(request({ at: START.plus({ minutes: 5 }) }));

    // Act
    await gateway.cancel('retry-SC01-JY13607330000001', 'certalarm');
    await gateway.cancel('retry-SC01-JY13607330000001', 'certalarm');
    await vi.advanceTimersByTimeAsync(10 * 60_000);

    // Assess
    expect(run).not.toHaveBeenCalled();
  });

  it('waits past the 24.8-day limit of a single Node timer', async () => {
    // Prepare
    const run = vi.fn();
    const gateway = new InProcessScheduleGateway({ clock, run, onError: vi.fn() });
    await gateway.scheduleOnce(request({ at: START.plus({ days: 40 }) }));

    // Act
    await vi.advanceTimersByTimeAsync(39 * 86_400_000);
    const early = run.mock.calls.length;
    await vi.advanceTimersByTimeAsync(86_400_000);

    // Assess
    expect(early).toBe(0);
    expect(run).toHaveBeenCalledOnce();
  });

  it('moves a schedule to its new time when it is rescheduled', async () => {
    // Prepare
    const run = vi.fn();
    const gateway = new InProcessScheduleGateway({ clock, run, onError: vi.fn() });
    await gateway.scheduleOnce(request({ at: START.plus({ minutes: 5 }), payload: 'old' }));

    // Act
    await gateway.reschedule(request({ at: START.plus({ minutes: 20 }), payload: 'new' }));
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    const early = run.mock.calls.length;
    await vi.advanceTimersByTimeAsync(10 * 60_000);

    // Assess
    expect(early).toBe(0);
    expect(run).toHaveBeenCalledExactlyOnceWith('new', expect.anything());
  });

  it('reports a failing run instead of losing it', async () => {
    // Prepare
    const failure = new Error('scan failed');
    const onError = vi.fn();
    const gateway = new InProcessScheduleGateway({ clock, run: () => Promise.reject(failure), onError });
    await gateway.scheduleOnce(request({ at: START }));

    // Act
    await vi.advanceTimersByTimeAsync(0);

    // Assess
    expect(onError).toHaveBeenCalledExactlyOnceWith(failure, { name: 'retry-SC01-JY13607330000001', group: 'certalarm' });
  });
});
