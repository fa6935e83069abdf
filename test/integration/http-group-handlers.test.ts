import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { handler as bookings } from '../../functions/handlers/http-bookings.js';
import { handler as campaigns } from '../../functions/handlers/http-campaigns.js';
import { handler as certificates } from '../../functions/handlers/http-certificates.js';
import { handler as deliveries } from '../../functions/handlers/http-deliveries.js';
import { handler as rules } from '../../functions/handlers/http-rules.js';
import { resetLambdaDeps } from '../../functions/handlers/runtime.js';
import { dynamoTestClient, uniqueTableName } from '../support/dynamo.js';
import { record } from '../support/fixtures.js';
import { useLambdaEnvironment } from '../support/lambda-environment.js';

type Event = APIGatewayProxyEventV2WithJWTAuthorizer;

const OPERATOR = { sub: 'ops-1', role: 'operator' };

function httpEvent(method: string, path: string, body?: unknown): Event {
  const base = JSON.parse(readFileSync(new URL('../fixtures/events/http-api-post-certificates.json', import.meta.url), 'utf8')) as Event;
  const authorizer = { ...base.requestContext.authorizer, jwt: { ...base.requestContext.authorizer.jwt, claims: OPERATOR } };
  return {
    ...base,
    rawPath: path,
    rawQueryString: '',
    requestContext: { ...base.requestContext, authorizer, http: { ...base.requestContext.http, method, path } },
    ...(body === undefined ? { body: undefined } : { body: Buffer.from(JSON.stringify(body)).toString('base64'), isBase64Encoded: true }),
  } as Event;
}

const errorOf = (response: { body?: string }) => (JSON.parse(response.body ?? '') as { error: { code: string; message: string } }).error;

let restoreEnvironment: () => void = () => undefined;

describe('Lambda handlers: the HTTP API’s functions by route group, against DynamoDB Local', () => {
  beforeAll(async () => {
    const table = uniqueTableName('http-groups');
    await ensureTable(dynamoTestClient(), table);
    // As the stack sets them on the campaigns function; nothing is scheduled in these tests.
    restoreEnvironment = useLambdaEnvironment(table, {
      CERTALARM_CAMPAIGN_JOB_ARN: 'arn:aws:lambda:ap-southeast-1:123456789012:function:campaign-job',
      CERTALARM_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/campaign-scheduler',
      CERTALARM_SCHEDULE_GROUP: 'certalarm-campaigns-test',
      CERTALARM_SCHEDULE_DLQ_ARN: 'arn:aws:sqs:ap-southeast-1:123456789012:campaign-dlq',
    });
    resetLambdaDeps();
  });

  afterAll(() => {
    restoreEnvironment();
    resetLambdaDeps();
  });

  it('serves each group’s own routes from its function', async () => {
    // Act
    const uploaded = await certificates(httpEvent('POST', '/v1/certificates', [record(1)]));
    const read = await certificates(httpEvent('GET', '/v1/certificates/pesticide_business_license/TEST-000001'));
    const ruleList = await rules(httpEvent('GET', '/v1/rules'));
    const campaignList = await campaigns(httpEvent('GET', '/v1/campaigns'));
    const report = await bookings(httpEvent('GET', '/v1/campaigns/no-such-campaign/report'));
    const suppressions = await deliveries(httpEvent('GET', '/v1/suppressions'));

    // Assess
    expect(uploaded.statusCode).toBe(200);
    expect(JSON.parse(uploaded.body ?? '')).toMatchObject({ accepted: 1 });
    expect(read.statusCode).toBe(200);
    expect(ruleList.statusCode).toBe(200);
    expect(campaignList.statusCode).toBe(200);
    expect(JSON.parse(campaignList.body ?? '')).toEqual({ campaigns: [] });
    // The bookings function keeps campaigns: an unknown one is not found, not "campaigns are not kept".
    expect(report.statusCode).toBe(404);
    expect(errorOf(report).message).not.toMatch(/not kept/);
    expect(suppressions.statusCode).toBe(200);
  });

  it('answers another group’s route with a 404 naming the function that serves it', async () => {
    // Act
    const rulesAtCertificates = await certificates(httpEvent('GET', '/v1/rules'));
    const certificatesAtRules = await rules(httpEvent('GET', '/v1/certificates'));
    const bookingAtCampaigns = await campaigns(httpEvent('GET', '/v1/campaigns/c1/report'));

    // Assess
    expect([rulesAtCertificates, certificatesAtRules, bookingAtCampaigns].map((r) => r.statusCode)).toEqual([404, 404, 404]);
    expect(errorOf(rulesAtCertificates).message).toContain("served by the HTTP API's rules function");
    expect(errorOf(certificatesAtRules).message).toContain("served by the HTTP API's certificates function");
    expect(errorOf(bookingAtCampaigns).message).toContain("served by the HTTP API's bookings function");
  });
});
