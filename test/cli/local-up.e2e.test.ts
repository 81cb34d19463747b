import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { createKeyedTable, motoClients, motoEndpoint, ROOT, runCli, unique } from './support';

// `bunq-ip local up` as a new user runs it: nothing in the environment but PATH and HOME (no AWS
// credentials, region or endpoint), moto as the local endpoint. Then the rest of the README's local
// path with exactly the environment the command printed: bootstrap against its emulator, plan.

const aws = motoClients();
const children: ChildProcessWithoutNullStreams[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
});

function bareEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  for (const k of ['PATH', 'HOME', 'TMPDIR']) if (process.env[k] !== undefined) env[k] = process.env[k] as string;
  return { ...env, ...extra };
}

/** Starts a long-running CLI process and resolves with it once its stdout holds a whole JSON document. */
function startJson(args: string[], env: Record<string, string>): Promise<{ child: ChildProcessWithoutNullStreams; json: Record<string, unknown>; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'bunq-ip.cjs'), ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      try {
        resolve({ child, json: JSON.parse(out) as Record<string, unknown>, exited });
      } catch {
        // not complete yet
      }
    });
    void exited.then((code) => reject(new Error(`local up exited ${code} before printing its world: ${err}`)));
  });
}

describe('bunq-ip local up (processes against moto)', () => {
  const desired = unique('local-desired');
  const state = unique('local-state');
  const names = ['--desired-table', desired, '--state-table', state];

  it('creates both tables in the stack\'s shape with no AWS configuration at all, and is idempotent', async () => {
    const first = await runCli(['local', 'up', '--endpoint-url', motoEndpoint(), ...names], bareEnv());
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`table ${desired} (DesiredIps): created`);
    expect(first.stdout).toContain(`table ${state} (ReconcileState): created`);
    expect(first.stdout).toContain(`export AWS_ENDPOINT_URL=${motoEndpoint()} AWS_REGION=eu-west-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local DESIRED_TABLE_NAME=${desired} STATE_TABLE_NAME=${state}`);

    const table = (await aws.dynamo.send(new DescribeTableCommand({ TableName: desired }))).Table;
    expect(table?.KeySchema).toEqual([{ AttributeName: 'credential', KeyType: 'HASH' }, { AttributeName: 'entry', KeyType: 'RANGE' }]);
    expect(table?.StreamSpecification).toMatchObject({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    const ttl = async (name: string): Promise<string | undefined> =>
      (await aws.dynamo.send(new DescribeTimeToLiveCommand({ TableName: name }))).TimeToLiveDescription?.AttributeName;
    expect(await ttl(desired)).toBe('expiresAt');
    expect(await ttl(state)).toBe('ttl');

    const again = await runCli(['local', 'up', '--json', ...names], bareEnv({ AWS_ENDPOINT_URL: motoEndpoint() }));
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      tables: [{ name: desired, outcome: 'already there' }, { name: state, outcome: 'already there' }],
      env: { DESIRED_TABLE_NAME: desired, STATE_TABLE_NAME: state },
    });
  });

  it('refuses a remote endpoint, no endpoint, and a same-named table of another shape', async () => {
    const odd = unique('local-odd');
    await aws.dynamo.send(new CreateTableCommand({
      TableName: odd,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    }));
    const [remote, none, wrongShape, portAlone] = await Promise.all([
      runCli(['local', 'up', '--endpoint-url', 'https://dynamodb.eu-west-1.amazonaws.com'], bareEnv()),
      runCli(['local', 'up'], bareEnv()),
      runCli(['local', 'up', '--endpoint-url', motoEndpoint(), '--desired-table', odd, '--state-table', unique('local-s')], bareEnv()),
      runCli(['local', 'up', '--endpoint-url', motoEndpoint(), '--port', '9000'], bareEnv()),
    ]);
    expect(remote.code).toBe(64);
    expect(remote.stderr).toMatch(/refusing "https:\/\/dynamodb\.eu-west-1\.amazonaws\.com": local up only creates tables on this machine/);
    expect(none.code).toBe(64);
    expect(none.stderr).toMatch(/no local endpoint/);
    expect(wrongShape.code).toBe(1);
    expect(wrongShape.stderr).toMatch(new RegExp(`table ${odd} exists but its keys are not credential \\(partition\\) \\+ entry \\(sort\\)`));
    expect(portAlone.code).toBe(64);
  });

  it('--emulator: the README\'s local path works with exactly the environment it printed', async () => {
    await createKeyedTable(aws.dynamo, unique('unrelated')); // other tables on the endpoint do not matter
    const { child, json, exited } = await startJson(['local', 'up', '--emulator', '--port', '0', '--json', '--endpoint-url', motoEndpoint(), ...names], bareEnv());
    const world = json as { env: Record<string, string>; emulator: { url: string; sandboxUserKey: string; credentialId: number } };
    expect(world.env.BUNQ_BASE_URL).toBe(world.emulator.url);
    expect(world.emulator.sandboxUserKey).toMatch(/^sandbox_/);

    const env = bareEnv(world.env);
    const bootstrap = await runCli(['bootstrap', 'local', '--environment', 'sandbox'], env, `${world.emulator.sandboxUserKey}\n`);
    expect(bootstrap.stderr).toBe('');
    expect(bootstrap.code).toBe(0);
    expect(bootstrap.stdout).toContain(`CredentialPasswordIp ${world.emulator.credentialId}`);
    const plan = await runCli(['plan', 'local', '--json'], env);
    expect([0, 2]).toContain(plan.code);
    expect(JSON.parse(plan.stdout)).toMatchObject({ credential: 'local', plan: { mode: 'observe' } });

    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 60_000);
});
