import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbCalendarStore } from '../../functions/adapters/aws/dynamodb/dynamodb-calendar-store.js';
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
/** TEST FIXTURE: an invented 2027 arrangement (the State Council has not published 2027's yet). */
const FIXTURE_2027 = fixture<{ holidays: string[]; workdays: string[]; source: string }>('../holidays/2027-invented.json');
const LOAD_2027 = { source: FIXTURE_2027.source, holidays: FIXTURE_2027.holidays, workdays: FIXTURE_2027.workdays };

const OPERATOR = { sub: 'ops-1', role: 'operator' };
const BUREAU = { sub: 'bureau-1', role: 'bureau', authority: 'market_regulation' };

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

const FOOD = 'food_production_license';
let tableName: string;
let restoreEnvironment: () => void = () => undefined;

describe('Lambda handlers: the holiday calendar against DynamoDB Local', () => {
  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-01T02:00:00Z'));
    tableName = uniqueTableName('calendar-handlers');
    await ensureTable(dynamoTestClient(), tableName);
    restoreEnvironment = useLambdaEnvironment(tableName);
    resetLambdaDeps();
  });

  afterAll(() => {
    vi.useRealTimers();
    restoreEnvironment();
    resetLambdaDeps();
  });

  it('lets an operator load a year through API Gateway, refuses a bureau, and audits the load', async () => {
    // Act
    const byBureau = await httpApi(httpEvent('PUT', '/v1/calendar/2027', BUREAU, LOAD_2027));
    const byOperator = await httpApi(httpEvent('PUT', '/v1/calendar/2027', OPERATOR, LOAD_2027));
    const audit = await httpApi(httpEvent('GET', '/v1/audit', OPERATOR));
    const health = await httpApi(httpEvent('GET', '/healthz', OPERATOR));

    // Assess
    expect(byBureau.statusCode).toBe(403);
    expect(byOperator.statusCode).toBe(200);
    expect(JSON.parse(byOperator.body ?? '')).toMatchObject({ year: 2027, version: 1 });
    expect(JSON.parse(audit.body ?? '').items).toEqual([
      expect.objectContaining({ actor: 'jwt:ops-1', role: 'operator', action: 'calendar.load', target: 'calendar/2027' }),
    ]);
    expect(JSON.parse(health.body ?? '').warnings).toEqual([]);
  });

  it('finishes, in the scheduled scan, a re-plan that a load left running', async () => {
    // Prepare: a certificate planned while 2028 was unknown, and a 2028 load whose re-plan has not started
    const client = dynamoTestClient();
    const upload = await httpApi(httpEvent('POST', '/v1/certificates', OPERATOR, [record(1, { type: FOOD, number: 'FOOD-28', expiresOn: '2028-03-15' })]));
    expect(upload.statusCode).toBe(200);
    const store = new DynamoDbStore(client, tableName);
    const before = await store.getCertificate({ type: FOOD, number: 'FOOD-28' });
    const calendars = new DynamoDbCalendarStore(client, tableName);
    const loadedAt = new Date().toISOString();
    await calendars.putCalendarYear(
      {
        year: 2028,
        source: 'TEST FIXTURE: an invented 2028 arrangement',
        holidays: ['2028-01-03', '2028-02-14', '2028-02-15', '2028-02-16', '2028-02-17', '2028-02-18'],
        workdays: [],
        version: 1,
        origin: 'operator',
        loadedBy: 'jwt:ops-1',
        loadedAt,
        replan: { version: 1, pass: 'load', state: 'running', typesDone: [], examined: 0, replanned: 0, startedAt: loadedAt },
      },
      undefined,
    );

    // Act
    await dueScan({ kind: 'dueScan' }, { getRemainingTimeInMillis: () => 300_000 });

    // Assess
    expect(before?.plan.calendarProvisional).toBe(true);
    expect((await calendars.getCalendarYear(2028))?.replan).toMatchObject({ state: 'done', replanned: 1 });
    const after = await store.getCertificate({ type: FOOD, number: 'FOOD-28' });
    expect(after?.plan.calendarProvisional).toBe(false);
    expect(after?.plan.renewalDeadline).not.toBe(before?.plan.renewalDeadline);
  });
});
