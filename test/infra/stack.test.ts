import type { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLE_SCHEMA } from '../../functions/adapters/aws/dynamodb/keys.js';
import { dueScanPayloadSchema, scanFunctionPayloadSchema } from '../../functions/core/schedule-payloads.js';
import type { CertalarmStack } from '../../lib/certalarm-stack.js';
import { loadDeploymentConfig } from '../../lib/config.js';
import { CAMPAIGN_SCHEDULE_ENVIRONMENT } from '../../lib/runtime-environment.js';
import { groupOf, ROUTE_TABLE } from '../../functions/app/http/app.js';
import { apiGatewayPath, FALLBACK_GROUP, HTTP_GROUPS, type HttpGroup } from '../../functions/app/http/route-groups.js';
import { synthStack } from './synth.js';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
  Sid?: string;
}

const prodConfig = loadDeploymentConfig('prod');
const devConfig = loadDeploymentConfig('dev');

let prod: { stack: CertalarmStack; template: Template };
let dev: { stack: CertalarmStack; template: Template };

beforeAll(() => {
  const p = synthStack('prod');
  prod = { stack: p.stack, template: Template.fromStack(p.stack) };
  const d = synthStack('dev');
  dev = { stack: d.stack, template: Template.fromStack(d.stack) };
});

function logicalId(stack: CertalarmStack, construct: IConstruct): string {
  return stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
}

function getAtt(id: string, attribute = 'Arn') {
  return { 'Fn::GetAtt': [id, attribute] };
}

/** Every statement of the policies attached to a role. */
function statementsOfRole(template: Template, roleId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } });
  return Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement);
}

function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Template assertions under names the test linter recognises as assertions. */
function assertResourceProperties(template: Template, type: string, props: unknown): void {
  template.hasResourceProperties(type, props);
}

function assertResource(template: Template, type: string, props: unknown): void {
  template.hasResource(type, props);
}

function assertResourcePropertiesCount(template: Template, type: string, props: unknown, count: number): void {
  template.resourcePropertiesCountIs(type, props, count);
}

function indexArn(tableId: string, index: string) {
  return { 'Fn::Join': ['', [getAtt(tableId), `/index/${index}`]] };
}

describe('Construct: CertalarmTable', () => {
  it('has the keys and indexes of TABLE_SCHEMA, all string-typed', () => {
    // Prepare
    const keyAttributes = new Set<string>([TABLE_SCHEMA.partitionKey, TABLE_SCHEMA.sortKey]);
    for (const index of TABLE_SCHEMA.indexes) keyAttributes.add(index.partitionKey).add(index.sortKey);

    // Act
    const tables = prod.template.findResources('AWS::DynamoDB::Table');

    // Assess
    expect(Object.keys(tables)).toHaveLength(1);
    assertResourceProperties(prod.template, 'AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayEquals([...keyAttributes].map((name) => ({ AttributeName: name, AttributeType: 'S' }))),
      GlobalSecondaryIndexes: TABLE_SCHEMA.indexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: index.projection },
      })),
    });
  });

  it('is on-demand, with point-in-time recovery, the TTL attribute and KMS encryption under its own key', () => {
    // Prepare
    const keyId = logicalId(prod.stack, prod.stack.table.key);

    // Act & Assess
    assertResourceProperties(prod.template, 'AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.ttlAttribute, Enabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: getAtt(keyId) },
    });
    assertResourceProperties(prod.template, 'AWS::KMS::Key', { EnableKeyRotation: true, Description: Match.stringLikeRegexp('certificate table') });
  });

  it('is protected from deletion and retained, with its key, in production', () => {
    // Act & Assess
    assertResource(prod.template, 'AWS::DynamoDB::Table', {
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    assertResource(prod.template, 'AWS::KMS::Key', {
      Properties: Match.objectLike({ Description: Match.stringLikeRegexp('certificate table') }),
      DeletionPolicy: 'Retain',
    });
  });

  it('may be destroyed with the stack in dev', () => {
    // Act & Assess
    assertResource(dev.template, 'AWS::DynamoDB::Table', {
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
      DeletionPolicy: 'Delete',
    });
  });
});

