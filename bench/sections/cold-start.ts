/**
 * Item 3 — cold start. Each Lambda handler is bundled the way lib/reconciler-function.ts has CDK
 * bundle it (esbuild: bundle, minify, source map, CJS, target node24, nothing external), then
 * loaded in a fresh `node` process that imports the bundle and handles one real event (moto for
 * AWS, the emulator for bunq). Side by side, the worker bundled with its bunq calls made by
 * @bunq-community/bunq-js-client@1.1.2 (installed into bench/.tmp at bench time).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { PutCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lambdas/shared/metric-names';
import { EnvName } from '../../lambdas/shared/env-names';
import { BUNDLE_SIZE_TARGETS, HANDLER_BUNDLING, HANDLER_SDK_CLIENTS } from '../../lib/handler-bundling';
import { createFifoQueue, MOTO_CREDENTIALS, REGION } from '../lib/moto';
import { median, round } from '../lib/stats';
import { bytes, fmt, formatTable } from '../lib/table';
import { scheduleEvent, SECRET_PREFIX, workerWorld } from '../lib/world-on-moto';

const ROOT = path.resolve(__dirname, '..', '..');
const TMP = path.join(ROOT, 'bench', '.tmp');
const JSCLIENT_DIR = path.join(TMP, 'jsclient');
const JSCLIENT_SPEC = '@bunq-community/bunq-js-client@1.1.2';

export interface BundleRow {
  name: string;
  handler: Variant['handler'];
  bytes: number;
  sourceMapBytes: number;
  runs: number;
  /** Medians over runs, each in a fresh process. */
  importMs: number | null;
  firstEventMs: number | null;
  /** Process start → first event handled (includes Node's own start-up). */
  totalMs: number | null;
  ok: boolean;
  note?: string;
}

export interface ColdStartResult {
  nodeOptions: string;
  rows: BundleRow[];
  /** Per handler: an entry constructing only its SDK clients and Powertools, bundled alike (bytes). */
  sdkFloor: Record<Variant['handler'], number>;
  /** Worker on bunq-js-client ÷ worker on our client, per figure (null when unavailable). */
  jsclientRatio: { bytes: number; importMs: number; totalMs: number } | null;
}

interface Variant {
  name: string;
  handler: 'fan-out' | 'stream-trigger' | 'reconcile-worker';
  jsclient: boolean;
  nodeOptions: string;
}

/** The esbuild options CDK derives from lib/reconciler-function.ts's bundling props (lib/handler-bundling.ts). */
function esbuildOptions(entry: string, outfile: string): Parameters<typeof build>[0] {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: HANDLER_BUNDLING.minify,
    sourcemap: HANDLER_BUNDLING.sourceMap,
    format: 'cjs',
    platform: 'node',
    target: HANDLER_BUNDLING.target,
    external: [...HANDLER_BUNDLING.externalModules],
    mainFields: [...HANDLER_BUNDLING.mainFields],
    alias: { ...HANDLER_BUNDLING.alias },
    absWorkingDir: ROOT,
    logLevel: 'silent',
  };
}

/** Serves `import … from '../bunq'` inside lambdas/handlers from the bunq-js-client shim. */
const jsclientBunqPlugin: Plugin = {
  name: 'bench-jsclient-bunq',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/bunq$/ }, (args) =>
      path.dirname(args.importer) === path.join(ROOT, 'lambdas', 'handlers')
        ? { path: path.join(ROOT, 'bench', 'cold-start', 'jsclient-bunq.ts') }
        : undefined,
    );
  },
};

/**
 * The SDK's fixed cost in a handler's bundle: an entry that constructs the handler's SDK clients and
 * Powertools' Logger and Metrics and does nothing else, bundled with the shipped options.
 */
