import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { documentClient } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { certificateKey } from '../../functions/adapters/aws/dynamodb/keys.js';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { handler as httpApi } from '../../functions/handlers/http-api.js';
import { resetLambdaDeps } from '../../functions/handlers/runtime.js';
import { dynamoTestClient, uniqueTableName } from '../support/dynamo.js';
import { record, validUscc } from '../support/fixtures.js';
import { useLambdaEnvironment } from '../support/lambda-environment.js';

type Event = APIGatewayProxyEventV2WithJWTAuthorizer;

const KEY_ARN = 'arn:aws:kms:ap-southeast-1:123456789012:key/99999999-8888-7777-6666-555555555555';
const DATA_KEY = Buffer.alloc(32, 3);
const ENCRYPTED_DATA_KEY = Buffer.from('the data key, encrypted under the holder-ID key');
const OPERATOR = { sub: 'ops-1', 'custom:role': 'operator' };

function event(method: string, path: string, body?: unknown, rawQueryString = ''): Event {
  const base = JSON.parse(readFileSync(new URL('../fixtures/events/http-api-post-certificates.json', import.meta.url), 'utf8')) as Event;
  return {
    ...base,
    rawPath: path,
    rawQueryString,
    requestContext: {
      ...base.requestContext,
      authorizer: { ...base.requestContext.authorizer, jwt: { ...base.requestContext.authorizer.jwt, claims: OPERATOR } },
      http: { ...base.requestContext.http, method, path },
    },
    ...(body === undefined ? { body: undefined } : { body: Buffer.from(JSON.stringify(body)).toString('base64'), isBase64Encoded: true }),
  } as Event;
}

/** A stand-in for KMS answering GenerateDataKey and Decrypt; every request's target and body kept. */
const kmsRequests: Array<{ target: string; body: Record<string, unknown> }> = [];
let kms: Server;
let table: string;
let restore: () => void = () => undefined;

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-08-01T02:00:00Z'));
  table = uniqueTableName('holder-ids-lambda');
  await ensureTable(dynamoTestClient(), table);
  kms = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target']);
      kmsRequests.push({ target, body: JSON.parse(body) as Record<string, unknown> });
      const answer =
        target === 'TrentService.GenerateDataKey'
          ? { KeyId: KEY_ARN, Plaintext: DATA_KEY.toString('base64'), CiphertextBlob: ENCRYPTED_DATA_KEY.toString('base64') }
          : { KeyId: KEY_ARN, Plaintext: DATA_KEY.toString('base64') };
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => kms.listen(0, '127.0.0.1', resolve));
  const address = kms.address();
  restore = useLambdaEnvironment(table, {
    AWS_ENDPOINT_URL_KMS: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`,
    CERTALARM_HOLDER_ID_KMS_KEY_ID: KEY_ARN,
  });
  resetLambdaDeps();
});

afterAll(async () => {
  await new Promise((resolve) => kms.close(resolve));
  vi.useRealTimers();
  restore();
  resetLambdaDeps();
});

describe('Handler: http-api with the stack’s holder-ID key', () => {
  it('seals holder IDs through KMS envelope encryption, answers them masked, and whole only to an operator who asks', async () => {
    // Prepare
    const id = validUscc(7);

    // Act
    const created = await httpApi(event('POST', '/v1/certificates', [record(7), record(8)]));
    const { Item } = await documentClient(dynamoTestClient()).send(new GetCommand({ TableName: table, Key: certificateKey({ type: 'pesticide_business_license', number: 'TEST-000007' }) }));
    const read = await httpApi(event('GET', '/v1/certificates/pesticide_business_license/TEST-000007'));
    const revealed = await httpApi(event('GET', '/v1/certificates/pesticide_business_license/TEST-000007', undefined, 'reveal=holderId'));

    // Assess
    expect(created.statusCode).toBe(200);
    expect(Item?.holderId).toMatch(new RegExp(`^kms1:${ENCRYPTED_DATA_KEY.toString('base64url')}:`));
    expect(JSON.stringify(Item)).not.toContain(id);
    expect((JSON.parse(read.body ?? '') as { holder: { id: string } }).holder.id).toBe(`${id.slice(0, 4)}**********${id.slice(-4)}`);
    expect((JSON.parse(revealed.body ?? '') as { holder: { id: string } }).holder.id).toBe(id);
    // One data key for the cold start's writes; its own values are opened without asking KMS again.
    expect(kmsRequests).toEqual([{ target: 'TrentService.GenerateDataKey', body: { KeyId: KEY_ARN, KeySpec: 'AES_256', EncryptionContext: { purpose: 'certalarm-holder-id' } } }]);
  });
});
