/**
 * `bunq-ip local up`: a local world for the CLI. Creates the two tables (the shape of
 * lambdas/aws/table-shape.ts, as the stack has them) on a local AWS endpoint such as moto, and with
 * `--emulator` runs the bunq emulator with one sandbox user until Ctrl-C. Idempotent: tables that
 * exist with the right keys are left as they are. It refuses any endpoint that is not on this
 * machine, so it can never create tables in a real AWS account (the stack does that).
 */
import { DescribeTableCommand, DynamoDBClient, type TableDescription } from '@aws-sdk/client-dynamodb';
import { startEmulator } from '../../emulator';
import { createKeyedTable, PARTITION_KEY, SORT_KEY } from '../../lambdas/aws/table-shape';
import { EnvName } from '../../lambdas/shared/env-names';
import { flag, str, type CommandDef } from '../args';
import { printJson, type CommandContext } from '../context';
import { CliError, ExitCode, usageError } from '../errors';
import { BUNQ_BASE_URL_ENV } from '../settings';

export const LOCAL_DESIRED_TABLE = 'DesiredIps';
export const LOCAL_STATE_TABLE = 'ReconcileState';
export const LOCAL_REGION = 'eu-west-1';
export const DEFAULT_EMULATOR_PORT = 8080;

type TableOutcome = 'created' | 'already there';

function isLocalEndpoint(url: string): boolean {
  try {
    const u = new URL(url);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    return (u.protocol === 'http:' || u.protocol === 'https:') && (host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host));
  } catch {
    return false;
  }
}

function hasSharedKeys(t: TableDescription): boolean {
  const keys = (t.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).sort();
  return JSON.stringify(keys) === JSON.stringify([`${PARTITION_KEY}:HASH`, `${SORT_KEY}:RANGE`]);
}

async function ensureTable(dynamo: DynamoDBClient, name: string, options: { stream?: boolean; ttlAttribute: string }): Promise<TableOutcome> {
  try {
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: name }));
    if (Table === undefined || !hasSharedKeys(Table)) {
      throw new CliError(`table ${name} exists but its keys are not ${PARTITION_KEY} (partition) + ${SORT_KEY} (sort); pick another name with --desired-table / --state-table`);
    }
    return 'already there';
  } catch (err) {
    if (!(err instanceof Error && err.name === 'ResourceNotFoundException')) throw err;
  }
  await createKeyedTable(dynamo, name, options);
  return 'created';
}

