import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { HANDLER_ENTRIES, type HandlerName, lambdaBundlingOptions, NODE_OPTIONS, PROJECT_ROOT } from '../bundling.js';
import type { DeploymentConfig } from '../config.js';
import { runtimeEnvironment } from '../runtime-environment.js';
import { IMPORT_WORKER_TIMEOUT, type ImportStorage } from './import-storage.js';
import type { CertalarmTable } from './table.js';
import { HTTP_GROUP_SPECS } from './http-groups.js';
import { HTTP_GROUPS, type HttpGroup } from '../../functions/app/http/route-groups.js';
import { HOLDER_ID_ENCRYPTION_CONTEXT } from '../../functions/adapters/aws/kms-holder-id-cipher.js';

/** At most this many imports run at once (queue pollers and reserved concurrency alike). */
export const IMPORT_WORKER_CONCURRENCY = 2;

export interface CertalarmFunctionsProps {
  config: DeploymentConfig;
  table: CertalarmTable;
  importStorage: ImportStorage;
  /** Handler entry files; defaults to functions/handlers/*.ts. */
  entries?: Partial<Record<HandlerName, string>>;
}

/**
 * The Lambda functions: the HTTP API (one per route group), the recurring due scan, the import worker, the campaign job and
 * the inbound SMS reader. Each has its own
 * role (no AWS-managed policies) and its own log group with the stage's retention.
 */
export class CertalarmFunctions extends Construct {
  /** The HTTP API, one function per route group (functions/app/http/route-groups.ts). */
  readonly http: Readonly<Record<HttpGroup, NodejsFunction>>;
  readonly dueScan: NodejsFunction;
  readonly importWorker: NodejsFunction;
  /** Invoked by the campaign schedules: sends a visit's notices, reminders or moved/cancelled SMS. */
  readonly campaignJob: NodejsFunction;
  /** Subscribed to the inbound SMS topic: books, cancels or answers each reply. */
  readonly inboundSms: NodejsFunction;
  readonly httpRoles: Readonly<Record<HttpGroup, iam.Role>>;
  readonly dueScanRole: iam.Role;
  readonly importWorkerRole: iam.Role;
  /** Writes SNS's SMS delivery receipts onto the deliveries (a CloudWatch Logs subscription; see DeliveryStatusLogging). */
  readonly deliveryStatus: NodejsFunction;
  readonly deliveryStatusRole: iam.Role;
  readonly campaignJobRole: iam.Role;
  readonly inboundSmsRole: iam.Role;
  /** Signs the HTTP API's paging cursors (see functions/adapters/aws/kms-cursor-key.ts). */
  readonly cursorKey: kms.Key;
  /** Seals holder IDs (envelope encryption, see functions/adapters/aws/kms-holder-id-cipher.ts). */
  readonly holderIdKey: kms.Key;
  /** Derives the key of the phone search hash stored on each delivery (functions/app/deliveries/phone-hash.ts). */
  readonly phoneHashKey: kms.Key;

