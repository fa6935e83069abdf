import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { synthStack } from './synth.js';

/** Findings as `rule @ construct path`, so a failure names what to fix. */
function findings(stack: Stack): string[] {
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} @ ${r.constructPath}: ${v.description}`));
}

// Synthesizing five functions and checking every resource takes 15–40 s on a shared 2-core machine.
const NAG_TIMEOUT_MS = 120_000;

describe('Checks: AwsSolutions (cdk-nag)', { timeout: NAG_TIMEOUT_MS }, () => {
  it.each(['dev', 'prod'] as const)('finds no unacknowledged error or warning in the %s stack', (stage) => {
    // Prepare
    const { stack } = synthStack(stage);

    // Act
    const open = findings(stack);

    // Assess
    expect(open).toEqual([]);
    expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });

  it('lets the app synthesize with the checks registered, as bin/app.ts does', () => {
    // Prepare
    const { app } = synthStack('prod');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

    // Act
    const synth = () => app.synth();

    // Assess
    expect(synth).not.toThrow();
  });

  it('does report a finding that nobody acknowledged (the check is live)', () => {
    // Prepare
    const stack = new Stack(new App(), 'Probe');
    new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });

    // Act
    const open = findings(stack);

    // Assess
    expect(open.some((f) => f.includes('AwsSolutions-SQS4'))).toBe(true);
  });
});
