import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultStages } from '../../functions/core/rules.js';
import { DynamoDbRuleStore } from '../../functions/adapters/aws/dynamodb/dynamodb-rule-store.js';
import { DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { handler as dueScan } from '../../functions/handlers/due-scan.js';
import { handler as httpApi } from '../../functions/handlers/http-api.js';
import { resetLambdaDeps } from '../../functions/handlers/runtime.js';
import { dynamoTestClient, uniqueTableName } from '../support/dynamo.js';
import { record } from '../support/fixtures.js';
import { useLambdaEnvironment } from '../support/lambda-environment.js';

type Event = APIGatewayProxyEventV2WithJWTAuthorizer;

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/events/${name}`, import.meta.url), 'utf8')) as T;

const OPERATOR = { sub: 'ops-1', role: 'operator' };
const VIEWER = { sub: 'viewer-1', role: 'viewer' };
const TYPE = 'pesticide_business_license';
const EXTRA = { name: 'extra', from: 'deadline', days: -15, template: '提醒：您的{typeName}（编号{number}）请{applyBy}办理{action}。' };

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

let tableName: string;
let restoreEnvironment: () => void = () => undefined;

describe('Lambda handlers: reminder rules against DynamoDB Local', () => {
  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-01T02:00:00Z'));
    tableName = uniqueTableName('rules-handlers');
    await ensureTable(dynamoTestClient(), tableName);
    restoreEnvironment = useLambdaEnvironment(tableName);
    resetLambdaDeps();
  });

  afterAll(() => {
    vi.useRealTimers();
    restoreEnvironment();
    resetLambdaDeps();
  });

  it('lets an operator change a rule through API Gateway, refuses a viewer, and audits the change', async () => {
    // Act
    const body = { comment: '增加一次提醒', enabled: true, expectedVersion: 0, stages: [...defaultStages(), EXTRA] };
    const byViewer = await httpApi(httpEvent('PUT', `/v1/rules/${TYPE}`, VIEWER, body));
    const byOperator = await httpApi(httpEvent('PUT', `/v1/rules/${TYPE}`, OPERATOR, body));
    const read = await httpApi(httpEvent('GET', `/v1/rules/${TYPE}`, VIEWER));
    const audit = await httpApi(httpEvent('GET', '/v1/audit', OPERATOR));

    // Assess
    expect(byViewer.statusCode).toBe(403);
    expect(byOperator.statusCode).toBe(200);
    expect(JSON.parse(read.body ?? '')).toMatchObject({ version: 1, changedBy: 'jwt:ops-1' });
    expect(JSON.parse(audit.body ?? '').items).toEqual([expect.objectContaining({ actor: 'jwt:ops-1', action: 'rules.change', target: `rules/${TYPE}` })]);
  });

  it('finishes, in the scheduled scan, a re-plan that a rule change left running', async () => {
    // Prepare: a certificate on version 1, and version 2 stored with its re-plan not started
    const client = dynamoTestClient();
    const upload = await httpApi(httpEvent('POST', '/v1/certificates', OPERATOR, [record(1, { type: TYPE, number: 'RULE-H-1', expiresOn: '2027-06-20' })]));
    expect(upload.statusCode).toBe(200);
    const rules = new DynamoDbRuleStore(client, tableName);
    const startedAt = new Date().toISOString();
    await rules.putRule(
      { type: TYPE, version: 2, enabled: true, stages: defaultStages(), changedBy: 'jwt:ops-1', changedAt: startedAt, comment: '撤回', diff: ['- extra'] },
      { version: 2, state: 'running', done: 0, total: 1, replanned: 0, startedAt },
    );

    // Act
    await dueScan({ kind: 'dueScan' }, { getRemainingTimeInMillis: () => 300_000 });

    // Assess
    expect((await rules.getRule(TYPE))?.replan).toMatchObject({ state: 'done', done: 1, replanned: 1 });
    const after = await new DynamoDbStore(client, tableName).getCertificate({ type: TYPE, number: 'RULE-H-1' });
    expect(after?.plan.stages.map((s) => s.stage)).toEqual(['first', 'final', 'expired']);
  });
});