describe('Construct: CertalarmFunctions', () => {
  it('runs every function on nodejs22.x, arm64, with JSON logs into their own log groups', () => {
    // Prepare
    const { functions } = prod.stack;
    const fns = [...Object.values(functions.http), functions.dueScan, functions.importWorker, functions.campaignJob, functions.inboundSms, functions.deliveryStatus];

    // Act & Assess
    for (const fn of fns) {
      const fnId = logicalId(prod.stack, fn);
      const resource = prod.template.toJSON().Resources[fnId] as { Properties: Record<string, unknown> };
      expect(resource.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.stringMatching(/Logs/) } },
      });
    }
    // Ten functions (five of them the HTTP API's), the API's access logs, SNS's two SMS delivery log groups and the custom resource's function.
    assertResourcePropertiesCount(prod.template, 'AWS::Logs::LogGroup', { RetentionInDays: prodConfig.logRetentionDays }, 14);
    assertResourcePropertiesCount(dev.template, 'AWS::Logs::LogGroup', { RetentionInDays: devConfig.logRetentionDays }, 14);
  });

  it('passes the deployment configuration to the functions as environment variables', () => {
    // Prepare
    const tableId = logicalId(dev.stack, dev.stack.table.table);

    // Act & Assess
    assertResourcePropertiesCount(dev.template, 
      'AWS::Lambda::Function',
      {
        Environment: {
          Variables: {
            TABLE_NAME: { Ref: tableId },
            CERTALARM_SIGNATURE: '【兴国县行政审批局】',
            CERTALARM_COUNTY: '兴国县',
            CERTALARM_RENEWAL_PLACE: devConfig.renewalPlace,
            CERTALARM_SEND_WINDOW: '09:00-20:00',
            CERTALARM_SMS_RATE: String(devConfig.sms.ratePerSecond),
            CERTALARM_SMS_SENDER_ID: 'CERTALARM',
            CERTALARM_SMS_MAX_PRICE: '0.10',
            CERTALARM_MAX_BODY_BYTES: String(devConfig.api.maxBodyBytes),
            CERTALARM_IMPORT_MAX_BYTES: String(devConfig.imports.maxBytes),
            CERTALARM_IMPORT_MAX_ROWS: String(devConfig.imports.maxRows),
            CERTALARM_REFERENCE_DIR: '/var/task/data',
            POWERTOOLS_SERVICE_NAME: 'certalarm',
            LOG_LEVEL: 'debug',
            NODE_OPTIONS: '--enable-source-maps',
          },
        },
      },
      // The HTTP API's five functions, the scan, the import worker, the campaign job and the inbound reader.
      9,
    );
  });

  it('leaves optional SMS settings unset rather than empty when not configured', () => {
    // Prepare
    const fnId = logicalId(prod.stack, prod.stack.functions.dueScan);

    // Act
    const variables = (prod.template.toJSON().Resources[fnId] as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables;

    // Assess
    expect(variables).not.toHaveProperty('CERTALARM_SMS_SENDER_ID');
    expect(variables.CERTALARM_SMS_MAX_PRICE).toBe('0.10');
  });

  it('gives the scan five minutes and at most one concurrent run', () => {
    // Prepare
    const fnId = logicalId(prod.stack, prod.stack.functions.dueScan);

    // Act & Assess
    expect(prod.template.toJSON().Resources[fnId].Properties).toMatchObject({ Timeout: 300, ReservedConcurrentExecutions: 1 });
    assertResourceProperties(prod.template, 'AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId },
      MaximumRetryAttempts: 1,
      MaximumEventAgeInSeconds: 600,
    });
  });

  it('uses its own roles, with no AWS-managed policies', () => {
    // Act
    const roles = prod.template.findResources('AWS::IAM::Role');

    // Assess
    for (const role of Object.values(roles)) {
      expect((role as { Properties: Record<string, unknown> }).Properties).not.toHaveProperty('ManagedPolicyArns');
    }
  });
});

