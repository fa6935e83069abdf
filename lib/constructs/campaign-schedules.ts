import { RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { schedulerDeadLetterQueue } from './scheduler-dead-letter-queue.js';
import { CAMPAIGN_SCHEDULE_ENVIRONMENT } from '../runtime-environment.js';

export interface CampaignSchedulesProps {
  /** The function every campaign schedule invokes (functions/handlers/campaign-job.ts). */
  campaignJob: lambda.IFunction;
  production: boolean;
  groupName: string;
}

/**
 * Where the HTTP API puts a visit's one-off schedules (notice, day-before reminder, moved/cancelled SMS):
 * a group of their own, so the API's permission to create, move and delete schedules reaches these and
 * never the recurring due scan; the role Scheduler assumes to run them; and their dead-letter queue.
 */
export class CampaignSchedules extends Construct {
  readonly group: scheduler.ScheduleGroup;
  readonly deadLetterQueue: sqs.Queue;
  /** May invoke the campaign-job function and write to the dead-letter queue, nothing else. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: CampaignSchedulesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const removalPolicy = props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.group = new scheduler.ScheduleGroup(this, 'Group', { scheduleGroupName: props.groupName, removalPolicy });

    this.deadLetterQueue = schedulerDeadLetterQueue(this, removalPolicy, 'the campaign one-off schedules the HTTP API creates');
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter queue: the DeadLetterConfig of the campaign one-off schedules the HTTP API creates ' +
        '(cdk-nag only recognises SQS redrive and Lambda DLQs). Its depth is alarmed.',
    });

    // Only Scheduler, for schedules of this account in this group, may assume the role.
    this.role = new iam.Role(this, 'Role', {
      description: 'certalarm: EventBridge Scheduler runs the campaign jobs (notices, reminders)',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': this.group.scheduleGroupArn },
        },
      }),
    });
    // The unqualified ARN only (no "<arn>:*"): the schedules name the function itself, never a version.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'InvokeCampaignJob', actions: ['lambda:InvokeFunction'], resources: [props.campaignJob.functionArn] }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'DeadLetter', actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
    );
  }

  /** The ARN pattern of every schedule in the group (schedules are named at run time, one per visit and job). */
  schedulesArn(): string {
    return Stack.of(this).formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${this.group.scheduleGroupName}/*` });
  }

  /**
   * Lets a function create, move, read and delete the group's schedules, and hand them this role (and
   * only to Scheduler). The environment variables tell the function which target, role, group and DLQ.
   */
  grantManageSchedules(fn: lambda.Function, role: iam.Role, campaignJob: lambda.IFunction): void {
    this.grantSchedules(role, ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule'], 'ManageCampaignSchedules', 'PassCampaignSchedulerRole');
    fn.addEnvironment(CAMPAIGN_SCHEDULE_ENVIRONMENT.targetArn, campaignJob.functionArn);
    this.addEnvironment(fn);
  }

  /**
   * Lets the campaign-job function schedule its own continuation (a job that stopped with messages unsent
   * runs again later): create only, in this group, handing over this role. It learns its own ARN from its
   * invocation context; naming it in its own environment would make the function depend on itself.
   */
  grantScheduleContinuations(campaignJob: lambda.Function, role: iam.Role): void {
    this.grantSchedules(role, ['scheduler:CreateSchedule'], 'ContinueCampaignJobs', 'PassSchedulerRoleForContinuations');
    this.addEnvironment(campaignJob);
  }

  private grantSchedules(role: iam.Role, actions: string[], sid: string, passSid: string): void {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources: [this.schedulesArn()] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: passSid,
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    // cdk-nag names the resource as synthesized: concrete region/partition where the stack has them, pseudo parameters otherwise.
    const stack = Stack.of(this);
    const shown = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<${pseudo}>` : value);
    const arn = `arn:${shown(stack.partition, 'AWS::Partition')}:scheduler:${shown(stack.region, 'AWS::Region')}:${shown(stack.account, 'AWS::AccountId')}:schedule/${this.group.scheduleGroupName}/*`;
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${arn}]`,
      reason:
        'Schedule names are made at run time, one per visit and job (functions/core/schedule-names.ts); the wildcard is bounded to ' +
        'the campaign schedule group, which holds nothing else (the recurring due scan is in another group).',
    });
  }

  private addEnvironment(fn: lambda.Function): void {
    fn.addEnvironment(CAMPAIGN_SCHEDULE_ENVIRONMENT.roleArn, this.role.roleArn);
    fn.addEnvironment(CAMPAIGN_SCHEDULE_ENVIRONMENT.group, this.group.scheduleGroupName);
    fn.addEnvironment(CAMPAIGN_SCHEDULE_ENVIRONMENT.deadLetterArn, this.deadLetterQueue.queueArn);
  }
}
