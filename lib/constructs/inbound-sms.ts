import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface InboundSmsProps {
  /** functions/handlers/inbound-sms.ts: reads each reply and books, cancels or answers. */
  handler: lambda.IFunction;
  production: boolean;
}

/**
 * Two-way SMS: the bureau's phone number (AWS End User Messaging SMS) publishes every reply to this
 * topic, and the inbound function is its only subscriber. Replies carry the sender's phone and booking
 * code, so the topic is encrypted under a key of its own that only the SMS service and SNS may use.
 */
export class InboundSms extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;
  /** Replies SNS could not deliver to the function after its retries. */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: InboundSmsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const removalPolicy = props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const smsService = new iam.ServicePrincipal('sms-voice.amazonaws.com');
    // Confused-deputy guard: only this account's phone numbers and configuration sets.
    const fromThisAccount = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'sms-voice', resource: '*' }) },
    };

    this.key = new kms.Key(this, 'TopicKey', {
      description: 'certalarm: encrypts the inbound (two-way) SMS topic',
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow: Duration.days(props.production ? 30 : 7),
    });
    // The SMS service publishes into an encrypted topic only if the key lets it make data keys.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEndUserMessagingSmsToPublish',
        principals: [smsService],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: fromThisAccount,
      }),
    );

    this.topic = new sns.Topic(this, 'Topic', { displayName: 'certalarm inbound SMS', masterKey: this.key, enforceSSL: true });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEndUserMessagingSmsToPublish',
        principals: [smsService],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromThisAccount,
      }),
    );

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      // A dead letter is the whole reply (phone and code): encrypted under the topic's key.
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the inbound function\'s SNS subscription. Its depth is alarmed.',
    });
    this.topic.addSubscription(new subscriptions.LambdaSubscription(props.handler, { deadLetterQueue: this.deadLetterQueue }));
    // SNS writes undeliverable replies into the queue encrypted under the key.
    this.key.grant(new iam.ServicePrincipal('sns.amazonaws.com'), 'kms:GenerateDataKey*', 'kms:Decrypt');
  }
}
