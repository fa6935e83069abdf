import type { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { IMPORT_BLOB_PREFIX } from '../../functions/core/import-messages.js';
import type { CertalarmStack } from '../../lib/certalarm-stack.js';
import { loadDeploymentConfig, parseDeploymentConfig } from '../../lib/config.js';
import { synthStack } from './synth.js';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
  Sid?: string;
  Principal?: unknown;
}

let stack: CertalarmStack;
let template: Template;

beforeAll(() => {
  stack = synthStack('prod').stack;
  template = Template.fromStack(stack);
});

function logicalId(construct: IConstruct): string {
  return stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
}

function getAtt(id: string, attribute = 'Arn') {
  return { 'Fn::GetAtt': [id, attribute] };
}

function statementsOfRole(roleId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } });
  return Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement);
}

function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Statements that mention any action of these services. */
function statementsFor(roleId: string, ...services: string[]): Statement[] {
  return statementsOfRole(roleId).filter((s) => actionsOf(s).some((a) => services.some((service) => a.startsWith(`${service}:`))));
}

function resourceOf(logicalIdOf: string) {
  return (template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }>)[logicalIdOf]!;
}

/** Template assertions under names the test linter recognises as assertions. */
function assertResourceProperties(type: string, props: unknown): void {
  template.hasResourceProperties(type, props);
}

function importObjects() {
  return { 'Fn::Join': ['', [getAtt(logicalId(stack.importStorage.bucket)), `/${IMPORT_BLOB_PREFIX}*`]] };
}

describe('Construct: ImportStorage', () => {
  it('encrypts uploads under their own rotating key, blocks public access and refuses plain HTTP', () => {
    // Prepare
    const bucketId = logicalId(stack.importStorage.bucket);
    const keyId = logicalId(stack.importStorage.key);

    // Act
    const bucket = resourceOf(bucketId).Properties;

    // Assess
    expect(bucket).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: getAtt(keyId) } }],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    expect(bucket).not.toHaveProperty('CorsConfiguration');
    assertResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: Match.stringLikeRegexp('import files') });
    assertResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('deletes import files after seven days and logs access to a private log bucket', () => {
    // Prepare
    const bucketId = logicalId(stack.importStorage.bucket);
    const logsId = logicalId(stack.importStorage.accessLogs);

    // Act
    const bucket = resourceOf(bucketId).Properties;
    const logs = resourceOf(logsId).Properties;

    // Assess
    expect(bucket.LifecycleConfiguration).toEqual({
      Rules: [{ Id: 'ExpireImportFiles', Prefix: IMPORT_BLOB_PREFIX, ExpirationInDays: 7, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }],
    });
    expect(bucket.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'uploads/' });
    expect(logs).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
  });

  it('notifies the import queue of new objects under imports/ only, without a custom resource', () => {
    // Prepare
    const bucketId = logicalId(stack.importStorage.bucket);
    const queueId = logicalId(stack.importStorage.queue);
    const queuePolicyId = Object.keys(template.findResources('AWS::SQS::QueuePolicy', { Properties: { Queues: [{ Ref: queueId }] } }))[0]!;

    // Act
    const bucket = resourceOf(bucketId);

    // Assess
    expect(bucket.Properties.NotificationConfiguration).toEqual({
      QueueConfigurations: [{ Event: 's3:ObjectCreated:*', Queue: getAtt(queueId), Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: IMPORT_BLOB_PREFIX }] } } }],
    });
    // S3 verifies its permission on the queue when the notification is saved.
    expect(bucket.DependsOn).toContain(queuePolicyId);
    expect(template.findResources('Custom::S3BucketNotifications')).toEqual({});
    // The ten functions (five of them the HTTP API's) and the delivery-status attributes' AwsCustomResource provider; nothing for S3 notifications.
    expect(Object.keys(template.findResources('AWS::Lambda::Function'))).toHaveLength(11);
  });

  it('lets only S3, for this bucket in this account, send to the TLS-only queue', () => {
    // Prepare
    const queueId = logicalId(stack.importStorage.queue);

    // Act & Assess
    assertResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          {
            Sid: 'AllowImportBucketNotifications',
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: getAtt(queueId),
            Condition: {
              ArnEquals: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:aws:s3:::certalarm-imports-prod-', { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }]] } },
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            },
          },
        ]),
      },
    });
  });

  it('holds a message six worker timeouts and moves it to an encrypted dead-letter queue after three receives', () => {
    // Prepare
    const queueId = logicalId(stack.importStorage.queue);
    const dlqId = logicalId(stack.importStorage.deadLetterQueue);
    const workerTimeout = resourceOf(logicalId(stack.functions.importWorker)).Properties.Timeout as number;

    // Act
    const queue = resourceOf(queueId).Properties;

    // Assess
    expect(workerTimeout).toBe(900);
    expect(queue).toMatchObject({ SqsManagedSseEnabled: true, VisibilityTimeout: 6 * workerTimeout, RedrivePolicy: { deadLetterTargetArn: getAtt(dlqId), maxReceiveCount: 3 } });
    expect(resourceOf(dlqId).Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
    assertResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlqId }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('allows browser uploads from the configured origins only', () => {
    // Prepare
    const config = parseDeploymentConfig({ ...loadDeploymentConfig('dev'), imports: { corsAllowedOrigins: ['https://certalarm.example.gov.cn'] } });

    // Act
    const parsed = config.imports;

    // Assess
    expect(parsed).toEqual({ maxBytes: 512 * 1024 * 1024, maxRows: 2_000_000, corsAllowedOrigins: ['https://certalarm.example.gov.cn'] });
    expect(() => parseDeploymentConfig({ ...loadDeploymentConfig('dev'), imports: { maxBytes: 6 * 1024 ** 3 } })).toThrow(/imports\.maxBytes/);
  });
});