  constructor(scope: Construct, id: string, props: CertalarmFunctionsProps) {
    super(scope, id);
    const { config, table, importStorage } = props;
    const entries = { ...HANDLER_ENTRIES, ...props.entries };
    // The stored holder IDs can only be read with this key: it is kept when the stack goes in production,
    // and its yearly rotation keeps the old material for the IDs already sealed.
    this.holderIdKey = new kms.Key(this, 'HolderIdKey', {
      description: 'certalarm: seals holder IDs (身份证号, 统一社会信用代码) stored in the table',
      enableKeyRotation: true,
      removalPolicy: config.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(30),
    });
    const environment = { ...runtimeEnvironment(config, table.table.tableName), CERTALARM_HOLDER_ID_KMS_KEY_ID: this.holderIdKey.keyArn };
    // Unlike the cursor key it must last as long as the deliveries it hashed: a new key makes their
    // phone hashes unmatchable, so in production it is retained with the table.
    this.phoneHashKey = new kms.Key(this, 'PhoneHashKey', {
      description: 'certalarm: derives the key of the phone search hash on deliveries',
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      removalPolicy: config.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(config.production ? 30 : 7),
    });
    // The functions that record deliveries (the scan) or search them by phone (the HTTP API).
    const phoneHashEnvironment = { CERTALARM_PHONE_HASH_KMS_KEY_ID: this.phoneHashKey.keyArn };

    const scan = this.lambda('DueScan', {
      entry: entries.dueScan,
      description: 'certalarm due scan: sends the reminders that are due (EventBridge Scheduler, every 15 min)',
      // A run sends at most (rate × timeout) messages; the next run, 15 minutes later, picks up the rest.
      timeout: Duration.minutes(5),
      memorySize: 512,
      // One scan at a time: overlapping runs would only contend for the same claims (the core is safe anyway).
      reservedConcurrentExecutions: 1,
      environment: { ...environment, ...phoneHashEnvironment },
      config,
    });
    this.dueScan = scan.fn;
    this.dueScanRole = scan.role;
    this.dueScanRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'DerivePhoneHashKey', actions: ['kms:GenerateMac'], resources: [this.phoneHashKey.keyArn] }),
    );
    // Scheduler invokes asynchronously. A failed run is retried once; an event older than 10 minutes is
    // dropped, because the next scheduled run (15 minutes on) does the same work with a fresher clock.
    this.dueScan.configureAsyncInvoke({ retryAttempts: 1, maxEventAge: Duration.minutes(10) });

    // An HMAC key, not a secret value: its material never leaves KMS, so nothing secret is in the
    // function's environment, and HMAC keys have no rotation to schedule. Losing it only invalidates
    // the cursors handed out, which last an hour, so it goes with the stack.
    this.cursorKey = new kms.Key(this, 'CursorKey', {
      description: 'certalarm: derives the key that signs the HTTP API paging cursors',
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });

    // The HTTP API: one function per route group, each with the grants of its group's routes only.
    const http = {} as Record<HttpGroup, NodejsFunction>;
    const httpRoles = {} as Record<HttpGroup, iam.Role>;
    for (const group of HTTP_GROUPS) {
      const spec = HTTP_GROUP_SPECS[group];
      const fn = this.lambda(spec.id, {
        entry: entries[spec.entry],
        description: spec.description,
        // API Gateway gives up on an integration after 30 s; a request that needs longer is a bug.
        timeout: Duration.seconds(29),
        memorySize: 512,
        environment: {
          ...environment,
          ...(spec.phoneHash ? phoneHashEnvironment : {}),
          ...(spec.pages ? { CERTALARM_CURSOR_KMS_KEY_ID: this.cursorKey.keyArn } : {}),
        },
        config,
      });
      http[group] = fn.fn;
      httpRoles[group] = fn.role;
      table.grantItemAccess(fn.role, spec.table.actions, spec.table.indexes);
      if (spec.pages) {
        fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'DeriveCursorKey', actions: ['kms:GenerateMac'], resources: [this.cursorKey.keyArn] }));
      }
      if (spec.phoneHash) {
        fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'DerivePhoneHashKey', actions: ['kms:GenerateMac'], resources: [this.phoneHashKey.keyArn] }));
      }
    }
    this.http = http;
    this.httpRoles = httpRoles;
    // Imports: the certificate routes presign uploads into this bucket.
    this.http.certificates.addEnvironment('CERTALARM_IMPORT_BUCKET', importStorage.bucket.bucketName);
    importStorage.grantPresignedUpload(this.httpRoles.certificates);
    // Scans: POST /v1/scans invokes the scan function, by its unqualified name only, so the unqualified ARN suffices (no "<arn>:*").
    this.http.rules.addEnvironment('CERTALARM_SCAN_FUNCTION_NAME', this.dueScan.functionName);
    this.httpRoles.rules.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'QueueDueScan', actions: ['lambda:InvokeFunction'], resources: [this.dueScan.functionArn] }),
    );

    const worker = this.lambda('ImportWorker', {
      entry: entries.importWorker,
      description: 'certalarm import worker: imports uploaded spreadsheets in resumable slices (S3 upload → SQS)',
      timeout: IMPORT_WORKER_TIMEOUT,
      // The xlsx reader holds a workbook's shared strings in memory; more memory is also more CPU for parsing.
      memorySize: 1024,
      reservedConcurrentExecutions: IMPORT_WORKER_CONCURRENCY,
      environment: {
        ...environment,
        CERTALARM_IMPORT_BUCKET: importStorage.bucket.bucketName,
        CERTALARM_IMPORT_QUEUE_URL: importStorage.queue.queueUrl,
      },
      config,
    });
    this.importWorker = worker.fn;
    this.importWorkerRole = worker.role;
    // One message per invocation: each is one import's slice, and it gets the whole 15 minutes.
    // maxConcurrency keeps the pollers within the reserved concurrency, so messages are not throttled
    // back into the queue (where they would wait out the 90-minute visibility timeout).
    this.importWorker.addEventSource(
      new SqsEventSource(importStorage.queue, { batchSize: 1, maxConcurrency: IMPORT_WORKER_CONCURRENCY }),
    );
    importStorage.grantReadAndDelete(this.importWorkerRole);

    // Holder IDs: the functions that write certificates make data keys and read them back; the scan only reads.
    // Each grant holds only for this key with the holder-ID encryption context, so it serves nothing else.
    const holderIdGrant = (role: iam.Role, sid: string, actions: string[]) =>
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid,
          actions,
          resources: [this.holderIdKey.keyArn],
          conditions: { StringEquals: { 'kms:EncryptionContext:purpose': HOLDER_ID_ENCRYPTION_CONTEXT.purpose } },
        }),
      );
    for (const group of HTTP_GROUPS) {
      if (HTTP_GROUP_SPECS[group].holderIds) holderIdGrant(this.httpRoles[group], 'SealHolderIds', ['kms:GenerateDataKey', 'kms:Decrypt']);
    }
    holderIdGrant(this.importWorkerRole, 'SealHolderIds', ['kms:GenerateDataKey', 'kms:Decrypt']);
    holderIdGrant(this.dueScanRole, 'OpenHolderIds', ['kms:Decrypt']);
    importStorage.grantContinuations(this.importWorkerRole);

    const status = this.lambda('DeliveryStatus', {
      entry: entries.deliveryStatus,
      description: 'certalarm delivery status: writes SNS SMS delivery receipts (CloudWatch Logs subscription) onto the deliveries',
      timeout: Duration.minutes(1),
      memorySize: 256,
      environment: { TABLE_NAME: table.table.tableName, POWERTOOLS_SERVICE_NAME: 'certalarm', LOG_LEVEL: config.logLevel, NODE_OPTIONS },
      config,
    });
    this.deliveryStatus = status.fn;
    this.deliveryStatusRole = status.role;

    // The scan finds due certificates on the `due` index, re-reads each, claims/records the delivery.
    // It also finishes a calendar load's re-plan that outgrew its API request: the certificates of each
    // type expiring near the loaded year come from the `byType` index, and their plans are updated; a rule
    // change's re-plan continues the same way (the rule's progress is an Update of its item).
    // It reads the phones of the due certificates with PartiQL point SELECTs on the partition key (never a
    // scan), to merge one holder's reminders; a merged send is recorded with one TransactWriteItems of Updates and a Put.
    // A rule re-plan puts whole certificates back with BatchWriteItem (and deletes its journal entries so),
    // after reading each page's certificates again from the table (a PartiQL point SELECT).
    table.grantItemAccess(
      this.dueScanRole,
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:PartiQLSelect'],
      ['due', 'byType'],
    );
    // A receipt reads the message-id pointer and the delivery (GetItem) and moves its status (UpdateItem): nothing else.
    table.grantItemAccess(this.deliveryStatusRole, ['dynamodb:GetItem', 'dynamodb:UpdateItem'], []);
    // The worker reads and saves the import record, writes certificates and error rows in batches,
    // reads the stored certificates a chunk may replace, and closes the import (deletes its open marker).
    // It plans with the stored holiday calendar (a Query of its partition, seeded by a Put if empty)
    // and the stored reminder rules (a Query of their partition)
    // and records each finished import in the audit trail (a Put).
    const job = this.lambda('CampaignJob', {
      entry: entries.campaignJob,
      description: "certalarm campaign job: one visit's booking notices, day-before reminders or moved/cancelled SMS (EventBridge Scheduler, one-off)",
      // A township of 5,000 phones at the configured SMS rate; a job cut short resumes without duplicates.
      timeout: Duration.minutes(15),
      memorySize: 512,
      // Two visits' jobs may overlap; more would only share the same SMS rate.
      reservedConcurrentExecutions: 2,
      // Campaign messages are listed with their phone's search hash, like reminders.
      environment: { ...environment, ...phoneHashEnvironment },
      config,
    });
    this.campaignJob = job.fn;
    this.campaignJobRole = job.role;
    // Scheduler hands the event over asynchronously, so its RetryPolicy covers only the hand-over. A job that
    // ends with messages left unsent fails (see the handler), and Lambda runs it twice more; each run sends only what is unsent.
    this.campaignJob.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6) });

    const inbound = this.lambda('InboundSms', {
      entry: entries.inboundSms,
      description: 'certalarm inbound SMS: a holder\'s reply books, moves or cancels a slot (SNS two-way SMS)',
      timeout: Duration.seconds(30),
      memorySize: 512,
      environment: { ...environment, ...phoneHashEnvironment },
      config,
    });
    this.inboundSms = inbound.fn;
    this.inboundSmsRole = inbound.role;
    // Both record campaign messages (notices, reminders, confirmations) on the deliveries listing, with the phone's search hash.
    for (const role of [this.campaignJobRole, this.inboundSmsRole]) {
      role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'DerivePhoneHashKey', actions: ['kms:GenerateMac'], resources: [this.phoneHashKey.keyArn] }));
    }

    // A campaign job reads its campaign and visit, finds the township's certificates of the covered types
    // on `byTownshipType`, reads bookings (a Query of the campaign partition), writes invitations, codes
    // (conditional Puts) and claims/records each message (conditional Updates).
    table.grantItemAccess(
      this.campaignJobRole,
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
      ['byTownshipType'],
    );
    // A reply finds its code (a Query), books or cancels in one transaction with a conditional slot count,
    // and claims/records the confirmation like any campaign message.
    table.grantItemAccess(
      this.inboundSmsRole,
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
      [],
    );

    // Like an upload, each chunk reads its types' rule and re-plan mark (BatchGetItem) and journals its
    // certificates while a re-plan holds a type (a transaction with a ConditionCheck on the mark).
    table.grantItemAccess(
      this.importWorkerRole,
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:PartiQLSelect', 'dynamodb:BatchWriteItem', 'dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem'],
      [],
    );
  }

  private lambda(
    id: string,
    options: {
      entry: string;
      description: string;
      timeout: Duration;
      memorySize: number;
      reservedConcurrentExecutions?: number;
      environment: Record<string, string>;
      config: DeploymentConfig;
    },
  ): { fn: NodejsFunction; role: iam.Role } {
    const { config } = options;
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: options.config.logRetentionDays as logs.RetentionDays,
      removalPolicy: config.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // Our own role instead of the default one, which carries the AWS-managed AWSLambdaBasicExecutionRole
    // (logs:* on every log group): this one may write to its own log group only.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `certalarm ${id} function`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    const fn = new NodejsFunction(this, id, {
      entry: options.entry,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      description: options.description,
      timeout: options.timeout,
      memorySize: options.memorySize,
      reservedConcurrentExecutions: options.reservedConcurrentExecutions,
      environment: options.environment,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      bundling: lambdaBundlingOptions(),
    });
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x on purpose: the bundles target node22 and are tested on it. ' +
        'Moving to a newer Node.js runtime is a deliberate upgrade (bundling target, tests, benchmark), not a drift.',
    });
    return { fn, role };
  }
}
