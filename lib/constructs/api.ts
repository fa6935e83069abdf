import { CfnOutput, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { DeploymentConfig } from '../config.js';
import { groupOf, ROUTE_TABLE } from '../../functions/app/http/app.js';
import { apiGatewayPath, FALLBACK_GROUP, HTTP_GROUPS, type HttpGroup } from '../../functions/app/http/route-groups.js';
import { HTTP_GROUP_SPECS } from './http-groups.js';

export interface CertalarmApiProps {
  config: DeploymentConfig;
  /** The function of each route group. */
  handlers: Readonly<Record<HttpGroup, lambda.IFunction>>;
}

/**
 * The HTTP API (API Gateway v2): each route of the route table (functions/app/http/app.ts) is sent to
 * the Lambda function of its group. Every route needs a JWT from the configured issuer except
 * `GET /healthz`. Request size: HTTP APIs accept payloads up to 10 MB and a synchronous Lambda invocation
 * up to 6 MB; the app's own, lower limit (`CERTALARM_MAX_BODY_BYTES`) is enforced in the function (413).
 */
export class CertalarmApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CertalarmApiProps) {
    super(scope, id);
    const { config } = props;

    const authorizer = new HttpJwtAuthorizer('Jwt', config.api.jwtIssuer, {
      authorizerName: 'certalarm-jwt',
      jwtAudience: config.api.jwtAudience,
    });
    const integrations = Object.fromEntries(
      HTTP_GROUPS.map((group) => [
        group,
        new HttpLambdaIntegration(`${HTTP_GROUP_SPECS[group].id}Handler`, props.handlers[group], { payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0 }),
      ]),
    ) as Record<HttpGroup, HttpLambdaIntegration>;

    this.api = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: `certalarm-${config.stage}`,
      description: 'certalarm: certificate expiry reminders',
      defaultAuthorizer: authorizer,
      // The default stage is created below, with throttling and access logs the L2 does not expose.
      createDefaultStage: false,
    });
    // Every route of the route table goes to its group's function, so the local server (which serves the
    // table in one process) and the stack cannot drift apart. A path or method no route has goes to the
    // fallback group's function, which answers the same 404 and 405 as the local server.
    let health: apigwv2.HttpRoute | undefined;
    for (const route of ROUTE_TABLE) {
      const path = apiGatewayPath(route.pattern);
      const [added] = this.api.addRoutes({
        path,
        methods: [route.method as apigwv2.HttpMethod],
        integration: integrations[groupOf(route)],
        ...(route.access === 'public' ? { authorizer: new apigwv2.HttpNoneAuthorizer() } : {}),
      });
      // Only the liveness probe is acknowledged as open: cdk-nag stops any other public route until someone says why.
      if (route.access === 'public' && route.method === 'GET' && path === '/healthz') health = added;
    }
    this.api.addRoutes({ path: '/v1/{proxy+}', methods: [apigwv2.HttpMethod.ANY], integration: integrations[FALLBACK_GROUP] });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: config.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: config.api.throttlingRateLimit, burstLimit: config.api.throttlingBurstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        // No query strings or bodies: they may carry phone numbers.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTimeEpoch',
            ip: '$context.identity.sourceIp',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            subject: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });

    if (health !== undefined) {
      Validations.of(health).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'GET /healthz is the unauthenticated liveness probe for uptime checks; it returns only {status, now} and touches no data. ' +
          'Every other route requires a JWT from the configured issuer.',
      });
    }

    new CfnOutput(this, 'Url', { value: this.stage.url, description: 'certalarm HTTP API base URL' });
  }
}