export async function sdkFloorBytes(handler: Variant['handler']): Promise<number> {
  const clients = HANDLER_SDK_CLIENTS[handler];
  const contents = [
    ...clients.map(({ pkg, client }) => `import { ${client} } from '${pkg}';`),
    "import { Logger } from '@aws-lambda-powertools/logger';",
    "import { Metrics } from '@aws-lambda-powertools/metrics';",
    `export const handler = async () => [${clients.map(({ client }) => `new ${client}({})`).join(', ')}, new Logger(), new Metrics()];`,
  ].join('\n');
  const { entryPoints: _entry, outfile: _out, ...options } = esbuildOptions('', '');
  const out = await build({ ...options, stdin: { contents, resolveDir: ROOT, loader: 'js' }, write: false, sourcemap: false, outfile: 'floor.js' });
  return out.outputFiles.reduce((sum, f) => sum + f.contents.byteLength, 0);
}

/** Installs the comparison package into bench/.tmp (never into the project); null when it worked. */
export function installJsClient(): string | null {
  const pkg = path.join(JSCLIENT_DIR, 'node_modules', '@bunq-community', 'bunq-js-client', 'package.json');
  if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version === '1.1.2') return null;
  mkdirSync(JSCLIENT_DIR, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const res = spawnSync(npm, ['install', '--prefix', JSCLIENT_DIR, '--no-save', '--no-audit', '--no-fund', JSCLIENT_SPEC], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (res.status === 0 && existsSync(pkg)) return null;
  const why = (res.error?.message ?? res.stderr ?? '').split('\n').filter((l) => /err/i.test(l)).slice(0, 2).join(' ');
  return `npm install ${JSCLIENT_SPEC} failed${why ? `: ${why}` : ''}`;
}

async function bundle(v: Variant, outDir: string): Promise<{ file: string; bytes: number; mapBytes: number }> {
  const file = path.join(outDir, `${v.name}.js`);
  const options = esbuildOptions(path.join(ROOT, 'lambdas', 'handlers', `${v.handler}.ts`), file);
  await build(
    v.jsclient
      ? { ...options, plugins: [jsclientBunqPlugin], nodePaths: [path.join(JSCLIENT_DIR, 'node_modules')] }
      : options,
  );
  return { file, bytes: statSync(file).size, mapBytes: existsSync(`${file}.map`) ? statSync(`${file}.map`).size : 0 };
}

/** Runs in the fresh process: time the require, then one event, print one JSON line, exit. */
const PROBE = `'use strict';
const { performance } = require('node:perf_hooks');
const t0 = performance.now();
const mod = require(process.argv[2]);
const t1 = performance.now();
const event = JSON.parse(process.env.BENCH_EVENT);
// What the Lambda runtime hands every handler (the loggers read the request id from it).
const context = {
  callbackWaitsForEmptyEventLoop: true, functionName: 'bench', functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-central-1:123456789012:function:bench', memoryLimitInMB: '512',
  awsRequestId: 'bench-cold-start', logGroupName: '/aws/lambda/bench', logStreamName: 'bench',
  getRemainingTimeInMillis: () => 300000, done() {}, fail() {}, succeed() {},
};
Promise.resolve(mod.handler(event, context)).then((out) => {
  const t2 = performance.now();
  const failures = out && Array.isArray(out.batchItemFailures) ? out.batchItemFailures.length : 0;
  process.stdout.write('BENCH ' + JSON.stringify({ importMs: t1 - t0, firstEventMs: t2 - t1, totalMs: t2, ok: failures === 0 }) + '\\n');
  process.exit(0);
}, (err) => {
  process.stdout.write('BENCH ' + JSON.stringify({ ok: false, error: String(err && err.name) }) + '\\n');
  process.exit(0);
});
`;

interface ProbeOut {
  importMs?: number;
  firstEventMs?: number;
  totalMs?: number;
  ok: boolean;
  error?: string;
}

function probe(probeFile: string, bundleFile: string, env: NodeJS.ProcessEnv): Promise<ProbeOut> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [probeFile, bundleFile], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', () => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('BENCH '));
      resolve(line ? (JSON.parse(line.slice(6)) as ProbeOut) : { ok: false, error: 'no output' });
    });
  });
}

