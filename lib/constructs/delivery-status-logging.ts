import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import { AwsCustomResource, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { DeploymentConfig } from '../config.js';

export interface DeliveryStatusLoggingProps {
  config: DeploymentConfig;
  /** The function that writes each receipt onto its delivery. */
  handler: lambda.IFunction;
}

/** What SNS is told: log every SMS delivery, successes included, with this role. */
export const SMS_DELIVERY_STATUS_SAMPLING_RATE = '100';

/**
 * SNS SMS delivery status logging, feeding the delivery-status function.
 *
 * SNS logs SMS receipts only when the account's SMS attributes name an IAM role (`DeliveryStatusIAMRole`)
 * and a success sampling rate; CloudFormation has no resource for account SMS attributes, so a custom
 * resource calls SetSMSAttributes. SNS then writes to two log groups of fixed names,
 * `sns/<region>/<account>/DirectPublishToPhoneNumber` and `…/Failure`. They are made here, before
 * SNS's first receipt would make them, so that the stack owns their retention and can subscribe the
 * function to them.
 *
 * SMS attributes belong to the account and region: this sets only the two delivery-status attributes
 * (sender ID, spend limit and the others are left as they are), and a stack deleted leaves them naming a
 * role that no longer exists (SNS then logs nothing; nothing else is affected).
 */
export class DeliveryStatusLogging extends Construct {
  readonly snsRole: iam.Role;
  readonly successLogs: logs.LogGroup;
  readonly failureLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: DeliveryStatusLoggingProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);
    const removalPolicy = config.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const retention = config.logRetentionDays as logs.RetentionDays;
    const base = `sns/${stack.region}/${stack.account}/DirectPublishToPhoneNumber`;

    this.successLogs = new logs.LogGroup(this, 'SuccessLogs', { logGroupName: base, retention, removalPolicy });
    this.failureLogs = new logs.LogGroup(this, 'FailureLogs', { logGroupName: `${base}/Failure`, retention, removalPolicy });

    // The role SNS assumes to write the receipts; the actions SNS asks for, on these two groups only.
    this.snsRole = new iam.Role(this, 'SnsDeliveryLogsRole', {
      assumedBy: new iam.ServicePrincipal('sns.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: 'certalarm: lets SNS write SMS delivery status logs',
    });
    this.snsRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteSmsDeliveryLogs',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:PutMetricFilter', 'logs:PutRetentionPolicy'],
        resources: [this.successLogs.logGroupArn, this.failureLogs.logGroupArn],
      }),
    );

    for (const [name, group] of [['Success', this.successLogs], ['Failure', this.failureLogs]] as const) {
      new logs.SubscriptionFilter(this, `${name}Subscription`, {
        logGroup: group,
        destination: new LambdaDestination(props.handler),
        filterPattern: logs.FilterPattern.allEvents(),
        filterName: 'certalarm-delivery-status',
      });
    }

    // The custom resource's function: its own role (no AWS-managed policy) and log group.
    const providerLogs = new logs.LogGroup(this, 'SmsAttributesLogs', { retention, removalPolicy: RemovalPolicy.DESTROY });
    const providerRole = new iam.Role(this, 'SmsAttributesRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'certalarm: sets the SNS SMS delivery-status attributes at deployment',
    });
    providerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [providerLogs.logGroupArn] }),
    );
    providerRole.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'SetSmsAttributes', actions: ['sns:SetSMSAttributes'], resources: ['*'] }));
    // SetSMSAttributes hands the role to SNS: PassRole on exactly that role, and only to SNS.
    providerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PassDeliveryLogsRoleToSns',
        actions: ['iam:PassRole'],
        resources: [this.snsRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sns.amazonaws.com' } },
      }),
    );
    Validations.of(providerRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'sns:SetSMSAttributes sets account-level SMS attributes and has no resource ARN, so IAM requires Resource "*". ' +
        'Only this deployment-time function holds it. See https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html',
    });

    const setAttributes = {
      service: 'SNS',
      action: 'setSMSAttributes',
      parameters: { attributes: { DeliveryStatusIAMRole: this.snsRole.roleArn, DeliveryStatusSuccessSamplingRate: SMS_DELIVERY_STATUS_SAMPLING_RATE } },
      physicalResourceId: PhysicalResourceId.of('certalarm-sms-delivery-status'),
    };
    const attributes = new AwsCustomResource(this, 'SmsDeliveryStatusAttributes', {
      onCreate: setAttributes,
      onUpdate: setAttributes,
      role: providerRole,
      logGroup: providerLogs,
      // The SDK bundled with the provider's runtime has SetSMSAttributes: nothing is downloaded at deployment.
      installLatestAwsSdk: false,
    });
    attributes.node.addDependency(this.snsRole);
  }
}