describe('Construct: CertalarmFunctions (import worker)', () => {
  it('runs the worker for 15 minutes with 1024 MB, two at a time, one message per invocation', () => {
    // Prepare
    const workerId = logicalId(stack.functions.importWorker);

    // Act
    const worker = resourceOf(workerId).Properties;

    // Assess
    expect(worker).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 900,
      MemorySize: 1024,
      ReservedConcurrentExecutions: 2,
      LoggingConfig: { LogFormat: 'JSON' },
      Environment: {
        Variables: {
          TABLE_NAME: { Ref: logicalId(stack.table.table) },
          CERTALARM_IMPORT_BUCKET: { Ref: logicalId(stack.importStorage.bucket) },
          CERTALARM_IMPORT_QUEUE_URL: { Ref: logicalId(stack.importStorage.queue) },
          CERTALARM_REFERENCE_DIR: '/var/task/data',
          CERTALARM_IMPORT_MAX_BYTES: String(512 * 1024 * 1024),
        },
      },
    });
    assertResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: workerId },
      EventSourceArn: getAtt(logicalId(stack.importStorage.queue)),
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('tells the HTTP API\'s certificates function the upload bucket and its rules function the scan function, and no other function either', () => {
    // Act
    const variablesOf = (fn: IConstruct) => (resourceOf(logicalId(fn)).Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    const { http } = stack.functions;

    // Assess
    expect(variablesOf(http.certificates)).toMatchObject({ CERTALARM_IMPORT_BUCKET: { Ref: logicalId(stack.importStorage.bucket) } });
    expect(variablesOf(http.rules)).toMatchObject({ CERTALARM_SCAN_FUNCTION_NAME: { Ref: logicalId(stack.functions.dueScan) } });
    for (const fn of Object.values(http)) expect(variablesOf(fn)).not.toHaveProperty('CERTALARM_IMPORT_QUEUE_URL');
    for (const fn of [http.rules, http.campaigns, http.bookings, http.deliveries, stack.functions.dueScan]) expect(variablesOf(fn)).not.toHaveProperty('CERTALARM_IMPORT_BUCKET');
    for (const fn of [http.certificates, http.campaigns, http.bookings, http.deliveries]) expect(variablesOf(fn)).not.toHaveProperty('CERTALARM_SCAN_FUNCTION_NAME');
  });
});