function portOption(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_EMULATOR_PORT;
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw usageError(`--port must be a port number (0 picks a free one), got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** Resolves when the process is asked to stop (Ctrl-C, or SIGTERM from a supervisor). */
function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export const localUpCommand: CommandDef<CommandContext> = {
  path: ['local', 'up'],
  summary: 'set up a local world: the two tables on a local AWS endpoint (moto), and the bunq emulator with --emulator',
  positionals: [],
  options: {
    emulator: { type: 'boolean', description: 'also run the bunq emulator with one sandbox user, until Ctrl-C' },
    port: { type: 'string', valueName: 'N', description: `the emulator's port (default ${DEFAULT_EMULATOR_PORT}; 0 picks a free one)` },
  },
  details:
    'The endpoint comes from --endpoint-url or $AWS_ENDPOINT_URL and must be on this machine, e.g. moto:\n' +
    '  python3 -m moto.server -p 5000 &   (pip install \'moto[server]\')\n' +
    '  bunq-ip local up --endpoint-url http://127.0.0.1:5000 --emulator\n' +
    `Tables: --desired-table / --state-table, else $${EnvName.DesiredTable} / $${EnvName.StateTable}, else ${LOCAL_DESIRED_TABLE} / ${LOCAL_STATE_TABLE}.\n` +
    'Safe to re-run: existing tables are kept. It prints the environment the other commands need.',
  async run(ctx, { values }) {
    const endpoint = ctx.settings.endpointUrl ?? ctx.io.env.AWS_ENDPOINT_URL?.trim();
    if (endpoint === undefined || endpoint === '') {
      throw usageError('no local endpoint: pass --endpoint-url http://127.0.0.1:5000 (moto) or set AWS_ENDPOINT_URL', 'the stack creates the tables in AWS');
    }
    if (!isLocalEndpoint(endpoint)) {
      throw usageError(`refusing ${JSON.stringify(endpoint)}: local up only creates tables on this machine (localhost, 127.x, ::1)`, 'deploy the stack for AWS: docs/deploy.md');
    }
    const emulatorWanted = flag(values, 'emulator');
    const port = portOption(str(values, 'port'));
    if (!emulatorWanted && str(values, 'port') !== undefined) throw usageError('--port needs --emulator');

    const region = ctx.settings.region ?? ctx.io.env.AWS_REGION ?? LOCAL_REGION;
    const envCredentials = ctx.io.env.AWS_ACCESS_KEY_ID !== undefined && ctx.io.env.AWS_SECRET_ACCESS_KEY !== undefined;
    // A local endpoint accepts any credentials; a new user has none, so the world brings its own.
    const dynamo = new DynamoDBClient({
      endpoint,
      region,
      ...(envCredentials ? {} : { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    });
    const desiredTable = ctx.settings.desiredTable ?? LOCAL_DESIRED_TABLE;
    const stateTable = ctx.settings.stateTable ?? LOCAL_STATE_TABLE;
    if (desiredTable === stateTable) throw usageError('the DesiredIps and ReconcileState tables must differ');
    const tables = [
      { name: desiredTable, role: 'DesiredIps', outcome: await ensureTable(dynamo, desiredTable, { stream: true, ttlAttribute: 'expiresAt' }) },
      { name: stateTable, role: 'ReconcileState', outcome: await ensureTable(dynamo, stateTable, { ttlAttribute: 'ttl' }) },
    ];
    dynamo.destroy();

    const exports: Record<string, string> = {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      ...(envCredentials ? {} : { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' }),
      [EnvName.DesiredTable]: desiredTable,
      [EnvName.StateTable]: stateTable,
    };

    const emulator = emulatorWanted ? await startEmulator({ port }) : undefined;
    try {
      const user = emulator?.createUser({ displayName: 'Local Person' });
      if (emulator !== undefined) exports[BUNQ_BASE_URL_ENV] = emulator.url;
      if (ctx.json) {
        printJson(ctx, {
          endpoint,
          tables,
          env: exports,
          // The throwaway key of an in-memory emulator, printed on purpose (as `npm run emulator` does);
          // under an `apiKey` name the JSON redactor would blank it.
          ...(emulator !== undefined && user !== undefined
            ? { emulator: { url: emulator.url, userId: user.userId, credentialId: user.credentialId, sandboxUserKey: user.apiKey } }
            : {}),
        });
      } else {
        const lines = [ctx.style.bold(`Local world on ${endpoint} (region ${region}):`)];
        for (const t of tables) lines.push(`  table ${t.name}${t.name === t.role ? '' : ` (${t.role})`}: ${t.outcome}`);
        if (emulator !== undefined && user !== undefined) {
          lines.push(`  bunq emulator: ${emulator.url} (sandbox user ${user.userId}, CredentialPasswordIp ${user.credentialId})`, `  sandbox API key: ${user.apiKey}`);
        }
        lines.push(
          '',
          'In another shell:',
          `  export ${Object.entries(exports).map(([k, v]) => `${k}=${v}`).join(' ')}`,
          emulator !== undefined && user !== undefined
            ? '  npx bunq-ip bootstrap local --environment sandbox   (paste the sandbox API key above at the prompt)'
            : '  npx bunq-ip bootstrap <credential> --environment sandbox   (with BUNQ_BASE_URL pointing at an emulator, or --emulator here)',
        );
        if (emulator !== undefined) lines.push('', 'The emulator runs until Ctrl-C (its state is in memory).');
        ctx.io.out(lines.join('\n'));
      }
      if (emulator !== undefined) await untilStopped();
    } finally {
      await emulator?.close();
    }
    return ExitCode.Ok;
  },
};
