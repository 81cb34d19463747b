import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BunqEmulator } from '../../emulator';
import { cliStores, motoClients, runCli, startCliBackend, unique, type RunResult } from './support';

// The CLI as an operator runs it: `node bin/bunq-ip.cjs …` in its own process, against moto (via
// AWS_ENDPOINT_URL) and the bunq emulator (real HTTP, IP whitelist enforced: the CLI calls from
// 127.0.0.1, which bootstrap's device registration binds). bunq's classic rate limits apply with
// windows scaled down 20×, so the spawned processes share them without waiting out 3 s windows.

const aws = motoClients();
const stores = cliStores('cli');
const { desiredTable, prefix } = stores;
let emu: BunqEmulator;
let user: { userId: number; apiKey: string; credentialId: number };
let env: Record<string, string>;
const outputs: RunResult[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'bunq-ip-cli-'));

async function cli(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  const result = await runCli(args, { ...env, ...options.env }, options.input ?? '');
  outputs.push(result);
  return result;
}

function active(): string[] {
  return emu.listIpEntries(user.credentialId).filter((e) => e.status === 'ACTIVE').map((e) => e.ip).sort();
}

beforeAll(async () => {
  ({ emulator: emu, env } = await startCliBackend(aws, stores));
  user = emu.createUser({ displayName: 'CLI test' });
});

afterAll(async () => {
  await emu?.close();
});

