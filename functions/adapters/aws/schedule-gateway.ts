import { createHash } from 'node:crypto';
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { ZONE } from '../../core/model.js';
import type { ScheduleGateway, ScheduleOnceRequest } from '../../core/ports.js';

/** EventBridge Scheduler's rule for schedule names. */
export const SCHEDULE_NAME_PATTERN = /^[0-9a-zA-Z\-_.]{1,64}$/;
const MAX_NAME = 64;
const HASH_LENGTH = 16;

/**
 * A deterministic schedule name for (kind, id): the same inputs always give the same name, so a
 * retried `scheduleOnce` finds the schedule it already made. Characters Scheduler does not accept become
 * `-`; whenever that changed anything, or the name is too long, a hash of the exact inputs is appended
 * (after truncating), so `CERT#A#1` and `CERT-A-1` can never share a name.
 */
export function scheduleName(kind: string, id: string): string {
  const raw = `${kind}-${id}`;
  const clean = raw.replace(/[^0-9a-zA-Z\-_.]/g, '-');
  if (clean === raw && clean.length > 0 && clean.length <= MAX_NAME) return clean;
  const hash = createHash('sha256').update(kind).update('\u0000').update(id).digest('hex').slice(0, HASH_LENGTH);
  return `${clean.slice(0, MAX_NAME - HASH_LENGTH - 1)}-${hash}`;
}

export class InvalidScheduleRequestError extends Error {
  override readonly name = 'InvalidScheduleRequestError';
}

/**
 * One-off schedules on EventBridge Scheduler. Each fires once at a Beijing-time instant, invokes the
 * target with the JSON payload, and deletes itself afterwards.
 */
export class EventBridgeScheduleGateway implements ScheduleGateway {
  private readonly client: SchedulerClient;

  constructor(options: { client?: SchedulerClient } = {}) {
    this.client = options.client ?? new SchedulerClient({});
  }

  async scheduleOnce(request: ScheduleOnceRequest): Promise<void> {
    if (!SCHEDULE_NAME_PATTERN.test(request.name)) {
      throw new InvalidScheduleRequestError(`schedule name "${request.name}" must match ${SCHEDULE_NAME_PATTERN.source}; build it with scheduleName()`);
    }
    const local = request.at.setZone(ZONE);
    if (!local.isValid) throw new InvalidScheduleRequestError(`schedule "${request.name}": "at" is not a valid time (${local.invalidReason ?? 'invalid'})`);
    try {
      await this.client.send(
        new CreateScheduleCommand({
          Name: request.name,
          GroupName: request.group,
          // at() takes a wall-clock time without offset, read in ScheduleExpressionTimezone.
          ScheduleExpression: `at(${local.toFormat("yyyy-MM-dd'T'HH:mm:ss")})`,
          ScheduleExpressionTimezone: ZONE,
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: { Arn: request.targetArn, RoleArn: request.roleArn, Input: JSON.stringify(request.payload) },
        }),
      );
    } catch (error) {
      // The name is the idempotency key: it exists, so an earlier attempt already scheduled it.
      if (error instanceof ConflictException || (error as { name?: unknown }).name === 'ConflictException') return;
      throw error;
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