describe('Least privilege (imports and scans)', () => {
  it('lets the HTTP API\'s certificates function put import files (to presign) and use the bucket key through S3, its rules function invoke only the scan function, and neither more', () => {
    // Prepare
    const uploadsId = logicalId(stack.functions.httpRoles.certificates);
    const scansId = logicalId(stack.functions.httpRoles.rules);
    const keyId = logicalId(stack.importStorage.key);
    const bucketKey = (roleId: string) => statementsFor(roleId, 'kms').filter((s) => JSON.stringify(s.Resource) === JSON.stringify(getAtt(keyId)));

    // Act
    const uploads = { s3: statementsFor(uploadsId, 's3'), kms: bucketKey(uploadsId), lambda: statementsFor(uploadsId, 'lambda'), sqs: statementsFor(uploadsId, 'sqs') };
    const scans = { s3: statementsFor(scansId, 's3'), kms: bucketKey(scansId), lambda: statementsFor(scansId, 'lambda'), sqs: statementsFor(scansId, 'sqs') };

    // Assess
    expect(uploads).toEqual({
      s3: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: importObjects() }],
      kms: [{ Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: getAtt(keyId), Condition: { StringEquals: { 'kms:ViaService': 's3.ap-southeast-1.amazonaws.com' } } }],
      lambda: [],
      sqs: [],
    });
    expect(scans).toEqual({
      s3: [],
      kms: [],
      lambda: [{ Sid: 'QueueDueScan', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: getAtt(logicalId(stack.functions.dueScan)) }],
      sqs: [],
    });
  });

  it('lets the worker read and delete import files, consume its queue and send to it, write import items and read the calendar', () => {
    // Prepare
    const roleId = logicalId(stack.functions.importWorkerRole);
    const queueId = logicalId(stack.importStorage.queue);
    const keyId = logicalId(stack.importStorage.key);

    // Act
    const s3 = statementsFor(roleId, 's3');
    const sqs = statementsFor(roleId, 'sqs');
    const dynamo = statementsFor(roleId, 'dynamodb');
    const bucketKey = statementsFor(roleId, 'kms').filter((s) => JSON.stringify(s.Resource) === JSON.stringify(getAtt(keyId)));

    // Assess
    expect(s3).toEqual([{ Effect: 'Allow', Action: ['s3:DeleteObject', 's3:GetObject'], Resource: importObjects() }]);
    expect(sqs).toHaveLength(1);
    expect(sqs[0]!.Resource).toEqual(getAtt(queueId));
    expect(actionsOf(sqs[0]!).sort()).toEqual(
      ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:SendMessage'].sort(),
    );
    expect(dynamo).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'dynamodb:BatchGetItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:ConditionCheckItem',
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PartiQLSelect',
          'dynamodb:PutItem',
          'dynamodb:Query',
        ],
        Resource: getAtt(logicalId(stack.table.table)),
      },
    ]);
    expect(bucketKey).toEqual([
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: getAtt(keyId), Condition: { StringEquals: { 'kms:ViaService': 's3.ap-southeast-1.amazonaws.com' } } },
    ]);
    expect(statementsFor(roleId, 'sns', 'lambda')).toEqual([]);
  });

  it('gives the scan function nothing on the upload bucket, the import queue or other functions', () => {
    // Prepare
    const roleId = logicalId(stack.functions.dueScanRole);

    // Act
    const granted = statementsFor(roleId, 's3', 'sqs', 'lambda');

    // Assess
    expect(granted).toEqual([]);
  });
});

describe('Construct: CertalarmAlarms (imports)', () => {
  it('alarms when a message reaches the import dead-letter queue, and on worker errors and throttles', () => {
    // Prepare
    const topicRef = { Ref: logicalId(stack.messaging.alarmTopic) };
    const dlqName = getAtt(logicalId(stack.importStorage.deadLetterQueue), 'QueueName');
    const workerRef = { Ref: logicalId(stack.functions.importWorker) };

    // Act & Assess
    assertResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: dlqName }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [topicRef],
    });
    for (const metric of ['Errors', 'Throttles']) {
      assertResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: workerRef }],
        AlarmActions: [topicRef],
      });
    }
  });
});
