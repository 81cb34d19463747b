import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig, rawConfigFrom, type ReconcilerConfig } from './config';
import { ReconcilerStack } from './reconciler-stack';

/**
 * Builds the app from its context: validated config, the one stack, and cdk-nag's AwsSolutions
 * checks on every synth (an unacknowledged finding fails the synth).
 */
export function buildApp(app: App): { stack: ReconcilerStack; config: ReconcilerConfig } {
  const config = parseConfig(rawConfigFrom((key) => app.node.tryGetContext(key)));
  const stack = new ReconcilerStack(app, config.stackName, {
    config,
    description: 'bunq-ip-reconciler: keeps bunq API credential IP whitelists equal to the IPs declared in DynamoDB',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { stack, config };
}
