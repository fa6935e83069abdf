import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { DeploymentConfig } from '../config.js';

export interface CertalarmAlarmsProps {
  config: DeploymentConfig;
  topic: sns.ITopic;
  functions: Record<string, lambda.IFunction>;
  /** Each alarms as soon as it holds a message; the description says what landed there. */
  deadLetterQueues: Record<string, { queue: sqs.IQueue; description: string }>;
}

/** The metric the scan handler writes as EMF when the last run inside the send window leaves reminders unsent. */
export const UNSENT_METRIC = { namespace: 'Certalarm', metricName: 'UnsentAtWindowClose', service: 'certalarm' } as const;

/**
 * Operational alarms, all to the alarm topic (e-mail). Missing data is "not breaching" everywhere:
 * a quiet night is not an incident.
 */
export class CertalarmAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly action: actions.SnsAction;

  constructor(scope: Construct, id: string, props: CertalarmAlarmsProps) {
    super(scope, id);
    const { config } = props;
    this.action = new actions.SnsAction(props.topic);
    const fiveMinutes = Duration.minutes(5);

    for (const [name, fn] of Object.entries(props.functions)) {
      this.add(`${name}Errors`, {
        alarmDescription: `certalarm ${name}: the function failed (uncaught error or timeout)`,
        metric: fn.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
      this.add(`${name}Throttles`, {
        alarmDescription: `certalarm ${name}: invocations were throttled`,
        metric: fn.metricThrottles({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }

    for (const [name, { queue, description }] of Object.entries(props.deadLetterQueues)) {
      this.add(`${name}DeadLetters`, {
        alarmDescription: `certalarm: ${description}`,
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: cloudwatch.Stats.MAXIMUM }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      });
    }

    // SMS delivery. Direct-to-phone publishes are not topic deliveries, so NumberOfNotificationsFailed
    // (published per TopicName) does not see them. SNS reports SMS delivery as AWS/SNS `SMSSuccessRate`
    // (0..1, dimensions Country + SMSType): the hourly average for transactional SMS to China is watched.
    this.add('SmsSuccessRate', {
      alarmDescription: `certalarm: fewer than ${Math.round(config.sms.successRateAlarmThreshold * 100)} % of SMS to +86 delivered in the last hour`,
      metric: new cloudwatch.Metric({
        namespace: 'AWS/SNS',
        metricName: 'SMSSuccessRate',
        dimensionsMap: { Country: 'CN', SMSType: 'Transactional' },
        statistic: cloudwatch.Stats.AVERAGE,
        period: Duration.hours(1),
      }),
      threshold: config.sms.successRateAlarmThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    });

    // When the month's SMS spend reaches the account quota, SNS silently stops sending: warn at 80 %.
    if (config.sms.monthlySpendLimitUsd !== undefined) {
      this.add('SmsMonthlySpend', {
        alarmDescription: `certalarm: SMS spend this month is above 80 % of the USD ${config.sms.monthlySpendLimitUsd} quota`,
        metric: new cloudwatch.Metric({
          namespace: 'AWS/SNS',
          metricName: 'SMSMonthToDateSpentUSD',
          statistic: cloudwatch.Stats.MAXIMUM,
          period: Duration.hours(1),
        }),
        threshold: config.sms.monthlySpendLimitUsd * 0.8,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }

    // Reminders still unsent when the last run inside the send window finished. EMF publishes a metric
    // under exactly the dimension sets the log line declares: the scan may write it without dimensions or
    // with the Powertools-style `service` dimension, so both series are summed and neither goes unwatched.
    const unsent = (dimensionsMap?: Record<string, string>) =>
      new cloudwatch.Metric({
        namespace: UNSENT_METRIC.namespace,
        metricName: UNSENT_METRIC.metricName,
        ...(dimensionsMap !== undefined ? { dimensionsMap } : {}),
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(15),
      });
    this.add('UnsentAtWindowClose', {
      alarmDescription: 'certalarm: due reminders were still unsent when the send window closed',
      metric: new cloudwatch.MathExpression({
        label: 'UnsentAtWindowClose',
        expression: 'FILL(plain, 0) + FILL(byService, 0)',
        usingMetrics: { plain: unsent(), byService: unsent({ service: UNSENT_METRIC.service }) },
        period: Duration.minutes(15),
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
  }

  private add(
    id: string,
    options: Pick<cloudwatch.AlarmProps, 'alarmDescription' | 'metric' | 'threshold' | 'comparisonOperator'>,
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      ...options,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
  }
}
