import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../lib/app';
import type { ReconcilerConfig } from '../../lib/config';
import type { ReconcilerStack } from '../../lib/reconciler-stack';

export interface Synthesized {
  app: App;
  stack: ReconcilerStack;
  config: ReconcilerConfig;
  template: Template;
  outdir: string;
}

/**
 * Builds the real app (config parsing, stack, cdk-nag plugin) from context values and synthesizes it
 * once, bundling the handlers with the local esbuild unless told not to. Call it from beforeAll.
 */
export function synthesize(context: Record<string, string>, options: { bundle: boolean } = { bundle: true }): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'bunq-ip-infra-'));
  // An empty bundling-stacks list makes NodejsFunction skip esbuild: variants that only differ in
  // configuration need not pay for bundling the handlers again.
  const app = new App({ context: options.bundle ? context : { ...context, 'aws:cdk:bundling-stacks': [] }, outdir });
  const { stack, config } = buildApp(app);
  const template = Template.fromStack(stack);
  return { app, stack, config, template, outdir };
}

/** A `{ Ref }` / `{ Fn::GetAtt }` to the only resource of `type` whose logical id starts with `prefix`. */
export function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} starting with ${prefix}, found ${ids.join(', ') || 'none'}`);
  return ids[0] as string;
}
