import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CertalarmStack } from '../lib/certalarm-stack.js';
import { loadDeploymentConfig, stageFromContext } from '../lib/config.js';

// The CDK app (cdk.json "app"). Pick the stage with `-c env=prod` (or `-c stage=prod`); default dev.
const app = new App();
const stage = stageFromContext((key) => app.node.tryGetContext(key));
const config = loadDeploymentConfig(stage);

new CertalarmStack(app, `Certalarm-${config.stage}`, {
  config,
  description: `certalarm (${config.county}): certificate expiry reminders by SMS (${config.stage})`,
  env: {
    ...(config.account !== undefined ? { account: config.account } : {}),
    ...(config.region !== undefined ? { region: config.region } : {}),
  },
  terminationProtection: config.production,
});

// Every synth is checked against the AWS Solutions rules. cdk-nag 3 is a CDK validation plugin
// (it replaced the Aspect of cdk-nag 2): an unacknowledged finding interrupts synthesis.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
