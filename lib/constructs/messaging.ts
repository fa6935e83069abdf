import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface MessagingProps {
  /** Receives operational alarms; the address must confirm the subscription once. */
  alarmEmail: string;
  production: boolean;
}

/**
 * Everything SNS: the permission to text citizens, and the operators' alarm topic.
 */
export class Messaging extends Construct {
  readonly alarmTopic: sns.Topic;
  readonly alarmKey: kms.Key;

  constructor(scope: Construct, id: string, props: MessagingProps) {
    super(scope, id);

    // The AWS-managed aws/sns key cannot be used here: CloudWatch alarms must be allowed to
    // encrypt into the topic, and only a customer-managed key policy can say so.
    this.alarmKey = new kms.Key(this, 'AlarmTopicKey', {
      description: 'certalarm: encrypts the operational alarm topic',
      enableKeyRotation: true,
      removalPolicy: props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(props.production ? 30 : 7),
    });
    this.alarmKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'certalarm alarms',
      masterKey: this.alarmKey,
      enforceSSL: true,
    });
    this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
  }

  /**
   * Allow a function to text a phone number directly (Publish with PhoneNumber, no topic).
   * SNS has no resource ARN for a phone number, so IAM only accepts Resource "*" for such a publish.
   */
  grantSmsPublish(role: iam.Role): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'PublishSmsToPhoneNumbers', actions: ['sns:Publish'], resources: ['*'] }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
            'sns:Publish to a phone number (PhoneNumber parameter, no TopicArn) has no resource ARN, so IAM requires Resource "*". ' +
            'Only the functions that text holders hold this grant (the due scan, the campaign job, the inbound-SMS reader and the bookings API); the other HTTP functions have none. See https://docs.aws.amazon.com/sns/latest/dg/sns-using-identity-based-policies.html',
    });
  }

  /**
   * Allow a function to read the account's SMS opt-out list (ListPhoneNumbersOptedOut), nothing else of SNS's
   * SMS settings. The action has no resource ARN, so IAM only accepts Resource "*" for it.
   */
  grantOptOutListRead(role: iam.Role): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ReadSmsOptOutList', actions: ['sns:ListPhoneNumbersOptedOut'], resources: ['*'] }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'sns:Publish to a phone number and sns:ListPhoneNumbersOptedOut have no resource ARN, so IAM requires Resource "*". ' +
        'Only the due-scan function holds the opt-out list read (its daily job copies the list). See https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html',
    });
  }

  /**
   * Allow a function to opt a number back in at SNS (OptInPhoneNumber), when an operator reinstates it. The
   * action has no resource ARN, so IAM only accepts Resource "*" for it.
   */
  grantOptIn(role: iam.Role): void {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'OptNumbersBackInSms', actions: ['sns:OptInPhoneNumber'], resources: ['*'] }));
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'sns:OptInPhoneNumber has no resource ARN, so IAM requires Resource "*". Only the deliveries HTTP function holds it, for an operator\'s reinstatement of a number (DELETE /v1/suppressions/{phone}). See https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html',
    });
  }
}
