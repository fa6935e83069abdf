import { Duration, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * The dead-letter queue of a schedule group's targets, as `DeadLetterQueue` under `scope`. SQS-managed
 * encryption rather than KMS: a dead letter is a schedule payload without personal data, and a KMS key
 * would also have to be granted to the Scheduler role. `deadLetterOf` says whose DeadLetterConfig it is.
 */
export function schedulerDeadLetterQueue(scope: Construct, removalPolicy: RemovalPolicy, deadLetterOf: string): sqs.Queue {
  const queue = new sqs.Queue(scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy,
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is itself a dead-letter queue: the DeadLetterConfig of ${deadLetterOf} (cdk-nag only recognises SQS redrive and Lambda DLQs). Its depth is alarmed.`,
  });
  return queue;
}
