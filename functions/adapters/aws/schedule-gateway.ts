import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { ZONE } from '../../core/model.js';
import type { ScheduleGateway, ScheduleOnceRequest } from '../../core/ports.js';
import { SCHEDULE_NAME_PATTERN } from '../../core/schedule-names.js';

// The names are part of the domain (a visit's notice job is found again by its name), so they are built in the core.
export { SCHEDULE_NAME_PATTERN, scheduleName } from '../../core/schedule-names.js';

export class InvalidScheduleRequestError extends Error {
  override readonly name = 'InvalidScheduleRequestError';
}

/** How often, and for how long, Scheduler retries an invocation the target refused or throttled. */
export interface ScheduleRetryPolicy {
  MaximumRetryAttempts: number;
  MaximumEventAgeInSeconds: number;
}

/**
 * A campaign job is idempotent (each message is claimed before it is sent), so retrying costs nothing;
 * after 6 hours the visit's notice would be late anyway and the job waits in the dead-letter queue for
 * an operator (the next `POST /v1/scans` also runs it).
 */
export const DEFAULT_SCHEDULE_RETRY_POLICY: ScheduleRetryPolicy = { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 6 * 3600 };

export interface EventBridgeScheduleGatewayOptions {
  client?: SchedulerClient;
  /** SQS queue that receives the invocations Scheduler could not deliver (the stack's campaign DLQ). */
  deadLetterArn: string;
  retryPolicy?: ScheduleRetryPolicy;
}

/**
 * One-off schedules on EventBridge Scheduler. Each fires once at a Beijing-time instant, invokes the
 * target with the JSON payload, and deletes itself afterwards.
 */
export class EventBridgeScheduleGateway implements ScheduleGateway {
  private readonly client: SchedulerClient;
  private readonly target: { deadLetterArn: string; retryPolicy: ScheduleRetryPolicy };

  constructor(options: EventBridgeScheduleGatewayOptions) {
    this.client = options.client ?? new SchedulerClient({});
    this.target = { deadLetterArn: options.deadLetterArn, retryPolicy: options.retryPolicy ?? DEFAULT_SCHEDULE_RETRY_POLICY };
  }

  async scheduleOnce(request: ScheduleOnceRequest): Promise<void> {
    try {
      await this.client.send(new CreateScheduleCommand(scheduleParameters(request, this.target)));
    } catch (error) {
      // The name is the idempotency key: it exists, so an earlier attempt already scheduled it.
      if (error instanceof ConflictException || (error as { name?: unknown }).name === 'ConflictException') return;
      throw error;
    }
  }

  /** UpdateSchedule replaces the whole definition, so it takes exactly CreateSchedule's parameters. */
  async reschedule(request: ScheduleOnceRequest): Promise<void> {
    const parameters = scheduleParameters(request, this.target);
    try {
      await this.client.send(new UpdateScheduleCommand(parameters));
    } catch (error) {
      // It already fired (and deleted itself) or was never made: make it anew.
      if (!(error instanceof ResourceNotFoundException || (error as { name?: unknown }).name === 'ResourceNotFoundException')) throw error;
      await this.scheduleOnce(request);
    }
  }

  async cancel(name: string, group: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: group }));
    } catch (error) {
      // Already fired (and deleted itself) or never made: either way it will not run.
      if (error instanceof ResourceNotFoundException || (error as { name?: unknown }).name === 'ResourceNotFoundException') return;
      throw error;
    }
  }
}

/** A one-off `at()` schedule in Beijing time that invokes the target once and then deletes itself. */
function scheduleParameters(request: ScheduleOnceRequest, target: { deadLetterArn: string; retryPolicy: ScheduleRetryPolicy }) {
  if (!SCHEDULE_NAME_PATTERN.test(request.name)) {
    throw new InvalidScheduleRequestError(`schedule name "${request.name}" must match ${SCHEDULE_NAME_PATTERN.source}; build it with scheduleName()`);
  }
  const local = request.at.setZone(ZONE);
  if (!local.isValid) throw new InvalidScheduleRequestError(`schedule "${request.name}": "at" is not a valid time (${local.invalidReason ?? 'invalid'})`);
  return {
    Name: request.name,
    GroupName: request.group,
    // at() takes a wall-clock time without offset, read in ScheduleExpressionTimezone.
    ScheduleExpression: `at(${local.toFormat("yyyy-MM-dd'T'HH:mm:ss")})`,
    ScheduleExpressionTimezone: ZONE,
    FlexibleTimeWindow: { Mode: 'OFF' as const },
    ActionAfterCompletion: 'DELETE' as const,
    Target: {
      Arn: request.targetArn,
      RoleArn: request.roleArn,
      Input: JSON.stringify(request.payload),
      RetryPolicy: { ...target.retryPolicy },
      // Without it an invocation that exhausts its retries is dropped silently, and with it the schedule (deleted after completion).
      DeadLetterConfig: { Arn: target.deadLetterArn },
    },
  };
}