describe('Least privilege', () => {
  it('gives each HTTP API function the item actions and indexes of its own routes only; of SNS, Publish to the bookings function (its confirmations) and OptInPhoneNumber to the deliveries function (a reinstatement)', () => {
    // Prepare
    const { stack, template } = prod;
    const tableId = logicalId(stack, stack.table.table);
    const writes = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'];
    const expected: Record<HttpGroup, { actions: string[]; indexes: string[] }> = {
      // Uploads (PartiQL page reads, BatchWriteItem, the marks' BatchGetItem and ConditionCheck), listings (a paged Scan,
      // the suppressed flags' BatchGetItem), revocations, imports and the retention purge.
      certificates: {
        actions: [...writes, 'dynamodb:BatchGetItem', 'dynamodb:PartiQLSelect', 'dynamodb:BatchWriteItem', 'dynamodb:Scan', 'dynamodb:ConditionCheckItem'],
        indexes: ['byTownship', 'byType'],
      },
      // Rule and calendar changes and their re-plans; a scan's preview reads `due`. No Scan of the table.
      rules: { actions: [...writes, 'dynamodb:BatchGetItem', 'dynamodb:PartiQLSelect', 'dynamodb:BatchWriteItem', 'dynamodb:ConditionCheckItem'], indexes: ['byType', 'due'] },
      campaigns: { actions: writes, indexes: ['byTownshipType'] },
      bookings: { actions: writes, indexes: [] },
      deliveries: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query'], indexes: ['deliveries', 'byPhone'] },
    };

    for (const group of HTTP_GROUPS) {
      // Act
      const statements = statementsOfRole(template, logicalId(stack, stack.functions.httpRoles[group]));
      const tableStatements = statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(getAtt(tableId)));
      const indexStatements = statements.filter((s) => JSON.stringify(s.Resource).includes('/index/'));

      // Assess
      expect({ group, sns: statements.flatMap(actionsOf).filter((a) => a.startsWith('sns:')) }).toEqual({ group, sns: group === 'bookings' ? ['sns:Publish'] : group === 'deliveries' ? ['sns:OptInPhoneNumber'] : [] });
      expect({ group, actions: tableStatements.flatMap(actionsOf).sort() }).toEqual({ group, actions: [...expected[group].actions].sort() });
      expect({ group, indexes: indexStatements.map((s) => ({ actions: actionsOf(s), resources: [s.Resource].flat().map((r) => JSON.stringify(r)).sort() })) }).toEqual({
        group,
        indexes: expected[group].indexes.length === 0 ? [] : [{ actions: ['dynamodb:Query'], resources: expected[group].indexes.map((i) => JSON.stringify(indexArn(tableId, i))).sort() }],
      });
    }
  });

  it('lets each HTTP API function reach only the services its routes call: uploads (certificates), the scan function (rules), schedules (campaigns), SMS (bookings)', () => {
    // Prepare
    const { stack, template } = prod;
    const services = (group: HttpGroup) =>
      [
        ...new Set(
          statementsOfRole(template, logicalId(stack, stack.functions.httpRoles[group]))
            .flatMap(actionsOf)
            .filter((a) => /^(s3|lambda|scheduler|iam|sqs|sns):/.test(a)),
        ),
      ].sort();

    // Act
    const reached = Object.fromEntries(HTTP_GROUPS.map((group) => [group, services(group)]));

    // Assess
    expect(reached).toEqual({
      certificates: ['s3:PutObject'],
      rules: ['lambda:InvokeFunction'],
      campaigns: ['iam:PassRole', 'scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule', 'scheduler:UpdateSchedule'],
      bookings: ['sns:Publish'],
      deliveries: ['sns:OptInPhoneNumber'],
    });
  });

  it('gives the scan function exactly GetItem/PutItem/UpdateItem/DeleteItem/Query, PartiQLSelect (merging, re-plan) and BatchWriteItem (re-plan) on the table and Query on the due and byType indexes', () => {
    // Prepare
    const { stack, template } = prod;
    const tableId = logicalId(stack, stack.table.table);
    const statements = statementsOfRole(template, logicalId(stack, stack.functions.dueScanRole));

    // Act
    const dynamo = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));

    // Assess
    expect(dynamo).toHaveLength(2);
    expect(dynamo).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        // PartiQLSelect: the phones of the due certificates (merging) and a re-plan's page re-read; BatchWriteItem: a rule re-plan.
        Action: ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PartiQLSelect', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        Resource: getAtt(tableId),
      }),
    );
    expect(dynamo).toContainEqual(
      expect.objectContaining({ Effect: 'Allow', Action: 'dynamodb:Query', Resource: [indexArn(tableId, 'byType'), indexArn(tableId, 'due')] }),
    );
  });

  it('lets only the functions that text holders publish SMS: the scan, the campaign job, the inbound reader and the bookings API (its confirmations), no other HTTP function', () => {
    // Prepare
    const { stack, template } = prod;
    const { functions } = stack;
    const senders = [functions.dueScanRole, functions.campaignJobRole, functions.inboundSmsRole, functions.httpRoles.bookings];

    // Act
    const publishOf = (role: IConstruct) => statementsOfRole(template, logicalId(stack, role)).filter((s) => actionsOf(s).includes('sns:Publish'));
    const allPublish = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement.filter((s) => actionsOf(s).includes('sns:Publish')),
    );

    // Assess
    for (const role of senders) expect(publishOf(role)).toEqual([{ Sid: 'PublishSmsToPhoneNumbers', Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }]);
    const otherHttp = Object.entries(functions.httpRoles).filter(([group]) => group !== 'bookings');
    expect(otherHttp.map(([group, role]) => ({ group, publish: publishOf(role) }))).toEqual(otherHttp.map(([group]) => ({ group, publish: [] })));
    expect(allPublish).toHaveLength(4);
  });

  it('lets only the scan function read SNS\'s opt-out list, with sns:ListPhoneNumbersOptedOut alone', () => {
    // Prepare
    const { stack, template } = prod;
    const listing = (s: Statement) => actionsOf(s).some((a) => a.startsWith('sns:List') || a === 'sns:*' || a === '*');

    // Act
    const ofScan = statementsOfRole(template, logicalId(stack, stack.functions.dueScanRole)).filter(listing);
    const all = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement.filter(listing),
    );

    // Assess
    expect(ofScan).toEqual([{ Sid: 'ReadSmsOptOutList', Effect: 'Allow', Action: 'sns:ListPhoneNumbersOptedOut', Resource: '*' }]);
    expect(all).toHaveLength(1);
  });

  it('lets only the deliveries HTTP function (suppressions) opt a reinstated number back in at SNS, with sns:OptInPhoneNumber alone', () => {
    // Prepare
    const { stack, template } = prod;
    const optingIn = (s: Statement) => actionsOf(s).some((a) => a === 'sns:OptInPhoneNumber' || a === 'sns:*' || a === '*');

    // Act
    const ofHttp = statementsOfRole(template, logicalId(stack, stack.functions.httpRoles.deliveries)).filter(optingIn);
    const all = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement.filter(optingIn),
    );

    // Assess
    expect(ofHttp).toEqual([{ Sid: 'OptNumbersBackInSms', Effect: 'Allow', Action: 'sns:OptInPhoneNumber', Resource: '*' }]);
    expect(all).toHaveLength(1);
  });

  it('uses the table key only through DynamoDB in this region', () => {
    // Prepare
    const { stack, template } = prod;
    const keyId = logicalId(stack, stack.table.key);

    // Act
    const kms = statementsOfRole(template, logicalId(stack, stack.functions.dueScanRole)).filter(
      (s) => actionsOf(s).some((a) => a.startsWith('kms:')) && JSON.stringify(s.Resource).includes(keyId),
    );

    // Assess
    expect(kms).toEqual([
      expect.objectContaining({
        Resource: getAtt(keyId),
        Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.ap-southeast-1.amazonaws.com' } },
      }),
    ]);
    expect(actionsOf(kms[0]!).every((a) => !a.includes('*'))).toBe(true);
  });
});

