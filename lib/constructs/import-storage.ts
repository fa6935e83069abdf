import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { IMPORT_BLOB_PREFIX } from '../../functions/core/import-messages.js';
import type { DeploymentConfig } from '../config.js';

export interface ImportStorageProps {
  config: DeploymentConfig;
}

/** Files are kept this long at most; a finished import deletes its file at once. */
export const IMPORT_FILE_RETENTION = Duration.days(7);
/** How many times the worker may receive one message before it goes to the dead-letter queue. */
export const IMPORT_MAX_RECEIVE_COUNT = 3;
/** The import worker's timeout, the longest Lambda allows. The queue's visibility timeout is six times it. */
export const IMPORT_WORKER_TIMEOUT = Duration.minutes(15);

/**
 * Where import files are uploaded, and the queue that starts their imports:
 *
 *   client ──presigned PUT──▶ bucket `imports/<id>` ──ObjectCreated──▶ queue ──(batch 1)──▶ import worker
 *                                                                         ▲                    │
 *                                                                         └── continuation ────┘
 *
 * The notification is configured on the bucket resource itself rather than with `addEventNotification`,
 * which would deploy a custom-resource Lambda (with an AWS-managed policy) just to call
 * PutBucketNotificationConfiguration. CloudFormation can do it directly once the queue policy lets S3
 * send: the bucket has a fixed name, so that policy names the bucket without referencing it, and the
 * bucket is created after the policy.
 */
export class ImportStorage extends Construct {
  readonly bucket: s3.Bucket;
  readonly key: kms.Key;
  readonly accessLogs: s3.Bucket;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ImportStorageProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);
    const removalPolicy = config.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // Uploaded files hold what the table holds (names, holder IDs, mobile numbers), so they get the
    // same treatment: a customer-managed key, used only through S3.
    this.key = new kms.Key(this, 'Key', {
      description: 'certalarm: encrypts uploaded import files (holders and phone numbers)',
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow: Duration.days(config.production ? 30 : 7),
    });

    // Access-log delivery requires SSE-S3 on the target bucket; the logs hold request metadata, not file
    // contents. (cdk-nag does not ask a log-target bucket to log itself.)
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(config.logRetentionDays) }],
      removalPolicy,
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    // SSE-SQS rather than KMS: the messages carry only an object key or an import id, and S3 event
    // notifications into a KMS-encrypted queue would need S3 in that key's policy.
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's guidance for Lambda event sources: at least six times the function timeout, so a message is
      // not handed to a second worker while the first is still on it.
      visibilityTimeout: Duration.seconds(IMPORT_WORKER_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: IMPORT_MAX_RECEIVE_COUNT },
      removalPolicy,
    });

    // Globally unique per stage, account and region; fixed so that the queue policy can name it (see above).
    const bucketName = `certalarm-imports-${config.stage}-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
    const bucketArn = stack.formatArn({ service: 's3', region: '', account: '', resource: bucketName });
    this.queue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowImportBucketNotifications',
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': bucketArn }, StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );

    const origins = config.imports.corsAllowedOrigins;
    this.bucket = new s3.Bucket(this, 'Uploads', {
      bucketName,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      // One data key per bucket and period instead of one KMS call per object.
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'uploads/',
      lifecycleRules: [
        // Backstop: a finished import deletes its file; one that never finishes (or a stray upload) goes here.
        { id: 'ExpireImportFiles', prefix: IMPORT_BLOB_PREFIX, expiration: IMPORT_FILE_RETENTION, abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      ...(origins.length > 0
        ? {
            cors: [
              {
                allowedMethods: [s3.HttpMethods.PUT],
                allowedOrigins: origins,
                // The headers the presigned URL signs and the client must send.
                allowedHeaders: ['content-type', 'x-amz-checksum-sha256'],
                maxAge: 3000,
              },
            ],
          }
        : {}),
      removalPolicy,
    });
    const cfnBucket = this.bucket.node.defaultChild as s3.CfnBucket;
    cfnBucket.notificationConfiguration = {
      queueConfigurations: [
        {
          event: 's3:ObjectCreated:*',
          queue: this.queue.queueArn,
          filter: { s3Key: { rules: [{ name: 'prefix', value: IMPORT_BLOB_PREFIX }] } },
        },
      ],
    };
    // S3 checks that it may send to the queue when the configuration is saved: the bucket waits for the
    // queue and its policy (a dependency on the queue construct covers every resource under it).
    cfnBucket.node.addDependency(this.queue);
  }

  /** The S3 ARN pattern of every import file. */
  importObjectsArn(): string {
    return this.bucket.arnForObjects(`${IMPORT_BLOB_PREFIX}*`);
  }

  /**
   * The HTTP function presigns uploads: the URL carries its signature, so it needs PutObject itself,
   * on import files only, and GenerateDataKey on the bucket key through S3 (SSE-KMS on write).
   */
  grantPresignedUpload(role: iam.IRole): void {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.importObjectsArn()] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['kms:GenerateDataKey'], resources: [this.key.keyArn], conditions: this.viaS3() }),
    );
    this.acknowledgeImportPrefix(role, 'presigns the PUT of a new import file to imports/<import id>');
  }

  /** The worker reads an import's file and deletes it when the import ends. */
  grantReadAndDelete(role: iam.IRole): void {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:DeleteObject'], resources: [this.importObjectsArn()] }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.key.keyArn], conditions: this.viaS3() }));
    this.acknowledgeImportPrefix(role, 'reads and, once the import ends, deletes the file at imports/<import id>');
  }

  /** The worker queues the rest of a paused import to itself. */
  grantContinuations(role: iam.IRole): void {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }));
  }

  private viaS3() {
    return { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } };
  }

  private acknowledgeImportPrefix(role: iam.IRole, what: string): void {
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${IMPORT_BLOB_PREFIX}*]`,
      reason:
        `The function ${what}. Import ids are made at run time, so the object ARN ends in a wildcard; ` +
        `it is confined to the ${IMPORT_BLOB_PREFIX} prefix of the one upload bucket.`,
    });
  }
}
