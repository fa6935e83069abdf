import type { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CertalarmStack } from '../../lib/certalarm-stack.js';
import { loadDeploymentConfig } from '../../lib/config.js';
import { synthStack } from './synth.js';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
  Sid?: string;
}

const prodConfig = loadDeploymentConfig('prod');
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

const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });

function statementsOfRole(template: Template, roleId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } });
  return Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement);
}

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

function assertResourceProperties(template: Template, type: string, props: unknown): void {
  template.hasResourceProperties(type, props);
}

const LOG_BASE = 'sns/ap-southeast-1/';

describe('Construct: DeliveryStatusLogging', () => {
  it('makes the two log groups SNS writes SMS receipts to, with the stage retention, retained in production', () => {
    // Prepare
    const { stack, template } = prod;

    // Act
    const success = template.toJSON().Resources[logicalId(stack, stack.deliveryStatus.successLogs)] as { Properties: { LogGroupName: unknown; RetentionInDays: number }; DeletionPolicy: string };
    const failure = template.toJSON().Resources[logicalId(stack, stack.deliveryStatus.failureLogs)] as { Properties: { LogGroupName: unknown } };

    // Assess
    expect(JSON.stringify(success.Properties.LogGroupName)).toContain(LOG_BASE);
    expect(JSON.stringify(success.Properties.LogGroupName)).toMatch(/\/DirectPublishToPhoneNumber"\]/);
    expect(JSON.stringify(failure.Properties.LogGroupName)).toMatch(/\/DirectPublishToPhoneNumber\/Failure"\]/);
    expect(success.Properties.RetentionInDays).toBe(prodConfig.logRetentionDays);
    expect(success.DeletionPolicy).toBe('Retain');
  });

  it('lets SNS, for this account only, write exactly those two log groups', () => {
    // Prepare
    const { stack, template } = prod;
    const roleId = logicalId(stack, stack.deliveryStatus.snsRole);

    // Act
    const role = template.toJSON().Resources[roleId] as { Properties: { AssumeRolePolicyDocument: { Statement: Statement[] }; ManagedPolicyArns?: unknown } };
    const statements = statementsOfRole(template, roleId);

    // Assess
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: 'sns.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }),
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(statements).toHaveLength(1);
    expect(actionsOf(statements[0]!).sort()).toEqual(['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:PutMetricFilter', 'logs:PutRetentionPolicy']);
    expect(statements[0]!.Resource).toEqual(
      expect.arrayContaining([getAtt(logicalId(stack, stack.deliveryStatus.successLogs)), getAtt(logicalId(stack, stack.deliveryStatus.failureLogs))]),
    );
    expect(statements[0]!.Resource).toHaveLength(2);
  });

  it('sets the SMS delivery-status attributes (that role, 100% of successes) with SetSMSAttributes at deployment', () => {
    // Prepare
    const { stack, template } = prod;
    const roleId = logicalId(stack, stack.deliveryStatus.snsRole);

    // Act
    const calls = Object.values(template.findResources('Custom::AWS')).map((r) => JSON.stringify((r as { Properties: unknown }).Properties));

    // Assess
    expect(calls).toHaveLength(1);
    expect(calls[0]).toContain('\\"service\\":\\"SNS\\",\\"action\\":\\"setSMSAttributes\\"');
    expect(calls[0]).toContain('\\"DeliveryStatusSuccessSamplingRate\\":\\"100\\"');
    expect(calls[0]).toContain(`"${roleId}","Arn"`);
    expect(calls[0]).toContain('"InstallLatestAwsSdk":false');
  });

  it('lets the custom resource pass only that role, only to SNS', () => {
    // Prepare
    const { stack, template } = prod;
    const providerRole = stack.deliveryStatus.node.findChild('SmsAttributesRole') as IConstruct;

    // Act
    const statements = statementsOfRole(template, logicalId(stack, providerRole));

    // Assess
    expect(statements.find((s) => actionsOf(s).includes('iam:PassRole'))).toEqual(
      expect.objectContaining({
        Resource: getAtt(logicalId(stack, stack.deliveryStatus.snsRole)),
        Condition: { StringEquals: { 'iam:PassedToService': 'sns.amazonaws.com' } },
      }),
    );
    expect(statements.flatMap(actionsOf).sort()).toEqual(['iam:PassRole', 'logs:CreateLogStream', 'logs:PutLogEvents', 'sns:SetSMSAttributes']);
  });

  it('subscribes the delivery-status function to both log groups, and lets CloudWatch Logs invoke it', () => {
    // Prepare
    const { stack, template } = prod;
    const fnArn = getAtt(logicalId(stack, stack.functions.deliveryStatus));

    // Act
    const filters = Object.values(template.findResources('AWS::Logs::SubscriptionFilter')).map((r) => (r as { Properties: { LogGroupName: unknown; DestinationArn: unknown; FilterPattern: string } }).Properties);

    // Assess
    expect(filters).toEqual([
      { LogGroupName: { Ref: logicalId(stack, stack.deliveryStatus.successLogs) }, DestinationArn: fnArn, FilterPattern: '', FilterName: 'certalarm-delivery-status' },
      { LogGroupName: { Ref: logicalId(stack, stack.deliveryStatus.failureLogs) }, DestinationArn: fnArn, FilterPattern: '', FilterName: 'certalarm-delivery-status' },
    ]);
    assertResourceProperties(template, 'AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', FunctionName: fnArn, Principal: 'logs.amazonaws.com' });
  });
});

describe('Construct: CertalarmFunctions (delivery status)', () => {
  it('runs the delivery-status function on nodejs22.x, arm64, with only GetItem and UpdateItem on the table', () => {
    // Prepare
    const { stack, template } = prod;
    const tableId = logicalId(stack, stack.table.table);

    // Act
    const fn = template.toJSON().Resources[logicalId(stack, stack.functions.deliveryStatus)] as { Properties: Record<string, unknown> };
    const statements = statementsOfRole(template, logicalId(stack, stack.functions.deliveryStatusRole));
    const dynamo = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));

    // Assess
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Environment: { Variables: { TABLE_NAME: { Ref: tableId } } } });
    expect(dynamo).toEqual([expect.objectContaining({ Resource: getAtt(tableId) })]);
    expect(actionsOf(dynamo[0]!).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(statements.flatMap(actionsOf).filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('kms:') && !a.startsWith('logs:'))).toEqual([]);
  });

  it('derives the phone search key from an HMAC KMS key that only the functions recording or searching deliveries may use (scan, the HTTP API’s deliveries and bookings functions, campaign job, inbound SMS), retained in production', () => {
    // Prepare
    const keyId = logicalId(prod.stack, prod.stack.functions.phoneHashKey);

    // Act
    const key = prod.template.toJSON().Resources[keyId] as { Properties: Record<string, unknown>; DeletionPolicy: string };
    const devKey = dev.template.toJSON().Resources[logicalId(dev.stack, dev.stack.functions.phoneHashKey)] as { DeletionPolicy: string };
    const uses = Object.values(prod.template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p as { Properties: { PolicyDocument: { Statement: Statement[] }; Roles: unknown } }).Properties.PolicyDocument.Statement.filter((s) => JSON.stringify(s.Resource).includes(keyId)).map((s) => ({
        roles: (p as { Properties: { Roles: unknown } }).Properties.Roles,
        action: s.Action,
      })),
    );

    // Assess
    expect(key.Properties).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    expect(key.DeletionPolicy).toBe('Retain');
    expect(devKey.DeletionPolicy).toBe('Delete');
    expect(uses).toEqual(
      expect.arrayContaining([
        { roles: [{ Ref: logicalId(prod.stack, prod.stack.functions.dueScanRole) }], action: 'kms:GenerateMac' },
        // Deliveries searched by phone, and booking confirmations recorded with the phone's hash.
        { roles: [{ Ref: logicalId(prod.stack, prod.stack.functions.httpRoles.deliveries) }], action: 'kms:GenerateMac' },
        { roles: [{ Ref: logicalId(prod.stack, prod.stack.functions.httpRoles.bookings) }], action: 'kms:GenerateMac' },
        { roles: [{ Ref: logicalId(prod.stack, prod.stack.functions.campaignJobRole) }], action: 'kms:GenerateMac' },
        { roles: [{ Ref: logicalId(prod.stack, prod.stack.functions.inboundSmsRole) }], action: 'kms:GenerateMac' },
      ]),
    );
    expect(uses).toHaveLength(5);
  });

  it('gives the HTTP API\'s deliveries function Query on the deliveries index', () => {
    // Prepare
    const { stack, template } = prod;
    const tableId = logicalId(stack, stack.table.table);

    // Act
    const statements = statementsOfRole(template, logicalId(stack, stack.functions.httpRoles.deliveries));

    // Assess
    expect(JSON.stringify(statements)).toContain(JSON.stringify({ 'Fn::Join': ['', [getAtt(tableId), '/index/deliveries']] }));
  });
});

describe('Construct: CertalarmApi (phone privacy)', () => {
  it('writes no query string or raw path into the access logs, so a phone= search is never logged', () => {
    // Act
    const stage = Object.values(prod.template.findResources('AWS::ApiGatewayV2::Stage'))[0] as { Properties: { AccessLogSettings: { Format: string } } };

    // Assess
    expect(stage.Properties.AccessLogSettings.Format).not.toMatch(/querystring|\$context\.path|rawPath|\$request/i);
    expect(stage.Properties.AccessLogSettings.Format).toContain('$context.routeKey');
  });
});