describe('Holder ID key', () => {
  it('seals holder IDs under a rotated KMS key named in every function, granted per function and only with the holder-ID context', () => {
    // Prepare
    const { stack, template } = prod;
    const keyId = logicalId(stack, stack.functions.holderIdKey);
    const condition = { StringEquals: { 'kms:EncryptionContext:purpose': 'certalarm-holder-id' } };
    const grantOf = (role: IConstruct) => statementsOfRole(template, logicalId(stack, role)).filter((s) => JSON.stringify(s.Resource).includes(keyId));

    // Act
    const variables = [...Object.values(stack.functions.http), stack.functions.dueScan, stack.functions.importWorker].map(
      (fn) => (template.toJSON().Resources[logicalId(stack, fn)] as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables,
    );

    // Assess
    assertResource(template, 'AWS::KMS::Key', { Properties: { EnableKeyRotation: true, Description: Match.stringLikeRegexp('holder IDs') }, DeletionPolicy: 'Retain' });
    for (const v of variables) expect(v.CERTALARM_HOLDER_ID_KMS_KEY_ID).toEqual(getAtt(keyId));
    // The certificate routes write and read certificates, and so do the re-plans of rule and calendar changes.
    for (const group of ['certificates', 'rules'] as const) {
      expect(grantOf(stack.functions.httpRoles[group])).toEqual([{ Sid: 'SealHolderIds', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: getAtt(keyId), Condition: condition }]);
    }
    for (const group of ['campaigns', 'bookings', 'deliveries'] as const) expect(grantOf(stack.functions.httpRoles[group])).toEqual([]);
    expect(grantOf(stack.functions.importWorkerRole)).toEqual([{ Sid: 'SealHolderIds', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: getAtt(keyId), Condition: condition }]);
    expect(grantOf(stack.functions.dueScanRole)).toEqual([{ Sid: 'OpenHolderIds', Effect: 'Allow', Action: 'kms:Decrypt', Resource: getAtt(keyId), Condition: condition }]);
  });
});

describe('Cursor key', () => {
  it('signs paging cursors with an HMAC KMS key that only the HTTP API functions with listings may use, and only to make a MAC', () => {
    // Prepare
    const { stack, template } = prod;
    const keyId = logicalId(stack, stack.functions.cursorKey);
    const paging: HttpGroup[] = ['certificates', 'rules', 'deliveries'];
    const variablesOf = (group: HttpGroup) =>
      (template.toJSON().Resources[logicalId(stack, stack.functions.http[group])] as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables;

    // Act
    const uses = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p as { Properties: { PolicyDocument: { Statement: Statement[] }; Roles: unknown } }).Properties.PolicyDocument.Statement.filter(
        (s) => JSON.stringify(s.Resource).includes(keyId),
      ).map((s) => ({ roles: (p as { Properties: { Roles: unknown } }).Properties.Roles, statement: s })),
    );

    // Assess
    assertResourceProperties(template, 'AWS::KMS::Key', { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    for (const group of HTTP_GROUPS) {
      expect({ group, key: variablesOf(group).CERTALARM_CURSOR_KMS_KEY_ID }).toEqual({ group, key: paging.includes(group) ? getAtt(keyId) : undefined });
    }
    expect(uses).toEqual(
      expect.arrayContaining(
        paging.map((group) => ({
          roles: [{ Ref: logicalId(stack, stack.functions.httpRoles[group]) }],
          statement: expect.objectContaining({ Effect: 'Allow', Action: 'kms:GenerateMac', Resource: getAtt(keyId) }),
        })),
      ),
    );
    expect(uses).toHaveLength(paging.length);
  });
});

describe('Construct: CertalarmApi', () => {
  it('requires the JWT authorizer on every route except GET /healthz', () => {
    // Prepare
    const authorizerId = logicalId(prod.stack, prod.stack.api.api.node.findChild('Jwt'));

    // Act
    const routes = Object.values(prod.template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => (r as { Properties: { RouteKey: string; AuthorizationType: string; AuthorizerId?: unknown } }).Properties,
    );

    // Assess
    const open = routes.filter((r) => r.RouteKey === 'GET /healthz');
    const protectedRoutes = routes.filter((r) => r.RouteKey !== 'GET /healthz');
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(['ANY /v1/{proxy+}', ...ROUTE_TABLE.map((r) => `${r.method} ${apiGatewayPath(r.pattern)}`)].sort());
    expect(open.map((r) => r.AuthorizationType)).toEqual(['NONE']);
    for (const route of protectedRoutes) expect(route).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } });
    assertResourceProperties(prod.template, 'AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: prodConfig.api.jwtIssuer, Audience: prodConfig.api.jwtAudience },
    });
  });

  it('sends every route of the route table to the function of its group, and any other path or method to the fallback group', () => {
    // Prepare
    const { stack, template } = prod;
    const functionOfIntegration = new Map(
      Object.entries(template.findResources('AWS::ApiGatewayV2::Integration')).map(([id, r]) => [id, (r as { Properties: { IntegrationUri: unknown } }).Properties.IntegrationUri]),
    );
    const groupOfFunction = new Map(HTTP_GROUPS.map((group) => [JSON.stringify(getAtt(logicalId(stack, stack.functions.http[group]))), group]));

    // Act
    const served = Object.fromEntries(
      Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => {
        const { RouteKey, Target } = (r as { Properties: { RouteKey: string; Target: { 'Fn::Join': [string, [string, { Ref: string }]] } } }).Properties;
        const integration = Target['Fn::Join'][1][1].Ref;
        return [RouteKey, groupOfFunction.get(JSON.stringify(functionOfIntegration.get(integration)))];
      }),
    );

    // Assess
    expect(served).toEqual({
      ...Object.fromEntries(ROUTE_TABLE.map((route) => [`${route.method} ${apiGatewayPath(route.pattern)}`, groupOf(route)])),
      'ANY /v1/{proxy+}': FALLBACK_GROUP,
    });
    for (const group of HTTP_GROUPS) expect(Object.values(served)).toContain(group);
  });

  it('logs the route key, never the request path or query, so a phone in a path (DELETE /v1/suppressions/{phone}) stays out of the access log', () => {
    // Prepare
    const stage = Object.values(prod.template.findResources('AWS::ApiGatewayV2::Stage'))[0] as { Properties: { AccessLogSettings: { Format: string } } };

    // Act
    const format = stage.Properties.AccessLogSettings.Format;

    // Assess
    expect(JSON.parse(format)).toMatchObject({ routeKey: '$context.routeKey' });
    expect(format).not.toMatch(/\$context\.(path|resourcePath|requestOverride|http\.path)|\$request|querystring/i);
  });

  it('throttles the default stage and writes access logs', () => {
    // Prepare
    const logsId = logicalId(prod.stack, prod.stack.api.accessLogs);

    // Act & Assess
    assertResourceProperties(prod.template, 'AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: prodConfig.api.throttlingRateLimit,
        ThrottlingBurstLimit: prodConfig.api.throttlingBurstLimit,
      },
      AccessLogSettings: { DestinationArn: getAtt(logsId), Format: Match.stringLikeRegexp('\\$context.requestId') },
    });
  });
});

