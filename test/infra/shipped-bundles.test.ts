import { execFile } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lambdas/shared/clock';
import { BUNDLE_SIZE_TARGETS } from '../../lib/handler-bundling';
import {
  activeIps,
  addCredential,
  createWorld,
  handlerEnvironment,
  OUR_IP,
  putConfig,
  putDesiredIp,
  receive,
  sqsEvent,
  StreamReader,
  streamEvent,
  type World,
} from '../integration/harness';
import { logicalId, synthesize, type Synthesized } from './synth';

/**
 * The handler bundles `cdk synth` writes, run as Lambda would run them: a fresh `node` process that
 * requires index.js with nothing but the stack's environment and the execution role's credentials
 * in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. The bundles carry the SDK's environment credential
 * provider only (lib/handler-bundling.ts `alias`), so this is the test that the swap is sound: the
 * shipped fan-out, stream trigger and worker reach DynamoDB, SQS and Secrets Manager (moto) and
 * bunq (the emulator) with it, and fail fast and by name without it.
 */

type HandlerName = keyof typeof BUNDLE_SIZE_TARGETS;
const FUNCTION_IDS: Record<HandlerName, string> = { 'fan-out': 'FanOut', 'stream-trigger': 'StreamTrigger', 'reconcile-worker': 'ReconcileWorker' };

const run = promisify(execFile);
let synth: Synthesized;
let world: World;
let probeFile: string;

// Requires the bundle, hands it one event and a Lambda context, prints the result on one line.
const PROBE = `'use strict';
const mod = require(process.argv[2]);
const event = JSON.parse(require('node:fs').readFileSync(process.argv[3], 'utf8'));
const context = {
  callbackWaitsForEmptyEventLoop: true, functionName: 'shipped', functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shipped', memoryLimitInMB: '512',
  awsRequestId: 'shipped-bundle', logGroupName: '/aws/lambda/shipped', logStreamName: 'shipped',
  getRemainingTimeInMillis: () => 120000, done() {}, fail() {}, succeed() {},
};
Promise.resolve(mod.handler(event, context)).then(
  (value) => console.log('RESULT ' + JSON.stringify({ ok: true, value })),
  (err) => console.log('RESULT ' + JSON.stringify({ ok: false, name: err && err.name, message: String(err && err.message) })),
);
`;

interface ProbeResult {
  ok: boolean;
  value?: unknown;
  name?: string;
  message?: string;
}

function bundleOf(handler: HandlerName): string {
  const id = logicalId(synth.template, 'AWS::Lambda::Function', FUNCTION_IDS[handler]);
  const fn = synth.template.toJSON().Resources[id] as { Properties: { Code: { S3Key: string } } };
  return join(synth.outdir, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`, 'index.js');
}

async function invoke(handler: HandlerName, event: unknown, env: Record<string, string>): Promise<{ result: ProbeResult; stdout: string }> {
  const eventFile = join(synth.outdir, `event-${handler}-${Date.now()}.json`);
  writeFileSync(eventFile, JSON.stringify(event));
  // A clean environment (no inherited AWS_* or profile), as in Lambda.
  const { stdout } = await run(process.execPath, [probeFile, bundleOf(handler), eventFile], {
    env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    timeout: 60_000,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (line === undefined) throw new Error(`no result from the ${handler} bundle:\n${stdout}`);
  return { result: JSON.parse(line.slice('RESULT '.length)) as ProbeResult, stdout };
}

function lambdaEnv(): Record<string, string> {
  return { ...handlerEnvironment(world), HISTORY_TTL_DAYS: '7', EGRESS_IPS: OUR_IP };
}

beforeAll(async () => {
  synth = synthesize({});
  probeFile = join(synth.outdir, 'probe.cjs');
  writeFileSync(probeFile, PROBE);
  world = await createWorld({ clock: systemClock, visibilityTimeoutSeconds: 30 });
});

afterAll(async () => {
  await world.close();
  rmSync(synth.outdir, { recursive: true, force: true });
});

describe('the shipped handler bundles', () => {
  it('carry the environment credential provider instead of the Node chain, and stay within their size targets', () => {
    for (const handler of Object.keys(FUNCTION_IDS) as HandlerName[]) {
      const js = readFileSync(bundleOf(handler), 'utf8');
      // Log strings of the chain's ini/SSO links: present in every bundle that links the full chain.
      expect(js, handler).not.toContain('credential-provider-ini');
      expect(js, handler).not.toContain('sso_session');
      expect(statSync(bundleOf(handler)).size, handler).toBeLessThanOrEqual(BUNDLE_SIZE_TARGETS[handler]);
    }
  });

  it('run without SnapStart, whose credentials would come from the container endpoint the bundles no longer carry', () => {
    const fns = Object.values(synth.template.findResources('AWS::Lambda::Function')) as Array<{ Properties: Record<string, unknown> }>;
    expect(fns).toHaveLength(3);
    for (const fn of fns) expect(fn.Properties.SnapStart).toBeUndefined();
  });

  it('stream trigger → worker → fan-out converge a credential through the bundles, on the role credentials from the environment', async () => {
    const cred = await addCredential(world, 'shipped');
    await putConfig(world, cred);
    await putDesiredIp(world, cred.name, '203.0.113.81');

    const records = await new StreamReader(world, world.streamArn).read();
    const stream = await invoke('stream-trigger', streamEvent(records), lambdaEnv());
    expect(stream.result).toEqual({ ok: true, value: { batchItemFailures: [] } });
    const messages = await receive(world);
    expect(messages).toHaveLength(1);

    const worker = await invoke('reconcile-worker', sqsEvent(messages), lambdaEnv());
    expect(worker.result).toEqual({ ok: true, value: { batchItemFailures: [] } });
    expect(activeIps(world, cred)).toEqual(expect.arrayContaining(['203.0.113.81', OUR_IP]));

    const fanOut = await invoke('fan-out', { scheduledTime: '2026-12-02T05:00:00Z' }, lambdaEnv());
    expect(fanOut.result.ok).toBe(true);
    expect(fanOut.result.value).toMatchObject({ skipped: 0 });
    expect((fanOut.result.value as { enqueued: number }).enqueued).toBeGreaterThanOrEqual(1);
  });

  it('without credentials in the environment, fail at once with the provider\'s error (no instance-metadata waits)', async () => {
    const env = lambdaEnv();
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    const fanOut = await invoke('fan-out', { scheduledTime: '2026-12-02T05:05:00Z' }, env);
    expect(fanOut.result).toMatchObject({ ok: false, name: 'CredentialsProviderError' });
    expect(fanOut.result.message).toMatch(/environment variable credentials/);
  });
});