export async function runColdStart(endpoint: string, quick: boolean): Promise<ColdStartResult> {
  const outDir = path.join(TMP, 'cold-start');
  mkdirSync(outDir, { recursive: true });
  const probeFile = path.join(outDir, 'probe.cjs');
  writeFileSync(probeFile, PROBE);
  const deployed = '--enable-source-maps';
  const variants: Variant[] = [
    { name: 'fan-out', handler: 'fan-out', jsclient: false, nodeOptions: deployed },
    { name: 'stream-trigger', handler: 'stream-trigger', jsclient: false, nodeOptions: deployed },
    { name: 'reconcile-worker', handler: 'reconcile-worker', jsclient: false, nodeOptions: deployed },
    { name: 'reconcile-worker (no --enable-source-maps)', handler: 'reconcile-worker', jsclient: false, nodeOptions: '' },
    { name: 'reconcile-worker on bunq-js-client', handler: 'reconcile-worker', jsclient: true, nodeOptions: deployed },
  ];
  const jsclientProblem = installJsClient();

  const world = await workerWorld(endpoint);
  world.bunq.emulator.config.rateLimits = false; // cold start is not about bunq's limits
  try {
    const queueUrl = await createFifoQueue(world.aws.sqs, `bench-cold-${Date.now().toString(36)}`);
    const baseEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      [EnvName.DesiredTable]: world.desiredTable,
      [EnvName.StateTable]: world.stateTable,
      [EnvName.QueueUrl]: queueUrl,
      [EnvName.SecretPrefix]: SECRET_PREFIX,
      [EnvName.HistoryTtlDays]: '90',
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: 'WARN',
    };
    const ip = world.desiredIps[1] as string;
    const streamEvent: DynamoDBStreamEvent = {
      Records: [
        {
          eventID: '1', eventName: 'MODIFY', eventSource: 'aws:dynamodb', awsRegion: REGION,
          dynamodb: { Keys: { credential: { S: world.credential }, entry: { S: `ip#${ip}` } }, SequenceNumber: '100', StreamViewType: 'NEW_AND_OLD_IMAGES' },
        },
      ],
    };
    // Touch the item so the event describes a real edit.
    await DynamoDBDocumentClient.from(world.aws.dynamo).send(
      new PutCommand({ TableName: world.desiredTable, Item: { credential: world.credential, entry: `ip#${ip}`, ip, note: 'edited' } }),
    );
    const events: Record<Variant['handler'], unknown> = {
      'fan-out': { scheduledTime: '2026-01-01T00:05:00Z' },
      'stream-trigger': streamEvent,
      'reconcile-worker': scheduleEvent(world.credential, 1),
    };

    const built = new Map<string, { file: string; bytes: number; mapBytes: number }>();
    const rows: BundleRow[] = [];
    for (const v of variants) {
      if (v.jsclient && jsclientProblem !== null) continue;
      const same = [...built.entries()].find(([name]) => variants.find((x) => x.name === name)?.handler === v.handler && !v.jsclient && !variants.find((x) => x.name === name)?.jsclient);
      built.set(v.name, same ? same[1] : await bundle(v, outDir));
    }
    const runs = quick ? 3 : 7;
    const samples = new Map<string, ProbeOut[]>();
    // Interleave the variants so machine noise spreads over all of them alike.
    for (let r = 0; r < runs; r++) {
      for (const v of variants) {
        const b = built.get(v.name);
        if (b === undefined) continue;
        const env = { ...baseEnv, NODE_OPTIONS: v.nodeOptions, BENCH_EVENT: JSON.stringify(events[v.handler]) };
        samples.set(v.name, [...(samples.get(v.name) ?? []), await probe(probeFile, b.file, env)]);
      }
    }
    for (const v of variants) {
      const b = built.get(v.name);
      if (b === undefined) {
        rows.push({
          name: v.name, handler: v.handler, bytes: 0, sourceMapBytes: 0, runs: 0, importMs: null, firstEventMs: null, totalMs: null,
          ok: false, note: `unavailable: ${jsclientProblem ?? 'not built'}`,
        });
        continue;
      }
      const s = samples.get(v.name) ?? [];
      const good = s.filter((x) => x.ok && x.importMs !== undefined);
      const pick = (f: (x: ProbeOut) => number | undefined): number | null =>
        good.length === 0 ? null : round(median(good.map((x) => f(x) ?? 0)), 1);
      rows.push({
        name: v.name,
        handler: v.handler,
        bytes: b.bytes,
        sourceMapBytes: b.mapBytes,
        runs: s.length,
        importMs: pick((x) => x.importMs),
        firstEventMs: pick((x) => x.firstEventMs),
        totalMs: pick((x) => x.totalMs),
        ok: good.length === s.length && s.length > 0,
        ...(good.length < s.length ? { note: `${s.length - good.length} of ${s.length} runs failed: ${s.find((x) => !x.ok)?.error ?? 'handler reported failures'}` } : {}),
      });
    }
    const ours = rows.find((r) => r.name === 'reconcile-worker');
    const theirs = rows.find((r) => r.name === 'reconcile-worker on bunq-js-client');
    const jsclientRatio =
      ours && theirs && theirs.importMs !== null && ours.importMs !== null && theirs.totalMs !== null && ours.totalMs !== null
        ? { bytes: round(theirs.bytes / ours.bytes, 2), importMs: round(theirs.importMs / ours.importMs, 2), totalMs: round(theirs.totalMs / ours.totalMs, 2) }
        : null;
    const handlers = Object.keys(HANDLER_SDK_CLIENTS) as Array<Variant['handler']>;
    const sdkFloor = Object.fromEntries(await Promise.all(handlers.map(async (h) => [h, await sdkFloorBytes(h)] as const))) as Record<Variant['handler'], number>;
    return { nodeOptions: deployed, rows, sdkFloor, jsclientRatio };
  } finally {
    await world.close();
  }
}

