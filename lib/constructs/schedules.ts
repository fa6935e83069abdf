import { Duration, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { schedulerDeadLetterQueue } from './scheduler-dead-letter-queue.js';
import { DAILY_PROVIDER_OPT_OUTS_PAYLOAD, DAILY_RETENTION_PURGE_PAYLOAD, NIGHTLY_INDEX_BACKFILL_PAYLOAD, RECURRING_DUE_SCAN_PAYLOAD } from '../../functions/core/schedule-payloads.js';

export interface CertalarmSchedulesProps {
  dueScan: lambda.IFunction;
  production: boolean;
  /** Schedule group name; the one-off schedules of the app go into the same group. */
  groupName: string;
}

/**
 * Recurring cron fields: every 15 minutes from 09:00 to 19:45 Beijing time. The send window ends at 20:00,
 * so the 19:45 run is the last one inside it (the scan reports what is still unsent at that point).
 */
export const DUE_SCAN_CRON = { minute: '0/15', hour: '9-19' } as const;

/** The daily retention purge: 03:00 Beijing time, hours away from the send window's scans. */
export const RETENTION_PURGE_CRON = { minute: '0', hour: '3' } as const;

/**
 * The daily copy of SNS's opt-out list into ours: 08:30 Beijing time, so the day's first scan (09:00)
 * already skips whoever opted out at SNS since yesterday.
 */
export const PROVIDER_OPT_OUTS_CRON = { minute: '30', hour: '8' } as const;

/**
 * The `byTownshipType` keys backfill: every 15 minutes from 00:00 to 02:45 Beijing time, each run within the
 * scan function's 5 minutes, so about 55 minutes of work a night, before the purge and far from the scans
 * (the function runs one invocation at a time). Recurring rather than a one-time `at()` schedule made at
 * deploy: a synthesised template has no deploy instant to name, one run cannot finish a large table within
 * its budget and the scan function may not create schedules, and a failed one-off run would be lost; a run
 * after the backfill is done reads one item and returns.
 */
export const INDEX_BACKFILL_CRON = { minute: '0/15', hour: '0-2' } as const;

/**
 * EventBridge Scheduler: the `certalarm` group, the recurring due scan, and the dead-letter queue for
 * invocations Scheduler could not deliver.
 */
export class CertalarmSchedules extends Construct {
  readonly group: scheduler.ScheduleGroup;
  readonly dueScan: scheduler.Schedule;
  /** Invokes the scan function with `{"kind": "retentionPurge"}` once a day (see functions/app/purge-expired.ts). */
  readonly retentionPurge: scheduler.Schedule;
  /** Invokes the scan function with `{"kind": "providerOptOuts"}` once a day (see functions/app/suppressions/). */
  readonly providerOptOuts: scheduler.Schedule;
  /** Invokes the scan function with `{"kind": "indexBackfill"}` at night (see functions/app/backfill-township-type-index.ts). */
  readonly indexBackfill: scheduler.Schedule;
  readonly deadLetterQueue: sqs.Queue;
  /** The role Scheduler assumes: it may invoke the scan function and write to the DLQ, nothing else. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: CertalarmSchedulesProps) {
    super(scope, id);
    const removalPolicy = props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.group = new scheduler.ScheduleGroup(this, 'Group', { scheduleGroupName: props.groupName, removalPolicy });

    this.deadLetterQueue = schedulerDeadLetterQueue(this, removalPolicy, 'the due-scan schedule\'s EventBridge Scheduler target');
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
          'This queue is itself a dead-letter queue: the EventBridge Scheduler target DeadLetterConfig of the due-scan schedule ' +
          '(cdk-nag only recognises SQS redrive and Lambda DLQs). Its depth is alarmed.',
    });

    // Only Scheduler, for schedules of this account in this group, may assume the role. LambdaInvoke adds
    // lambda:InvokeFunction on the scan function and sqs:SendMessage on the DLQ to it.
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      description: 'certalarm: EventBridge Scheduler invokes the due scan',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': this.group.scheduleGroupArn },
        },
      }),
    });

    this.dueScan = new scheduler.Schedule(this, 'DueScan', {
      description: 'certalarm: send the reminders that are due (every 15 minutes, 09:00–19:45 Asia/Shanghai)',
      scheduleGroup: this.group,
      schedule: scheduler.ScheduleExpression.cron({ ...DUE_SCAN_CRON, timeZone: TimeZone.ASIA_SHANGHAI }),
      timeWindow: scheduler.TimeWindow.off(),
      // The payload is typed by the schema the scan handler parses it with (functions/core/schedule-payloads.ts).
      target: new LambdaInvoke(props.dueScan, {
        role: this.role,
        input: scheduler.ScheduleTargetInput.fromObject(RECURRING_DUE_SCAN_PAYLOAD),
        // A run that cannot be delivered within 10 minutes is overtaken by the next one 15 minutes on.
        retryAttempts: 3,
        maxEventAge: Duration.minutes(10),
        deadLetterQueue: this.deadLetterQueue,
      }),
    });
    // The same function, role and dead-letter queue: the purge is one more payload kind of the scan function,
    // so no other function, role or grant exists for it. The scan function's one reserved instance is idle at 03:00.
    this.retentionPurge = new scheduler.Schedule(this, 'RetentionPurge', {
      description: 'certalarm: purge certificates expired more than CERTALARM_RETENTION_YEARS ago, and their deliveries (daily, 03:00 Asia/Shanghai)',
      scheduleGroup: this.group,
      schedule: scheduler.ScheduleExpression.cron({ ...RETENTION_PURGE_CRON, timeZone: TimeZone.ASIA_SHANGHAI }),
      timeWindow: scheduler.TimeWindow.off(),
      target: new LambdaInvoke(props.dueScan, {
        role: this.role,
        input: scheduler.ScheduleTargetInput.fromObject(DAILY_RETENTION_PURGE_PAYLOAD),
        // A purge that stopped or failed continues from its saved progress the next day.
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
        deadLetterQueue: this.deadLetterQueue,
      }),
    });
    // One more payload kind of the scan function, like the purge: no other function, role or grant.
    this.providerOptOuts = new scheduler.Schedule(this, 'ProviderOptOuts', {
      description: 'certalarm: copy SNS\'s SMS opt-out list (ListPhoneNumbersOptedOut) into the suppression list (daily, 08:30 Asia/Shanghai)',
      scheduleGroup: this.group,
      schedule: scheduler.ScheduleExpression.cron({ ...PROVIDER_OPT_OUTS_CRON, timeZone: TimeZone.ASIA_SHANGHAI }),
      timeWindow: scheduler.TimeWindow.off(),
      target: new LambdaInvoke(props.dueScan, {
        role: this.role,
        input: scheduler.ScheduleTargetInput.fromObject(DAILY_PROVIDER_OPT_OUTS_PAYLOAD),
        // Should it still fail, SNS refuses the opted-out numbers anyway (an OptedOut publish error suppresses
        // them one by one); the next day's run copies the whole list again.
        retryAttempts: 3,
        maxEventAge: Duration.minutes(30),
        deadLetterQueue: this.deadLetterQueue,
      }),
    });
    // Likewise the backfill of the campaigns' index keys: one more payload kind, no new function, role or grant
    // (it Queries `byType` and updates certificates, which the scan function may already do).
    this.indexBackfill = new scheduler.Schedule(this, 'IndexBackfill', {
      description: 'certalarm: give certificates stored before the byTownshipType index its keys (every 15 minutes, 00:00–02:45 Asia/Shanghai; a no-op once done)',
      scheduleGroup: this.group,
      schedule: scheduler.ScheduleExpression.cron({ ...INDEX_BACKFILL_CRON, timeZone: TimeZone.ASIA_SHANGHAI }),
      timeWindow: scheduler.TimeWindow.off(),
      target: new LambdaInvoke(props.dueScan, {
        role: this.role,
        input: scheduler.ScheduleTargetInput.fromObject(NIGHTLY_INDEX_BACKFILL_PAYLOAD),
        // A run that cannot be delivered is overtaken by the next one 15 minutes on, which continues from the saved progress.
        retryAttempts: 3,
        maxEventAge: Duration.minutes(10),
        deadLetterQueue: this.deadLetterQueue,
      }),
    });
    // grantInvoke adds the qualified form "<function ARN>:*" next to the plain ARN; the finding names the
    // function's logical id, so it is acknowledged for exactly that resource string.
    const scanLogicalId = stack.getLogicalId(props.dueScan.node.defaultChild as lambda.CfnFunction);
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${scanLogicalId}.Arn>:*]`,
      reason:
        'lambda:InvokeFunction on "<scan function ARN>:*" covers the versions and aliases of that one function ' +
        '(added by grantInvoke alongside the unqualified ARN); no other function is reachable.',
    });
  }
}