/** A schedule of the prod stack, by its construct. */
function scheduleProperties(schedule: IConstruct): { Target: { Input: string } } & Record<string, unknown> {
  const { stack, template } = prod;
  return (template.findResources('AWS::Scheduler::Schedule')[logicalId(stack, schedule)] as { Properties: { Target: { Input: string } } & Record<string, unknown> }).Properties;
}

/** A recurring schedule of the `certalarm` group that invokes the scan function with `payload`, Beijing time, through the DLQ. */
function expectScanFunctionSchedule(properties: { Target: { Input: string } }, expected: { cron: string; maxEventAgeSeconds: number; payload: object }): void {
  const { stack } = prod;
  expect(properties).toMatchObject({
    GroupName: 'certalarm',
    ScheduleExpression: expected.cron,
    ScheduleExpressionTimezone: 'Asia/Shanghai',
    FlexibleTimeWindow: { Mode: 'OFF' },
    State: 'ENABLED',
    Target: {
      Arn: getAtt(logicalId(stack, stack.functions.dueScan)),
      RoleArn: getAtt(logicalId(stack, stack.schedules.role)),
      RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: expected.maxEventAgeSeconds },
      DeadLetterConfig: { Arn: getAtt(logicalId(stack, stack.schedules.deadLetterQueue)) },
    },
  });
  expect(JSON.parse(properties.Target.Input)).toEqual(expected.payload);
  expect(scanFunctionPayloadSchema.safeParse(JSON.parse(properties.Target.Input)).success).toBe(true);
}