/** The handler's bundle-size target (lib/handler-bundling.ts), flagged when the bundle is over it. */
function targetCell(r: BundleRow): string {
  if (r.bytes === 0 || r.name.includes('bunq-js-client')) return '–';
  const target = BUNDLE_SIZE_TARGETS[r.handler as keyof typeof BUNDLE_SIZE_TARGETS];
  return r.bytes <= target ? `≤ ${bytes(target)} ok` : `≤ ${bytes(target)} OVER by ${bytes(r.bytes - target)}`;
}

export function formatColdStart(result: ColdStartResult): string[] {
  const lines = formatTable(
    [
      { header: 'bundle' },
      { header: 'size (minified)' },
      { header: 'target' },
      { header: 'SDK floor' },
      { header: 'source map' },
      { header: 'runs' },
      { header: 'import (ms)' },
      { header: 'first event (ms)' },
      { header: 'process start → handled (ms)' },
      { header: 'ok' },
    ],
    result.rows.map((r) => [
      r.name,
      r.bytes > 0 ? bytes(r.bytes) : '–',
      targetCell(r),
      r.name.includes('bunq-js-client') ? '–' : bytes(result.sdkFloor[r.handler]),
      r.sourceMapBytes > 0 ? bytes(r.sourceMapBytes) : '–',
      r.runs,
      fmt(r.importMs, 1),
      fmt(r.firstEventMs, 1),
      fmt(r.totalMs, 1),
      r.note ?? (r.ok ? 'yes' : 'NO'),
    ]),
  );
  lines.push('SDK floor: an entry constructing only the handler\'s SDK clients and Powertools Logger/Metrics, bundled alike.');
  if (result.jsclientRatio) {
    const q = result.jsclientRatio;
    lines.push(`bunq-js-client worker ÷ our worker: size ×${q.bytes}, import ×${q.importMs}, start → handled ×${q.totalMs}`);
  }
  return lines;
}
