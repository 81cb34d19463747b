#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';
import { ConfigError } from '../lib/config';

try {
  buildApp(new App());
} catch (err) {
  if (err instanceof ConfigError) {
    // A configuration mistake is the operator's to fix: say what, without a stack trace.
    process.stderr.write(`${err.message}\nSet values with \`npx cdk deploy -c key=value\` or in cdk.json "context" (see docs/deploy.md).\n`);
    process.exit(1);
  }
  throw err;
}