describe('Construct: CertalarmSchedules', () => {
  it('runs the due scan every 15 minutes from 09:00 to 19:45 Beijing time with a {"kind":"dueScan"} payload', () => {
    // Prepare
    const { stack, template } = prod;

    // Act
    const all = template.findResources('AWS::Scheduler::Schedule');
    const schedules = [all[logicalId(stack, stack.schedules.dueScan)]].map(
      (s) => (s as { Properties: { Target: { Input: string } } & Record<string, unknown> }).Properties,
    );

    // Assess
    expect(Object.keys(all)).toHaveLength(4);
    expect(schedules[0]).toMatchObject({
      GroupName: 'certalarm',
      ScheduleExpression: 'cron(0/15 9-19 * * ? *)',
      ScheduleExpressionTimezone: 'Asia/Shanghai',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: getAtt(logicalId(stack, stack.functions.dueScan)),
        RoleArn: getAtt(logicalId(stack, stack.schedules.role)),
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 600 },
        DeadLetterConfig: { Arn: getAtt(logicalId(stack, stack.schedules.deadLetterQueue)) },
      },
    });
    expect(JSON.parse(schedules[0]!.Target.Input)).toEqual({ kind: 'dueScan' });
    expect(dueScanPayloadSchema.safeParse(JSON.parse(schedules[0]!.Target.Input)).success).toBe(true);
    assertResourceProperties(template, 'AWS::Scheduler::ScheduleGroup', { Name: 'certalarm' });
    assertResourceProperties(dev.template, 'AWS::Scheduler::ScheduleGroup', { Name: 'certalarm-dev' });
  });

  it('runs the retention purge daily at 03:00 Beijing time on the scan function with a {"kind":"retentionPurge"} payload', () => {
    // Prepare
    const { stack } = prod;

    // Act
    const purge = scheduleProperties(stack.schedules.retentionPurge);

    // Assess
    expectScanFunctionSchedule(purge, { cron: 'cron(0 3 * * ? *)', maxEventAgeSeconds: 3600, payload: { kind: 'retentionPurge' } });
  });

  it('copies SNS\'s opt-out list daily at 08:30 Beijing time, before the send window, on the scan function with a {"kind":"providerOptOuts"} payload', () => {
    // Prepare
    const { stack } = prod;

    // Act
    const sync = scheduleProperties(stack.schedules.providerOptOuts);

    // Assess
    expectScanFunctionSchedule(sync, { cron: 'cron(30 8 * * ? *)', maxEventAgeSeconds: 1800, payload: { kind: 'providerOptOuts' } });
  });

  it('runs the byTownshipType keys backfill every 15 minutes from 00:00 to 02:45 Beijing time on the scan function with a {"kind":"indexBackfill"} payload', () => {
    // Prepare
    const { stack } = prod;

    // Act
    const backfill = scheduleProperties(stack.schedules.indexBackfill);

    // Assess
    expectScanFunctionSchedule(backfill, { cron: 'cron(0/15 0-2 * * ? *)', maxEventAgeSeconds: 600, payload: { kind: 'indexBackfill' } });
  });

  it('gives the backfill no grant of its own: the scan function may not Scan the table (its reads are Queries and point reads)', () => {
    // Prepare
    const { stack, template } = prod;

    // Act
    const actions = statementsOfRole(template, logicalId(stack, stack.functions.dueScanRole)).flatMap((s) => actionsOf(s));

    // Assess
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PartiQLSelect',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(actions).not.toContain('dynamodb:Scan');
  });

  it('lets the Scheduler role only invoke the scan function and write to its dead-letter queue', () => {
    // Prepare
    const { stack, template } = prod;
    const scanId = logicalId(stack, stack.functions.dueScan);
    const roleId = logicalId(stack, stack.schedules.role);

    // Act
    const statements = statementsOfRole(template, roleId);

    // Assess
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: [getAtt(scanId), { 'Fn::Join': ['', [getAtt(scanId), ':*']] }],
      },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt(logicalId(stack, stack.schedules.deadLetterQueue)) },
    ]);
    assertResourceProperties(template, 'AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: {
              StringEquals: {
                'aws:SourceAccount': { Ref: 'AWS::AccountId' },
                'aws:SourceArn': getAtt(logicalId(stack, stack.schedules.group)),
              },
            },
          },
        ],
      },
    });
  });

  it('keeps undeliverable invocations in an encrypted, TLS-only dead-letter queue', () => {
    // Prepare
    const queueId = logicalId(prod.stack, prod.stack.schedules.deadLetterQueue);

    // Act & Assess
    assertResourceProperties(prod.template, 'AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
    assertResourceProperties(prod.template, 'AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('Construct: Messaging', () => {
  it('encrypts the alarm topic with a key CloudWatch may use, requires TLS and mails the configured address', () => {
    // Prepare
    const { stack, template } = prod;
    const keyId = logicalId(stack, stack.messaging.alarmKey);
    const topicId = logicalId(stack, stack.messaging.alarmTopic);

    // Act & Assess
    assertResourceProperties(template, 'AWS::SNS::Topic', { KmsMasterKeyId: getAtt(keyId) });
    assertResourceProperties(template, 'AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
        ]),
      },
    });
    assertResourceProperties(template, 'AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    assertResourceProperties(template, 'AWS::SNS::Subscription', { Protocol: 'email', Endpoint: prodConfig.alarmEmail, TopicArn: { Ref: topicId } });
  });

  it('warns at synth while the production alarm e-mail is still the placeholder', () => {
    // Act
    const warnings = prod.stack.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));

    // Assess
    expect(warnings.some((w) => w.includes('placeholder'))).toBe(true);
  });
});