describe('bunq-ip CLI (processes against moto and the bunq emulator)', () => {
  it('shows help and refuses bad command lines with one line and exit 64', async () => {
    const [help, addHelp, keyFlag, cidr, missing, unknown, duration, star, noTable] = await Promise.all([
      cli(['--help']),
      cli(['desired', 'add', '--help']),
      cli(['bootstrap', 'prod', '--environment', 'sandbox', '--api-key', user.apiKey]),
      cli(['desired', 'add', 'prod', '10.0.0.0/24']),
      cli(['plan']),
      cli(['frobnicate']),
      cli(['desired', 'add', 'prod', '203.0.113.5', '--for', '8 hours']),
      cli(['bootstrap', 'prod', '--environment', 'sandbox', '--permitted-ip', '*'], { input: user.apiKey }),
      cli(['status', 'prod'], { env: { DESIRED_TABLE_NAME: '', STATE_TABLE_NAME: '' } }),
    ]);
    expect(help.code).toBe(0);
    for (const c of ['bootstrap', 'desired add', 'desired import', 'plan', 'apply', 'status', 'history']) expect(help.stdout).toContain(c);
    expect(addHelp.code).toBe(0);
    expect(addHelp.stdout).toMatch(/--for DURATION/);
    expect(addHelp.stdout).toMatch(/--json/);

    expect(keyFlag.code).toBe(64);
    expect(keyFlag.stderr).toMatch(/--api-key is refused/);
    expect(cidr.code).toBe(64);
    expect(cidr.stderr.trim()).toBe('error: refused "10.0.0.0/24": CIDR notation is not accepted (not even /32): give one plain IPv4 address');
    expect(missing.code).toBe(64);
    expect(missing.stderr).toMatch(/missing <credential>/);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    expect(duration.code).toBe(64);
    expect(duration.stderr).toMatch(/--for "8 hours" is not a duration/);
    expect(star.code).toBe(64);
    expect(star.stderr).toMatch(/--allow-all-ips/);
    expect(noTable.code).toBe(64);
    expect(noTable.stderr).toMatch(/STATE_TABLE_NAME/);
    for (const r of [cidr, missing, unknown, duration, star, noTable, keyFlag]) {
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
  });

  it('bootstrap onboards a key from stdin, writes secret and config, and is safe to re-run', async () => {
    const first = await cli(['bootstrap', 'prod', '--environment', 'sandbox'], { input: `${user.apiKey}\n` });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Credential "prod" is onboarded \(sandbox\)/);
    expect(first.stdout).toContain(`CredentialPasswordIp ${user.credentialId}`);
    expect(first.stdout).toMatch(/whitelist at bunq now: 127\.0\.0\.1 ACTIVE/);
    // The IP bunq bound at registration (the one this key calls from) is declared and protected.
    expect(first.stdout).toMatch(/protected IPs: 127\.0\.0\.1\n/);
    expect(first.stdout).toMatch(/note: declared desired and protected: 127\.0\.0\.1 \(bound at device registration/);

    const secret = await aws.secrets.send(new GetSecretValueCommand({ SecretId: `${prefix}prod` }));
    const stored = JSON.parse(secret.SecretString ?? '{}') as Record<string, unknown>;
    expect(stored.apiKey).toBe(user.apiKey);
    expect(stored.userId).toBe(user.userId);
    expect(stored.session).not.toBeNull();
    const config = await aws.dynamo.send(
      new GetItemCommand({ TableName: desiredTable, Key: { credential: { S: 'prod' }, entry: { S: 'config' } } }),
    );
    expect(config.Item?.mode?.S).toBe('observe');
    expect(config.Item?.credentialPasswordIpId?.N).toBe(String(user.credentialId));
    expect(config.Item?.secretName?.S).toBe(`${prefix}prod`);

    // Re-run with the key from the environment: the installation is reused, policy edits apply.
    const again = await cli(
      ['bootstrap', 'prod', '--environment', 'sandbox', '--mode', 'enforce', '--protected-ip', '127.0.0.1', '--json'],
      { env: { BUNQ_API_KEY: user.apiKey } },
    );
    expect(again.code).toBe(0);
    const result = JSON.parse(again.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ reusedContext: true, secretOutcome: 'unchanged', config: 'updated', userId: user.userId });
    // The first run already declared the bound IP; a protected IP is always desired too.
    expect(result).toMatchObject({ declaredProtected: [], protectedIps: ['127.0.0.1'], owner: { outcome: 'already-owner' } });
    const declared = await aws.dynamo.send(
      new GetItemCommand({ TableName: desiredTable, Key: { credential: { S: 'prod' }, entry: { S: 'ip#127.0.0.1' } } }),
    );
    expect(declared.Item?.ip?.S).toBe('127.0.0.1');
    expect(emu.requests.filter((r) => r.method === 'POST' && r.route === '/v1/installation')).toHaveLength(1);
    expect(emu.requests.filter((r) => r.route === '/v1/device-server')).toHaveLength(1);

    const wrongEnv = await cli(['bootstrap', 'prod', '--environment', 'production'], { input: user.apiKey });
    expect(wrongEnv.code).toBe(64);
    expect(wrongEnv.stderr).toMatch(/sandbox API key/);
  });

  it('bootstrap asks which credential when the user has several, and takes --credential-id', async () => {
    const second = emu.createApiKey(user.userId);
    const third = emu.createApiKey(user.userId);
    // The second key registers a device of its own first, so its user lists three credentials.
    const ambiguous = await cli(['bootstrap', 'ops', '--environment', 'sandbox'], { input: second.apiKey });
    expect(ambiguous.code).toBe(64);
    expect(ambiguous.stderr).toMatch(/has 3 CredentialPasswordIps; choose one with --credential-id/);
    expect(ambiguous.stderr).toContain(String(third.credentialId));
    const chosen = await cli(['bootstrap', 'ops', '--environment', 'sandbox', '--credential-id', String(second.credentialId), '--json'], {
      input: second.apiKey,
    });
    expect(chosen.code).toBe(0);
    expect(JSON.parse(chosen.stdout)).toMatchObject({ credentialPasswordIpId: second.credentialId, reusedContext: true });
    // The refused first run stored its context, so the second registered nothing new at bunq.
    expect(emu.requests.filter((r) => r.route === '/v1/device-server')).toHaveLength(2);
  });

  it('desired add/list/remove/import validate, report the reason, and import all-or-nothing', async () => {
    const office = await cli(['desired', 'add', 'prod', '203.0.113.10', '--note', 'office']);
    expect(office.code).toBe(0);
    expect(office.stdout).toMatch(/\+ added 203\.0\.113\.10 for "prod"/);
    const temp = await cli(['desired', 'add', 'prod', '203.0.113.11', '--for', '8h', '--note', 'contractor']);
    expect(temp.code).toBe(0);
    expect(temp.stdout).toMatch(/until .*\(7h59m left|8h0m left\)/);
    const [zero, noConfig, both] = await Promise.all([
      cli(['desired', 'add', 'prod', '10.0.0.01']),
      cli(['desired', 'add', 'typo', '203.0.113.12']),
      cli(['desired', 'add', 'prod', '203.0.113.12', '--for', '1h', '--until', '2099-01-01T00:00Z']),
    ]);
    expect(zero.code).toBe(64);
    expect(zero.stderr).toMatch(/leading zero/);
    expect(noConfig.code).toBe(1);
    expect(noConfig.stderr).toMatch(/"typo" has no config item/);
    expect(both.code).toBe(64);
    expect(both.stderr).toMatch(/either --for or --until/);

    const bad = join(tmp, 'bad.txt');
    writeFileSync(bad, '# office and friends\n203.0.113.20 branch\n203.0.113.300 typo\n2001:db8::1\n');
    const refused = await cli(['desired', 'import', 'prod', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/import refused, nothing written: line 3: "203\.0\.113\.300": octet 4 300 is out of range.*line 4: .*IPv6/);
    const good = join(tmp, 'good.json');
    writeFileSync(good, JSON.stringify(['127.0.0.1', { ip: '203.0.113.10', note: 'office' }, { ip: '203.0.113.20', note: 'branch', for: '2d' }]));
    const imported = await cli(['desired', 'import', 'prod', good, '--replace']);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    // 127.0.0.1 was already declared by bootstrap (a protected IP), so it is updated, not added.
    expect(imported.stdout).toMatch(/imported 3 IPs into "prod": 1 added, 2 updated, 1 removed/);

    const listed = await cli(['desired', 'list', 'prod', '--json']);
    expect(listed.code).toBe(0);
    const view = JSON.parse(listed.stdout) as { desiredIps: string[]; entries: Array<{ ip: string; note: string | null; verdict: string }> };
    expect(view.desiredIps).toEqual(['127.0.0.1', '203.0.113.10', '203.0.113.20']);
    expect(view.entries.find((e) => e.ip === '203.0.113.20')).toMatchObject({ note: 'branch', verdict: 'desired' });

    const [gone, removed] = await Promise.all([
      cli(['desired', 'remove', 'prod', '203.0.113.99']),
      cli(['desired', 'add', 'prod', '198.51.100.1']).then(() => cli(['desired', 'remove', 'prod', '198.51.100.1'])),
    ]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/no desired entry "203\.0\.113\.99"/);
    expect(removed.code).toBe(0);
    const items = await aws.dynamo.send(
      new QueryCommand({
        TableName: desiredTable,
        KeyConditionExpression: 'credential = :c',
        ExpressionAttributeValues: { ':c': { S: 'prod' } },
      }),
    );
    expect((items.Items ?? []).map((i) => i.entry?.S).sort()).toEqual(['config', 'ip#127.0.0.1', 'ip#203.0.113.10', 'ip#203.0.113.20']);
  });

  it('plan shows drift (exit 2), apply asks, applies through the worker service, and plan is then clean', async () => {
    emu.addIpEntryAsApp(user.credentialId, '198.51.100.7', 'ACTIVE');
    const planned = await cli(['plan', 'prod']);
    expect(planned.code).toBe(2);
    expect(planned.stdout).toMatch(/\+ 203\.0\.113\.10 +add as ACTIVE/);
    expect(planned.stdout).toMatch(/- 198\.51\.100\.7 +#\d+ +deactivate \(not desired\)/);
    expect(planned.stdout).toMatch(/Plan: 2 to add, 0 to re-activate, 1 to deactivate, 0 blocked\./);
    expect(planned.stdout).not.toMatch(/\u001b\[/);

    const asJson = await cli(['plan', 'prod', '--json']);
    expect(asJson.code).toBe(2);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ inSync: false, plan: { mode: 'enforce' } });

    const unconfirmed = await cli(['apply', 'prod']);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toMatch(/refusing to change bunq without confirmation.*--yes/);
    expect(active()).toEqual(['127.0.0.1', '198.51.100.7']);

    const applied = await cli(['apply', 'prod', '--yes']);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/CONVERGED \(cli, mode enforce\)/);
    expect(active()).toEqual(['127.0.0.1', '203.0.113.10', '203.0.113.20']);

    const clean = await cli(['plan', 'prod']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/No changes\. bunq matches the desired IPs\./);
  });

  it('a guard holds back an unsafe change and plan says why', async () => {
    // Removing our own IP from the desired set must not lock the CLI (and the reconciler) out.
    expect((await cli(['desired', 'remove', 'prod', '127.0.0.1'])).code).toBe(0);
    const planned = await cli(['plan', 'prod']);
    expect(planned.code).toBe(2);
    expect(planned.stdout).toMatch(/! - 127\.0\.0\.1 .*\[protected-ip\]/);
    expect(planned.stdout.split('\n')[0]).toMatch(/^Credential "prod" \(mode: enforce\): HELD, 1 planned change held back by guards/);
    const applied = await cli(['apply', 'prod', '--yes']);
    expect(applied.code).toBe(0);
    expect(active()).toContain('127.0.0.1');
  });

  it('status, history and --json read the ReconcileState table', async () => {
    const [status, statusJson, overview, history, historyJson, badLimit, unknownStatus] = await Promise.all([
      cli(['status', 'prod']),
      cli(['status', 'prod', '--json']),
      cli(['status']),
      cli(['history', 'prod']),
      cli(['history', 'prod', '--json', '--limit', '5']),
      cli(['history', 'prod', '--limit', 'many']),
      cli(['status', 'nobody']),
    ]);
    expect(status.code).toBe(0);
    // The guard held the deactivation of our own IP back: the run is HELD, not CONVERGED.
    expect(status.stdout).toMatch(/Credential "prod" +last run .*HELD/);
    expect(status.stdout).toMatch(/held back by protected-ip/);
    expect(JSON.parse(statusJson.stdout)).toMatchObject({ credential: 'prod', outcome: 'held', consecutiveFailures: 0 });
    expect(overview.stdout).toMatch(/^prod +HELD/m);
    expect(overview.stdout).toMatch(/^ops +never run/m);
    expect(history.stdout).toMatch(/Runs of "prod", newest first:/);
    const runs = JSON.parse(historyJson.stdout) as Array<{ reason: string; applied: unknown[] }>;
    expect(runs).toHaveLength(2);
    expect(runs.every((r) => r.reason === 'cli')).toBe(true);
    expect(runs[1]?.applied).toHaveLength(3);
    expect(badLimit.code).toBe(64);
    expect(unknownStatus.code).toBe(1);
    expect(unknownStatus.stderr).toMatch(/no run recorded for "nobody"/);
  });

  it('apply --via-queue hands the run to the deployed worker through the FIFO queue', async () => {
    const queue = await aws.sqs.send(
      new CreateQueueCommand({ QueueName: `${unique('cli-reconcile')}.fifo`, Attributes: { FifoQueue: 'true' } }),
    );
    const queued = await cli(['apply', 'prod', '--via-queue', '--yes'], { env: { RECONCILE_QUEUE_URL: queue.QueueUrl ?? '' } });
    expect(queued.code).toBe(0);
    expect(queued.stdout).toMatch(/queued a reconcile run of "prod"/);
    const received = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl, MessageSystemAttributeNames: ['MessageGroupId'] }));
    const message = received.Messages?.[0];
    expect(JSON.parse(message?.Body ?? '{}')).toMatchObject({ credential: 'prod', reason: 'cli' });
    expect(message?.Attributes?.MessageGroupId).toBe('prod');
  });

  it('never prints a secret', async () => {
    const secret = await aws.secrets.send(new GetSecretValueCommand({ SecretId: `${prefix}prod` }));
    const stored = JSON.parse(secret.SecretString ?? '{}') as { apiKey: string; installationToken: string; session: { token: string } };
    const all = outputs.map((o) => o.stdout + o.stderr).join('\n');
    expect(outputs.length).toBeGreaterThan(30);
    for (const value of [stored.apiKey, stored.installationToken, stored.session.token, 'PRIVATE KEY']) {
      expect(all).not.toContain(value);
    }
  });
});
