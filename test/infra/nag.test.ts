import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';

// The checks themselves, on a two-resource stack (no bundling): they must catch a wildcard, honour an
// acknowledgement written the way lib/ writes them, and fail the synth — so "zero violations" in
// stack.test.ts means something.
const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

function wildcardStack(acknowledge: boolean): { app: App; stack: Stack } {
  const outdir = mkdtempSync(join(tmpdir(), 'bunq-ip-nag-'));
  outdirs.push(outdir);
  const app = new App({ outdir });
  const stack = new Stack(app, 'NagControl');
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
  if (acknowledge) {
    Validations.of(role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'control case for the test' });
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

describe('cdk-nag AwsSolutions checks', () => {
  it('report an unacknowledged wildcard', () => {
    const { stack } = wildcardStack(false);
    const names = new AwsSolutionsChecks().validateScope(stack).violations.map((v) => v.ruleName);
    expect(names).toContain('AwsSolutions-IAM5[Resource::*]');
  });

  it('accept the finding once acknowledged with an unprefixed id', () => {
    const { stack } = wildcardStack(true);
    const names = new AwsSolutionsChecks().validateScope(stack).violations.map((v) => v.ruleName);
    expect(names).not.toContain('AwsSolutions-IAM5[Resource::*]');
  });

  it('fail the synth when registered on the app and a finding is unacknowledged', () => {
    expect(() => wildcardStack(false).app.synth()).toThrow(/AwsSolutions-IAM5\[Resource::\*\]/);
    expect(() => wildcardStack(true).app.synth()).not.toThrow();
  });
});
