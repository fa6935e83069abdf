import { Annotations, CfnOutput, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { HandlerName } from './bundling.js';
import { type DeploymentConfig, usesPlaceholderEmail } from './config.js';
import { CertalarmAlarms } from './constructs/alarms.js';
import { CertalarmApi } from './constructs/api.js';
import { CampaignSchedules } from './constructs/campaign-schedules.js';
import { DeliveryStatusLogging } from './constructs/delivery-status-logging.js';
import { CertalarmFunctions } from './constructs/functions.js';
import { IMPORT_MAX_RECEIVE_COUNT, ImportStorage } from './constructs/import-storage.js';
import { InboundSms } from './constructs/inbound-sms.js';
import { Messaging } from './constructs/messaging.js';
import { CertalarmSchedules } from './constructs/schedules.js';
import { CertalarmTable } from './constructs/table.js';

export interface CertalarmStackProps extends StackProps {
  config: DeploymentConfig;
  /** Handler entry files; defaults to functions/handlers/*.ts. */
  entries?: Partial<Record<HandlerName, string>>;
}

/**
 * certalarm on AWS: table, import uploads and queue, functions, HTTP API, scheduled scan, campaign
 * schedules, inbound SMS, SMS permission, alarms.
 */
export class CertalarmStack extends Stack {
  readonly table: CertalarmTable;
  readonly importStorage: ImportStorage;
  readonly functions: CertalarmFunctions;
  readonly api: CertalarmApi;
  readonly schedules: CertalarmSchedules;
  readonly messaging: Messaging;
  readonly campaignSchedules: CampaignSchedules;
  readonly inboundSms: InboundSms;
  readonly alarms: CertalarmAlarms;
  readonly deliveryStatus: DeliveryStatusLogging;

  constructor(scope: Construct, id: string, props: CertalarmStackProps) {
    super(scope, id, props);
    const { config } = props;
    Tags.of(this).add('project', 'certalarm');
    Tags.of(this).add('stage', config.stage);

    if (usesPlaceholderEmail(config)) {
      Annotations.of(this).addWarningV2(
        'certalarm:placeholder-alarm-email',
        `alarmEmail "${config.alarmEmail}" is a placeholder: set a real address in config/${config.stage}.json before deploying`,
      );
    }

    this.table = new CertalarmTable(this, 'Data', { production: config.production });
    this.messaging = new Messaging(this, 'Messaging', { alarmEmail: config.alarmEmail, production: config.production });
    this.importStorage = new ImportStorage(this, 'Imports', { config });
    this.functions = new CertalarmFunctions(this, 'Functions', {
      config,
      table: this.table,
      importStorage: this.importStorage,
      ...(props.entries !== undefined ? { entries: props.entries } : {}),
    });
    this.messaging.grantSmsPublish(this.functions.dueScanRole);
    this.messaging.grantOptOutListRead(this.functions.dueScanRole);
    // An operator's reinstatement opts the number back in at SNS too.
    this.messaging.grantOptIn(this.functions.httpRoles.deliveries);
    // Campaign notices and reminders, and the answers to replies, are texts to phones too.
    this.messaging.grantSmsPublish(this.functions.campaignJobRole);
    this.messaging.grantSmsPublish(this.functions.inboundSmsRole);
    // A booking made or cancelled by staff (POST/DELETE /v1/campaigns/{id}/bookings) is confirmed to the holder at once.
    this.messaging.grantSmsPublish(this.functions.httpRoles.bookings);
    // SMS receipts: SNS delivery status logs → subscription → the delivery-status function.
    this.deliveryStatus = new DeliveryStatusLogging(this, 'DeliveryStatus', { config, handler: this.functions.deliveryStatus });
    this.api = new CertalarmApi(this, 'Api', { config, handlers: this.functions.http });
    this.schedules = new CertalarmSchedules(this, 'Schedules', {
      dueScan: this.functions.dueScan,
      production: config.production,
      groupName: config.production ? 'certalarm' : `certalarm-${config.stage}`,
    });
    // The HTTP API's campaign routes (visits created, moved, cancelled) manage the campaign schedules; a job only schedules its own continuation.
    this.campaignSchedules = new CampaignSchedules(this, 'CampaignSchedules', {
      campaignJob: this.functions.campaignJob,
      production: config.production,
      groupName: config.production ? 'certalarm-campaigns' : `certalarm-campaigns-${config.stage}`,
    });
    this.campaignSchedules.grantManageSchedules(this.functions.http.campaigns, this.functions.httpRoles.campaigns, this.functions.campaignJob);
    this.campaignSchedules.grantScheduleContinuations(this.functions.campaignJob, this.functions.campaignJobRole);
    this.inboundSms = new InboundSms(this, 'InboundSms', { handler: this.functions.inboundSms, production: config.production });
    this.alarms = new CertalarmAlarms(this, 'Alarms', {
      config,
      topic: this.messaging.alarmTopic,
      functions: {
        HttpCertificates: this.functions.http.certificates,
        HttpRules: this.functions.http.rules,
        HttpCampaigns: this.functions.http.campaigns,
        HttpBookings: this.functions.http.bookings,
        HttpDeliveries: this.functions.http.deliveries,
        DueScan: this.functions.dueScan,
        ImportWorker: this.functions.importWorker,
        CampaignJob: this.functions.campaignJob,
        InboundSms: this.functions.inboundSms,
        DeliveryStatus: this.functions.deliveryStatus,
      },
      deadLetterQueues: {
        // The id keeps the scheduler alarm's logical id from before imports had a queue.
        Scheduler: {
          queue: this.schedules.deadLetterQueue,
          description: 'EventBridge Scheduler could not invoke the due scan (messages in the dead-letter queue)',
        },
        CampaignScheduler: {
          queue: this.campaignSchedules.deadLetterQueue,
          description: "EventBridge Scheduler could not invoke a campaign job (a visit's notice or reminder is late; POST /v1/scans runs it, see README)",
        },
        InboundSms: {
          queue: this.inboundSms.deadLetterQueue,
          description: 'SNS could not deliver holders\' SMS replies to the inbound function (bookings by SMS are waiting)',
        },
        Import: {
          queue: this.importStorage.deadLetterQueue,
          description: `an import message failed ${IMPORT_MAX_RECEIVE_COUNT} times and was set aside; its import is stalled until the message is redriven (see README, imports)`,
        },
      },
    });

    new CfnOutput(this, 'TableName', { value: this.table.table.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.messaging.alarmTopic.topicArn });
    new CfnOutput(this, 'ImportBucketName', { value: this.importStorage.bucket.bucketName });
    new CfnOutput(this, 'InboundSmsTopicArn', { value: this.inboundSms.topic.topicArn, description: 'Set as the two-way SMS destination of the bureau\'s phone number (AWS End User Messaging SMS)' });
    new CfnOutput(this, 'ImportDeadLetterQueueUrl', { value: this.importStorage.deadLetterQueue.queueUrl });
  }
}
