import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createKeyedTable as createShapedTable } from '../../lambdas/aws/table-shape';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { DEFAULT_RATE_LIMITS, ROUTES, startEmulator, type BunqEmulator } from '../../emulator';

export const ROOT = join(__dirname, '..', '..');
export const REGION = 'eu-west-1';

export function motoEndpoint(): string {
  return process.env.MOTO_ENDPOINT ?? inject('motoEndpoint');
}

export function awsConfig() {
  return { endpoint: motoEndpoint(), region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
}

export function motoClients(): { dynamo: DynamoDBClient; secrets: SecretsManagerClient; sqs: SQSClient } {
  const cfg = awsConfig();
  return { dynamo: new DynamoDBClient(cfg), secrets: new SecretsManagerClient(cfg), sqs: new SQSClient(cfg) };
}

export function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function createKeyedTable(dynamo: DynamoDBClient, name: string): Promise<void> {
  await createShapedTable(dynamo, name);
}

/**
 * bunq's limits with windows shrunk 20×, so spawned processes share them without waiting out 3 s
 * windows; except session-server: each CLI process keeps bunq's real client-side 1-per-30-s limit,
 * so a 429 from a shrunk emulator window (two bootstraps from one IP within 1.5 s) made that
 * process wait the full 30 s. Session-server limiting is covered by the client and emulator tests;
 * here it falls back to the scaled POST rule.
 */
export const SCALED_RATE_LIMITS = DEFAULT_RATE_LIMITS.filter((r) => r.route !== ROUTES.sessionServer).map((r) => ({ ...r, windowMs: r.windowMs / 20 }));

/** Where a test file's spawned CLI keeps its state: its own two tables and secret prefix. */
export interface CliStores {
  desiredTable: string;
  stateTable: string;
  prefix: string;
}

export function cliStores(name: string): CliStores {
  return { desiredTable: unique(`${name}-desired`), stateTable: unique(`${name}-state`), prefix: `${unique(name)}/` };
}

/**
 * What a spawned CLI runs against: a bunq emulator (scaled limits, IP whitelist on; the CLI calls
 * from 127.0.0.1), the stores' tables on moto, and the environment that names them.
 */
export async function startCliBackend(
  aws: ReturnType<typeof motoClients>,
  stores: CliStores,
): Promise<{ emulator: BunqEmulator; env: Record<string, string> }> {
  const emulator = await startEmulator({ rateLimits: SCALED_RATE_LIMITS });
  await createKeyedTable(aws.dynamo, stores.desiredTable);
  await createKeyedTable(aws.dynamo, stores.stateTable);
  const env = cliEnv({
    DESIRED_TABLE_NAME: stores.desiredTable,
    STATE_TABLE_NAME: stores.stateTable,
    SECRET_NAME_PREFIX: stores.prefix,
    BUNQ_BASE_URL: emulator.url,
  });
  return { emulator, env };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Environment for a CLI process: moto through the SDK's standard variables, nothing inherited that could reach AWS. */
export function cliEnv(extra: Record<string, string>): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'SystemRoot'];
  const env: Record<string, string> = {};
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k] as string;
  return {
    ...env,
    AWS_ENDPOINT_URL: motoEndpoint(),
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // Tests have no internet: never ask the real checkip (tests that detect point it at a local server).
    BUNQ_IP_CHECKIP_URL: 'off',
    ...extra,
  };
}

/** Runs `node bin/bunq-ip.cjs …` as an operator would, with stdin piped (so never a terminal). */
export function runCli(args: readonly string[], env: Record<string, string>, input = ''): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'bunq-ip.cjs'), ...args], {
      cwd: ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}