describe('Construct: CertalarmAlarms', () => {
  it('alarms on function errors and throttles, every dead-letter queue, SMS delivery and spend, and unsent reminders', () => {
    // Prepare
    const topicRef = { Ref: logicalId(prod.stack, prod.stack.messaging.alarmTopic) };

    // Act
    const alarms = Object.values(prod.template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => (a as { Properties: { MetricName?: string; Namespace?: string; Metrics?: { MetricStat?: { Metric: { MetricName: string; Namespace: string } } }[]; AlarmActions: unknown[] } }).Properties,
    );
    const metricOf = (a: (typeof alarms)[number]) =>
      a.MetricName !== undefined
        ? `${a.Namespace}/${a.MetricName}`
        : [...new Set((a.Metrics ?? []).flatMap((m) => (m.MetricStat ? [`${m.MetricStat.Metric.Namespace}/${m.MetricStat.Metric.MetricName}`] : [])))].join(',');

    // Assess
    expect(alarms.map(metricOf).sort()).toEqual(
      [
        // Ten functions, five of them the HTTP API's.
        ...Array<string>(10).fill('AWS/Lambda/Errors'),
        ...Array<string>(10).fill('AWS/Lambda/Throttles'),
        // Scheduler (due scan), campaign schedules, inbound SMS, imports.
        ...Array<string>(4).fill('AWS/SQS/ApproximateNumberOfMessagesVisible'),
        'AWS/SNS/SMSSuccessRate',
        'AWS/SNS/SMSMonthToDateSpentUSD',
        'Certalarm/UnsentAtWindowClose',
      ].sort(),
    );
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([topicRef]);
    assertResourceProperties(prod.template, 'AWS::CloudWatch::Alarm', {
      MetricName: 'SMSSuccessRate',
      Dimensions: Match.arrayEquals([
        { Name: 'Country', Value: 'CN' },
        { Name: 'SMSType', Value: 'Transactional' },
      ]),
      Statistic: 'Average',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: prodConfig.sms.successRateAlarmThreshold,
    });
    assertResourceProperties(prod.template, 'AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: Match.stringLikeRegexp('FILL') })]),
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
  });
});

describe('Construct: CampaignSchedules', () => {
  it('keeps the campaign schedules in a group of their own, apart from the recurring due scan', () => {
    // Act & Assess
    assertResourceProperties(prod.template, 'AWS::Scheduler::ScheduleGroup', { Name: 'certalarm-campaigns' });
    assertResourceProperties(dev.template, 'AWS::Scheduler::ScheduleGroup', { Name: 'certalarm-campaigns-dev' });
    expect(prod.stack.campaignSchedules.group.scheduleGroupName).not.toBe(prod.stack.schedules.group.scheduleGroupName);
  });

  it('lets the Scheduler role, assumable only by Scheduler for this account and group, invoke only the campaign-job function', () => {
    // Prepare
    const { stack, template } = prod;
    const jobId = logicalId(stack, stack.functions.campaignJob);
    const roleId = logicalId(stack, stack.campaignSchedules.role);

    // Act
    const statements = statementsOfRole(template, roleId);
    const role = template.toJSON().Resources[roleId] as { Properties: { AssumeRolePolicyDocument: unknown } };

    // Assess
    expect(statements).toEqual([
      { Sid: 'InvokeCampaignJob', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: getAtt(jobId) },
      { Sid: 'DeadLetter', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt(logicalId(stack, stack.campaignSchedules.deadLetterQueue)) },
    ]);
    expect(role.Properties.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: {
            StringEquals: {
              'aws:SourceAccount': { Ref: 'AWS::AccountId' },
              'aws:SourceArn': getAtt(logicalId(stack, stack.campaignSchedules.group)),
            },
          },
        },
      ],
    });
  });

  it('lets the HTTP API\'s campaigns function manage only the schedules of the campaign group and pass only the campaign Scheduler role, only to Scheduler', () => {
    // Prepare
    const { stack, template } = prod;
    const statements = statementsOfRole(template, logicalId(stack, stack.functions.httpRoles.campaigns));

    // Act
    const scheduling = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('scheduler:')));
    const passRole = statements.filter((s) => actionsOf(s).includes('iam:PassRole'));
    const otherHttpRoles = HTTP_GROUPS.filter((group) => group !== 'campaigns').map((group) => stack.functions.httpRoles[group]);
    const otherRoles = [stack.functions.dueScanRole, stack.functions.inboundSmsRole, stack.functions.importWorkerRole, ...otherHttpRoles]
      .flatMap((r) => statementsOfRole(template, logicalId(stack, r)))
      .filter((s) => actionsOf(s).some((a) => a.startsWith('scheduler:') || a === 'iam:PassRole'));

    // Assess
    expect(scheduling).toEqual([
      {
        Sid: 'ManageCampaignSchedules',
        Effect: 'Allow',
        Action: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule', 'scheduler:UpdateSchedule'],
        Resource: { 'Fn::Join': ['', ['arn:aws:scheduler:ap-southeast-1:', { Ref: 'AWS::AccountId' }, ':schedule/certalarm-campaigns/*']] },
      },
    ]);
    expect(passRole).toEqual([
      {
        Sid: 'PassCampaignSchedulerRole',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: getAtt(logicalId(stack, stack.campaignSchedules.role)),
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      },
    ]);
    expect(otherRoles).toEqual([]);
  });

  it('lets the campaign-job function only create schedules in the campaign group (its own continuation) and pass only the campaign Scheduler role', () => {
    // Prepare
    const { stack, template } = prod;
    const statements = statementsOfRole(template, logicalId(stack, stack.functions.campaignJobRole));
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(stack, stack.functions.campaignJob)] as { Properties: { Environment: { Variables: Record<string, unknown> } } };

    // Act
    const scheduling = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('scheduler:') || a === 'iam:PassRole'));

    // Assess
    expect(scheduling).toEqual([
      {
        Sid: 'ContinueCampaignJobs',
        Effect: 'Allow',
        Action: 'scheduler:CreateSchedule',
        Resource: { 'Fn::Join': ['', ['arn:aws:scheduler:ap-southeast-1:', { Ref: 'AWS::AccountId' }, ':schedule/certalarm-campaigns/*']] },
      },
      {
        Sid: 'PassSchedulerRoleForContinuations',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: getAtt(logicalId(stack, stack.campaignSchedules.role)),
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      },
    ]);
    expect(fn.Properties.Environment.Variables).toMatchObject({
      CERTALARM_SCHEDULER_ROLE_ARN: getAtt(logicalId(stack, stack.campaignSchedules.role)),
      CERTALARM_SCHEDULE_GROUP: 'certalarm-campaigns',
    });
    expect(fn.Properties.Environment.Variables).not.toHaveProperty('CERTALARM_CAMPAIGN_JOB_ARN');
  });

  it('tells the HTTP API\'s campaigns function the target, role, group and dead-letter queue its schedules use, and no other HTTP function', () => {
    // Prepare
    const { stack, template } = prod;
    const fnId = logicalId(stack, stack.functions.http.campaigns);
    const variablesOf = (group: HttpGroup) =>
      (template.toJSON().Resources[logicalId(stack, stack.functions.http[group])] as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables;

    // Act
    const variables = (template.toJSON().Resources[fnId] as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables;

    // Assess
    expect(variables).toMatchObject({
      [CAMPAIGN_SCHEDULE_ENVIRONMENT.targetArn]: getAtt(logicalId(stack, stack.functions.campaignJob)),
      [CAMPAIGN_SCHEDULE_ENVIRONMENT.roleArn]: getAtt(logicalId(stack, stack.campaignSchedules.role)),
      [CAMPAIGN_SCHEDULE_ENVIRONMENT.group]: 'certalarm-campaigns',
      [CAMPAIGN_SCHEDULE_ENVIRONMENT.deadLetterArn]: getAtt(logicalId(stack, stack.campaignSchedules.deadLetterQueue)),
    });
    for (const group of HTTP_GROUPS.filter((g) => g !== 'campaigns')) expect(variablesOf(group)).not.toHaveProperty(CAMPAIGN_SCHEDULE_ENVIRONMENT.targetArn);
  });

  it('keeps undeliverable campaign jobs in an encrypted, TLS-only dead-letter queue', () => {
    // Prepare
    const queueId = logicalId(prod.stack, prod.stack.campaignSchedules.deadLetterQueue);

    // Act
    const queue = prod.template.toJSON().Resources[queueId] as { Properties: Record<string, unknown> };

    // Assess
    expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
    assertResourceProperties(prod.template, 'AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('gives the campaign job 15 minutes, two concurrent runs, and two more runs of a job left incomplete', () => {
    // Prepare
    const fnId = logicalId(prod.stack, prod.stack.functions.campaignJob);

    // Act & Assess
    assertResource(prod.template, 'AWS::Lambda::Function', { Properties: { Timeout: 900, ReservedConcurrentExecutions: 2 } });
    assertResourceProperties(prod.template, 'AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21_600,
    });
  });
});

