import 'aws-sdk-client-mock-vitest/extend';
import { readFileSync } from 'node:fs';
import { CreateScheduleCommand, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { campaignJobName } from '../../functions/app/campaigns/visit-jobs.js';
import { handler as httpApi } from '../../functions/handlers/http-api.js';
import { resetLambdaDeps } from '../../functions/handlers/runtime.js';
import { dynamoTestClient, uniqueTableName } from '../support/dynamo.js';
import { useLambdaEnvironment } from '../support/lambda-environment.js';

type Event = APIGatewayProxyEventV2WithJWTAuthorizer;

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/events/${name}`, import.meta.url), 'utf8')) as T;

const AGRICULTURE = { sub: 'agri-1', role: 'bureau', authority: 'agriculture_rural' };
const JOB_ARN = 'arn:aws:lambda:ap-southeast-1:123456789012:function:certalarm-campaign-job';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/certalarm-scheduler';
const DLQ_ARN = 'arn:aws:sqs:ap-southeast-1:123456789012:certalarm-campaign-schedules-dlq';
const schedulerMock = mockClient(SchedulerClient);

function httpEvent(method: string, path: string, claims: Record<string, string>, body?: unknown): Event {
  const base = fixture<Event>('http-api-post-certificates.json');
  const authorizer = { ...base.requestContext.authorizer, jwt: { ...base.requestContext.authorizer.jwt, claims } };
  return {
    ...base,
    rawPath: path,
    rawQueryString: '',
    requestContext: { ...base.requestContext, authorizer, http: { ...base.requestContext.http, method, path } },
    ...(body === undefined ? { body: undefined } : { body: Buffer.from(JSON.stringify(body)).toString('base64'), isBase64Encoded: true }),
  } as Event;
}

/** Every field UpdateSchedule takes for one of a visit's jobs: it replaces the whole definition. */
function expectedUpdate(campaignId: string, visitId: string, job: 'notice' | 'reminder', expression: string) {
  return {
    Name: campaignJobName(campaignId, visitId, job),
    GroupName: 'certalarm-test',
    ScheduleExpression: expression,
    ScheduleExpressionTimezone: 'Asia/Shanghai',
    FlexibleTimeWindow: { Mode: 'OFF' as const },
    ActionAfterCompletion: 'DELETE' as const,
    Target: {
      Arn: JOB_ARN,
      RoleArn: ROLE_ARN,
      Input: JSON.stringify({ kind: 'campaignJob', campaignId, visitId, job }),
      RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 21_600 },
      DeadLetterConfig: { Arn: DLQ_ARN },
    },
  };
}

let restoreEnvironment: () => void = () => undefined;

describe('Lambda HTTP API: editing a campaign against DynamoDB Local, with EventBridge Scheduler faked', () => {
  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-01T02:00:00Z'));
    const tableName = uniqueTableName('campaign-edit-handlers');
    await ensureTable(dynamoTestClient(), tableName);
    restoreEnvironment = useLambdaEnvironment(tableName, { CERTALARM_CAMPAIGN_JOB_ARN: JOB_ARN, CERTALARM_SCHEDULER_ROLE_ARN: ROLE_ARN, CERTALARM_SCHEDULE_GROUP: 'certalarm-test', CERTALARM_SCHEDULE_DLQ_ARN: DLQ_ARN });
    resetLambdaDeps();
    schedulerMock.reset();
    schedulerMock.onAnyCommand().resolves({});
  });

  afterAll(() => {
    vi.useRealTimers();
    restoreEnvironment();
    resetLambdaDeps();
    schedulerMock.restore();
  });

  it('updates each visit’s notice and reminder schedule to the edited days, and a preview touches no schedule', async () => {
    // Prepare
    const created = await httpApi(
      httpEvent('POST', '/v1/campaigns', AGRICULTURE, {
        name: '2027年春季农机上门服务',
        types: ['farm_machine_annual_inspection', 'farm_machine_operator_license'],
        season: { from: '2027-01-04', to: '2027-06-30' },
        blackouts: [],
      }),
    );
    const campaignId = (JSON.parse(created.body ?? '{}') as { id: string }).id;
    const visit = await httpApi(
      httpEvent('POST', `/v1/campaigns/${campaignId}/visits`, AGRICULTURE, { township: '360732100', date: '2027-01-12', place: '潋江镇农机服务站', slots: [{ start: '09:00', end: '11:00', capacity: 30 }] }),
    );
    const visitId = (JSON.parse(visit.body ?? '{}') as { id: string }).id;
    schedulerMock.resetHistory();

    // Act
    const preview = await httpApi(httpEvent('POST', `/v1/campaigns/${campaignId}/preview`, AGRICULTURE, { expectedVersion: 1, comment: '元旦后通知', noticeDaysBefore: 10, reminderDaysBefore: 2 }));
    const callsAfterPreview = schedulerMock.calls().length;
    const edited = await httpApi(httpEvent('PATCH', `/v1/campaigns/${campaignId}`, AGRICULTURE, { expectedVersion: 1, comment: '元旦后通知', noticeDaysBefore: 10, reminderDaysBefore: 2 }));

    // Assess
    expect([created.statusCode, visit.statusCode, preview.statusCode, edited.statusCode]).toEqual([201, 201, 200, 200]);
    expect(callsAfterPreview).toBe(0);
    expect(schedulerMock).toHaveReceivedCommandTimes(UpdateScheduleCommand, 2);
    expect(schedulerMock).toHaveReceivedNthCommandWith(UpdateScheduleCommand, 1, expectedUpdate(campaignId, visitId, 'notice', 'at(2027-01-02T09:00:00)'));
    expect(schedulerMock).toHaveReceivedNthCommandWith(UpdateScheduleCommand, 2, expectedUpdate(campaignId, visitId, 'reminder', 'at(2027-01-10T09:00:00)'));
    expect(schedulerMock).not.toHaveReceivedCommand(CreateScheduleCommand);
  });
});
