import 'aws-sdk-client-mock-vitest/extend';
import { readFileSync } from 'node:fs';
import { CreateScheduleCommand, SchedulerClient, type Target } from '@aws-sdk/client-scheduler';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DynamoDbCampaignStore } from '../../functions/adapters/aws/dynamodb/dynamodb-campaign-store.js';
import { InvalidInboundEventError } from '../../functions/adapters/aws/sns-inbound-sms.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import { CampaignJobIncompleteError, handler as campaignJob } from '../../functions/handlers/campaign-job.js';
import { handler as inboundSms } from '../../functions/handlers/inbound-sms.js';
import { resetLambdaDeps } from '../../functions/handlers/runtime.js';
import { farmRecord, freshCampaignTable, JIANGBEI, lianjiangVisit, OPERATOR_LICENSE, springCampaign } from '../support/campaign-fixtures.js';
import { at, testSettings } from '../support/fixtures.js';
import { useLambdaEnvironment } from '../support/lambda-environment.js';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/events/${name}`, import.meta.url), 'utf8')) as T;

interface SnsEvent {
  Records: Array<{ Sns: { Message: string; Timestamp: string } }>;
}

/** The fixture's SNS delivery with this sender and text in its two-way SMS payload. */
function reply(from: string, text: string): SnsEvent {
  const event = fixture<SnsEvent>('sns-two-way-sms.json');
  const record = event.Records[0]!;
  record.Sns.Message = JSON.stringify({ ...(JSON.parse(record.Sns.Message) as object), originationNumber: from, messageBody: text });
  return event;
}

const reference = loadReferenceData();
const sns = mockClient(SNSClient);
const scheduler = mockClient(SchedulerClient);
const CAMPAIGN_JOB_ARN = 'arn:aws:lambda:ap-southeast-1:123456789012:function:certalarm-campaign-job';
const SCHEDULE_ENVIRONMENT = {
  CERTALARM_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/certalarm-campaign-scheduler',
  CERTALARM_SCHEDULE_GROUP: 'certalarm-campaigns',
  CERTALARM_SCHEDULE_DLQ_ARN: 'arn:aws:sqs:ap-southeast-1:123456789012:certalarm-campaign-jobs-dlq',
};
/** Lianjiang: phone …0001 holds an inspection and an operator licence, …0002 an expired inspection; …0004 is in Jiangbei. */
const HOLDERS = [
  farmRecord(1),
  farmRecord(1, { type: OPERATOR_LICENSE, number: 'JS-00001', issuedOn: '2021-03-01', expiresOn: '2027-03-01' }),
  farmRecord(2, { issuedOn: '2025-10-02', expiresOn: '2026-10-01' }),
  farmRecord(4, { township: JIANGBEI }),
];

let campaigns: DynamoDbCampaignStore;
let restoreEnvironment: () => void = () => undefined;

describe('Lambda handlers: campaign job (Scheduler target) and inbound SMS (SNS two-way SMS) against DynamoDB Local', () => {
  beforeAll(async () => {
    const table = await freshCampaignTable('campaign-lambdas');
    campaigns = table.campaigns;
    const upload = await uploadCertificates({ store: table.store, reference, settings: testSettings() }, HOLDERS, at('2026-12-01T10:00:00+08:00'));
    if (upload.rejected.length > 0) throw new Error(`fixture certificates rejected: ${JSON.stringify(upload.rejected)}`);
    await campaigns.createCampaign(springCampaign());
    await campaigns.createVisit(lianjiangVisit());
  });

  beforeEach(() => {
    restoreEnvironment = useLambdaEnvironment(campaigns.tableName);
    sns.reset();
    scheduler.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'sns-message-1' });
  });

  afterEach(() => {
    resetLambdaDeps();
    restoreEnvironment();
  });

  it('fails a notice job that fires outside the send window when it has nowhere to schedule its continuation, so Lambda runs it again', async () => {
    // Prepare: 21:00 Beijing, after the send window closed.
    resetLambdaDeps({ clock: { now: () => at('2026-12-29T21:00:00+08:00') } });

    // Act
    const outcome = campaignJob(fixture('scheduler-campaign-job.json'));

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(CampaignJobIncompleteError);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('schedules a job that fires outside the send window to run again when the window opens, as a schedule of its own', async () => {
    // Prepare: 21:00 Beijing, after the send window closed; the stack's schedule settings in the environment.
    restoreEnvironment();
    restoreEnvironment = useLambdaEnvironment(campaigns.tableName, SCHEDULE_ENVIRONMENT);
    resetLambdaDeps({ clock: { now: () => at('2026-12-29T21:00:00+08:00') } });
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:ap-southeast-1:123456789012:schedule/certalarm-campaigns/x' });

    // Act
    const outcome = await campaignJob(fixture('scheduler-campaign-job.json'), { invokedFunctionArn: CAMPAIGN_JOB_ARN });

    // Assess
    expect(outcome).toMatchObject({ outcome: 'incomplete', sent: 0, continuesAt: '2026-12-30T09:00:00.000+08:00' });
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    expect(scheduler).toHaveReceivedCommandTimes(CreateScheduleCommand, 1);
    expect(scheduler).toHaveReceivedCommandWith(CreateScheduleCommand, {
      Name: 'campaign-notice-again-cmp_spring2027.v_lianjiang.202612300900',
      GroupName: 'certalarm-campaigns',
      ScheduleExpression: 'at(2026-12-30T09:00:00)',
      ScheduleExpressionTimezone: 'Asia/Shanghai',
      ActionAfterCompletion: 'DELETE',
      Target: expect.objectContaining({
        Arn: CAMPAIGN_JOB_ARN,
        RoleArn: SCHEDULE_ENVIRONMENT.CERTALARM_SCHEDULER_ROLE_ARN,
        DeadLetterConfig: { Arn: SCHEDULE_ENVIRONMENT.CERTALARM_SCHEDULE_DLQ_ARN },
        Input: '{"kind":"campaignJob","campaignId":"cmp_spring2027","visitId":"v_lianjiang","job":"notice"}',
      }) as Target,
    });
  });

  it('sends the visit\'s notice once to each phone in the township, then books the slot a holder replies with by SMS', async () => {
    // Prepare: the notice day, 10:00 Beijing.
    resetLambdaDeps({ clock: { now: () => at('2026-12-29T10:00:00+08:00') } });

    // Act
    const notice = await campaignJob(fixture('scheduler-campaign-job.json'));
    const again = await campaignJob(fixture('scheduler-campaign-job.json'));
    const invitations = await campaigns.invitationsOf('cmp_spring2027', 'v_lianjiang');
    const holder = invitations.find((i) => i.phone.endsWith('13900000001'));
    const booked = await inboundSms(reply('+8613900000001', `${holder?.code.toLowerCase() ?? ''} 第２场`));

    // Assess
    expect(notice).toMatchObject({ outcome: 'done', phones: 2, sent: 2 });
    expect(again).toMatchObject({ outcome: 'done', sent: 0, alreadySent: 2 });
    expect(invitations.map((i) => i.phone).sort()).toEqual(['+8613900000001', '+8613900000002']);
    expect(holder?.count).toBe(2);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { PhoneNumber: '+8613900000001', Message: expect.stringContaining(holder?.code ?? '-') as string });
    expect(booked).toEqual([expect.objectContaining({ action: 'booked', campaignId: 'cmp_spring2027', slot: 2, confirmation: 'sent' })]);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 3);
    expect((await campaigns.getVisit('cmp_spring2027', 'v_lianjiang'))?.slots.map((s) => s.booked)).toEqual([0, 1]);
  });

  it('takes an opt-out reply onto our suppression list with one confirmation, and publishes nothing more to that number', async () => {
    // Prepare: the notices are out (a job run again sends nothing new); holder …0002 holds a code
    resetLambdaDeps({ clock: { now: () => at('2026-12-29T10:00:00+08:00') } });
    await campaignJob(fixture('scheduler-campaign-job.json'));
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'sns-message-2' });
    const code = (await campaigns.getInvitation('cmp_spring2027', 'v_lianjiang', '+8613900000002'))?.code ?? '';

    // Act
    const optedOut = await inboundSms(reply('+8613900000002', '退订'));
    const repeated = await inboundSms(reply('+8613900000002', 'ＴＤ'));
    const booked = await inboundSms(reply('+8613900000002', `${code} 1`));

    // Assess
    expect(optedOut).toEqual([{ action: 'optedOut', added: true, confirmation: 'sent' }]);
    expect(repeated).toEqual([{ action: 'optedOut', added: false, confirmation: 'alreadySent' }]);
    expect(booked).toEqual([expect.objectContaining({ action: 'booked', slot: 1, confirmation: 'suppressed' })]);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { PhoneNumber: '+8613900000002', Message: expect.stringContaining('您已退订') as string });
  });

  it('reads nothing from an SNS message that is not a two-way SMS payload, and texts nobody', async () => {
    // Prepare
    const event = fixture<SnsEvent>('sns-two-way-sms.json');
    event.Records[0]!.Sns.Message = JSON.stringify({ default: 'hello' });

    // Act
    const outcome = inboundSms(event);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(InvalidInboundEventError);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });
});