describe('Construct: InboundSms', () => {
  it('delivers replies through a KMS-encrypted, TLS-only topic to the inbound function alone', () => {
    // Prepare
    const { stack, template } = prod;
    const topicId = logicalId(stack, stack.inboundSms.topic);

    // Act
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription', { Properties: { TopicArn: { Ref: topicId } } }));

    // Assess
    assertResourceProperties(template, 'AWS::SNS::Topic', { DisplayName: 'certalarm inbound SMS', KmsMasterKeyId: getAtt(logicalId(stack, stack.inboundSms.key)) });
    expect(subscriptions).toHaveLength(1);
    expect(subscriptions[0]).toMatchObject({
      Properties: {
        Protocol: 'lambda',
        Endpoint: getAtt(logicalId(stack, stack.functions.inboundSms)),
        RedrivePolicy: { deadLetterTargetArn: getAtt(logicalId(stack, stack.inboundSms.deadLetterQueue)) },
      },
    });
    assertResourceProperties(template, 'AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('lets only this account\'s End User Messaging SMS publish into the topic and use its key', () => {
    // Prepare
    const { stack, template } = prod;
    const sourceCondition = {
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:aws:sms-voice:ap-southeast-1:', { Ref: 'AWS::AccountId' }, ':*']] } },
    };

    // Act & Assess
    assertResourceProperties(template, 'AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: logicalId(stack, stack.inboundSms.topic) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Sid: 'AllowEndUserMessagingSmsToPublish', Effect: 'Allow', Principal: { Service: 'sms-voice.amazonaws.com' }, Action: 'sns:Publish', Resource: { Ref: logicalId(stack, stack.inboundSms.topic) }, Condition: sourceCondition },
        ]),
      },
    });
    assertResourceProperties(template, 'AWS::KMS::Key', {
      Description: 'certalarm: encrypts the inbound (two-way) SMS topic',
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'AllowEndUserMessagingSmsToPublish', Principal: { Service: 'sms-voice.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Condition: sourceCondition }),
        ]),
      },
    });
  });
});
