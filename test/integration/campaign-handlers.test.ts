import 'aws-sdk-client-mock-vitest/extend';
import { readFileSync } from 'node:fs';
import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
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

let restoreEnvironment: () => void = () => undefined;

describe('Lambda handlers: campaigns against DynamoDB Local, with EventBridge Scheduler faked', () => {
  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-01T02:00:00Z'));
    const tableName = uniqueTableName('campaign-handlers');
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

  it('schedules a visit’s notice and reminder as one-off Beijing-time schedules, updates them on a move and deletes them on a cancellation', async () => {
    // Act
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
    const moved = await httpApi(httpEvent('PATCH', `/v1/campaigns/${campaignId}/visits/${visitId}`, AGRICULTURE, { date: '2027-01-19' }));
    const cancelled = await httpApi(httpEvent('DELETE', `/v1/campaigns/${campaignId}/visits/${visitId}`, AGRICULTURE));

    // Assess
    expect([created.statusCode, visit.statusCode, moved.statusCode, cancelled.statusCode]).toEqual([201, 201, 200, 200]);
    const notice = campaignJobName(campaignId, visitId, 'notice');
    const reminder = campaignJobName(campaignId, visitId, 'reminder');
    expect(schedulerMock).toHaveReceivedCommandWith(CreateScheduleCommand, {
      Name: notice,
      GroupName: 'certalarm-test',
      ScheduleExpression: 'at(2026-12-29T09:00:00)',
      ScheduleExpressionTimezone: 'Asia/Shanghai',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: JOB_ARN,
        RoleArn: ROLE_ARN,
        Input: JSON.stringify({ kind: 'campaignJob', campaignId, visitId, job: 'notice' }),
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 21_600 },
        DeadLetterConfig: { Arn: DLQ_ARN },
      },
    });
    expect(schedulerMock).toHaveReceivedCommandWith(CreateScheduleCommand, { Name: reminder, ScheduleExpression: 'at(2027-01-11T09:00:00)' });
    expect(schedulerMock).toHaveReceivedCommandWith(UpdateScheduleCommand, { Name: notice, ScheduleExpression: 'at(2027-01-05T09:00:00)', ActionAfterCompletion: 'DELETE' });
    expect(schedulerMock).toHaveReceivedCommandWith(UpdateScheduleCommand, { Name: reminder, ScheduleExpression: 'at(2027-01-18T09:00:00)' });
    expect(schedulerMock).toHaveReceivedCommandWith(DeleteScheduleCommand, { Name: notice, GroupName: 'certalarm-test' });
    expect(schedulerMock).toHaveReceivedCommandWith(DeleteScheduleCommand, { Name: reminder, GroupName: 'certalarm-test' });
  });
});
