import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, startEmulator, type BunqEmulator } from '../../emulator';
import { cliStores, motoClients, runCli, SCALED_RATE_LIMITS, startCliBackend, type RunResult } from './support';

// Issue 10 as an operator meets it: spawned `bunq-ip` processes against moto and the bunq emulator
// with its IP whitelist enforced (the CLI calls from 127.0.0.1). The transcript that used to lock
// the credential out, one bunq credential per config, --adopt, and errors that name the caller.

const aws = motoClients();
const stores = cliStores('lock');
const { desiredTable, prefix } = stores;
let emu: BunqEmulator;
let env: Record<string, string>;
const outputs: RunResult[] = [];
const apiKeys: string[] = [];
/** The bunq credential of "prod", the transcript's config. */
let prodCredentialId = 0;

async function cli(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  const result = await runCli(args, { ...env, ...options.env }, options.input ?? '');
  outputs.push(result);
  return result;
}

function newUser(): { userId: number; apiKey: string; credentialId: number } {
  const user = emu.createUser({ displayName: 'lock-out test' });
  apiKeys.push(user.apiKey);
  return user;
}

function activeAt(emulator: BunqEmulator, credentialId: number): string[] {
  return emulator.listIpEntries(credentialId).filter((e) => e.status === 'ACTIVE').map((e) => e.ip).sort();
}

function active(credentialId: number): string[] {
  return activeAt(emu, credentialId);
}

async function configItem(credential: string) {
  const reply = await aws.dynamo.send(new GetItemCommand({ TableName: desiredTable, Key: { credential: { S: credential }, entry: { S: 'config' } } }));
  return reply.Item;
}

/**
 * bunq on another host, as far as the CLI can tell: a second emulator on [::1] (a URL the CLI does
 * not take for this machine, so it must ask checkip), which sees every caller as the public
 * PUBLIC_IP. The checkip stand-in answers `checkipAnswer`: right, or wrong as behind a proxy.
 */
const PUBLIC_IP = '198.51.100.77';
let remote: BunqEmulator;
let remoteEnv: Record<string, string>;
let checkip: Server;
let checkipPort = 0;
let checkipServed = 0;
let checkipAnswer = PUBLIC_IP;

beforeAll(async () => {
  remote = await startEmulator({ host: '::1', mapCallerIp: () => PUBLIC_IP, rateLimits: SCALED_RATE_LIMITS });
  checkip = createServer((_req, res) => {
    checkipServed += 1;
    res.end(`${checkipAnswer}\n`);
  });
  await new Promise<void>((resolve) => checkip.listen(0, '127.0.0.1', resolve));
  checkipPort = (checkip.address() as AddressInfo).port;
  remoteEnv = { BUNQ_BASE_URL: remote.url, BUNQ_IP_CHECKIP_URL: `http://127.0.0.1:${checkipPort}/` };
});

afterAll(async () => {
  await remote?.close();
  await new Promise<void>((resolve) => (checkip ? checkip.close(() => resolve()) : resolve()));
});

beforeAll(async () => {
  ({ emulator: emu, env } = await startCliBackend(aws, stores));
});

afterAll(async () => {
  await emu?.close();
});

describe('lock-out impossible by construction (CLI processes against moto and the emulator)', () => {
  it('the issue\'s transcript: bootstrap --permitted-ip in enforce, add two IPs, apply; plan still reaches bunq', async () => {
    const user = newUser();
    prodCredentialId = user.credentialId;
    const boot = await cli(['bootstrap', 'prod', '--environment', 'sandbox', '--permitted-ip', '127.0.0.1', '--mode', 'enforce'], { input: user.apiKey });
    expect(boot.stderr).toBe('');
    expect(boot.code).toBe(0);
    expect(boot.stdout).toMatch(/protected IPs: 127\.0\.0\.1\n/);
    expect(boot.stdout).toMatch(/declared desired: 127\.0\.0\.1\n/);
    expect(boot.stdout).toMatch(/note: declared desired and protected: 127\.0\.0\.1 \(bound at device registration.*--no-protect-bound-ips\)/);
    const declared = await aws.dynamo.send(
      new GetItemCommand({ TableName: desiredTable, Key: { credential: { S: 'prod' }, entry: { S: 'ip#127.0.0.1' } } }),
    );
    expect(declared.Item?.note?.S).toMatch(/^bound at device registration by bootstrap \d{4}-\d{2}-\d{2}: this API key calls bunq from it/);

    expect((await cli(['desired', 'add', 'prod', '203.0.113.50'])).code).toBe(0);
    expect((await cli(['desired', 'add', 'prod', '203.0.113.51'])).code).toBe(0);
    const applied = await cli(['apply', 'prod', '--local', '--yes']);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/Caller: this run calls bunq from 127\.0\.0\.1 \(detected: bunq's base URL is on this machine \(loopback\)\); it is kept/);
    expect(applied.stdout).not.toMatch(/- 127\.0\.0\.1/);
    expect(active(user.credentialId)).toEqual(['127.0.0.1', '203.0.113.50', '203.0.113.51']);

    const planned = await cli(['plan', 'prod']);
    expect(planned.stderr).toBe('');
    expect(planned.code).toBe(0);
    expect(planned.stdout).toMatch(/No changes\. bunq matches the desired IPs\./);
    const asJson = await cli(['plan', 'prod', '--json', '--caller-ip', '127.0.0.1']);
    expect(asJson.code).toBe(0);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ inSync: true, caller: { ips: ['127.0.0.1'], source: 'flag' } });
    expect(active(user.credentialId)).toContain('127.0.0.1');
  });

  it('--caller-ip and BUNQ_IP_CALLER_IPS are validated (exit 64) and shown; --no-protect-bound-ips opts out explicitly', async () => {
    const [badFlag, badEnv, viaQueue] = await Promise.all([
      cli(['plan', 'prod', '--caller-ip', '127.0.0.300']),
      cli(['plan', 'prod'], { env: { BUNQ_IP_CALLER_IPS: '127.0.0.1;10.0.0.1' } }),
      cli(['apply', 'prod', '--via-queue', '--caller-ip', '127.0.0.1', '--yes'], { env: { RECONCILE_QUEUE_URL: 'http://unused' } }),
    ]);
    expect(badFlag.code).toBe(64);
    expect(badFlag.stderr).toMatch(/--caller-ip "127\.0\.0\.300": octet 4 300 is out of range/);
    expect(badEnv.code).toBe(64);
    expect(badEnv.stderr).toMatch(/BUNQ_IP_CALLER_IPS "127\.0\.0\.1;10\.0\.0\.1"/);
    expect(viaQueue.code).toBe(64);
    expect(viaQueue.stderr).toMatch(/--caller-ip applies to local runs/);
    const fromEnv = await cli(['plan', 'prod'], { env: { BUNQ_IP_CALLER_IPS: '127.0.0.1, 203.0.113.50' } });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toMatch(/Caller: this run calls bunq from 127\.0\.0\.1, 203\.0\.113\.50 \(BUNQ_IP_CALLER_IPS\); they are kept/);

    const user = newUser();
    const optOut = await cli(['bootstrap', 'elsewhere', '--environment', 'sandbox', '--no-protect-bound-ips', '--json'], { input: user.apiKey });
    expect(optOut.code).toBe(0);
    const result = JSON.parse(optOut.stdout) as { boundIps: string[]; protectedIps: string[]; declared: unknown[]; notes: string[] };
    expect(result).toMatchObject({ boundIps: ['127.0.0.1'], protectedIps: [], declared: [] });
    expect(result.notes.join('\n')).toMatch(/neither declared nor protected \(--no-protect-bound-ips\)/);
  });

  it('judges the caller from the URL the run calls (the stored context\'s), not a leftover BUNQ_BASE_URL', async () => {
    // "prod" was bootstrapped against the emulator on this machine: its context calls 127.0.0.1, so
    // the run calls from 127.0.0.1 whatever BUNQ_BASE_URL says; checkip is not asked.
    const planned = await cli(['plan', 'prod', '--json'], { env: { BUNQ_BASE_URL: 'https://bunq.invalid', BUNQ_IP_CHECKIP_URL: `http://127.0.0.1:${checkipPort}/` } });
    expect(planned.stderr).toBe('');
    expect(planned.code).toBe(0);
    expect(JSON.parse(planned.stdout)).toMatchObject({ caller: { ips: ['127.0.0.1'], source: 'detected', detail: 'bunq\'s base URL is on this machine (loopback)' } });
    expect(checkipServed).toBe(0);
  });

  it('asks checkip when the context calls bunq elsewhere, even with a loopback BUNQ_BASE_URL left over; an unreachable checkip leaves the caller unknown', async () => {
    const user = remote.createUser({ displayName: 'faraway' });
    apiKeys.push(user.apiKey);
    checkipAnswer = PUBLIC_IP;
    expect((await cli(['bootstrap', 'faraway', '--environment', 'sandbox', '--mode', 'enforce'], { input: user.apiKey, env: remoteEnv })).code).toBe(0);
    // Someone adds an IP in the app: an enforce run that knows its caller deactivates it.
    const stray = remote.addIpEntryAsApp(user.credentialId, '198.51.100.66', 'ACTIVE');
    const servedBefore = checkipServed;
    // BUNQ_BASE_URL still points at the local emulator (the README's local recipe), but the run calls
    // the context's bunq: only checkip can say which IP that bunq sees.
    const detected = await cli(['plan', 'faraway', '--json'], { env: { BUNQ_IP_CHECKIP_URL: `http://127.0.0.1:${checkipPort}/` } });
    expect(detected.stderr).toBe('');
    expect(detected.code).toBe(2);
    expect(JSON.parse(detected.stdout)).toMatchObject({ caller: { ips: [PUBLIC_IP], source: 'detected', detail: `127.0.0.1:${checkipPort}` } });
    expect(checkipServed).toBe(servedBefore + 1);
    expect(JSON.parse(detected.stdout).plan.operations).toEqual([{ kind: 'deactivate', ip: '198.51.100.66', entryId: stray.id, reason: 'undesired' }]);

    // A run that cannot tell where it calls from holds every deactivation; additions would go ahead.
    const unreachable = await cli(['plan', 'faraway'], { env: { BUNQ_IP_CHECKIP_URL: 'http://127.0.0.1:9/' } });
    expect(unreachable.code).toBe(2);
    expect(unreachable.stdout).toMatch(/! - 198\.51\.100\.66 .*\[caller-ip\] cannot tell which IP this run calls bunq from/);
    expect(unreachable.stdout).toMatch(/Plan: 0 to add, 0 to re-activate, 0 to deactivate, 1 blocked\./);
    expect(unreachable.stdout).toMatch(
      /^Caller: cannot tell which IP this run calls bunq from \(127\.0\.0\.1:9: .*\); every deactivation is held unless an ACTIVE "\*" covers it\. Pass --caller-ip or set BUNQ_IP_CALLER_IPS\.$/m,
    );
  });

  it('bootstrap binds what bunq lists ACTIVE, not a wrong what-is-my-IP answer (a proxy); the run stays able to call', async () => {
    const user = remote.createUser({ displayName: 'proxied' });
    apiKeys.push(user.apiKey);
    checkipAnswer = '198.51.100.9'; // the proxy's address, not the one bunq sees
    const boot = await cli(['bootstrap', 'proxied', '--environment', 'sandbox', '--mode', 'enforce', '--json'], { input: user.apiKey, env: remoteEnv });
    expect(boot.stderr).toBe('');
    expect(boot.code).toBe(0);
    const result = JSON.parse(boot.stdout) as { boundIps: string[]; protectedIps: string[]; notes: string[] };
    expect(result).toMatchObject({ boundIps: [PUBLIC_IP], protectedIps: [PUBLIC_IP] });
    expect(result.notes.join('\n')).toMatch(
      new RegExp(`warning: this machine's IP was given as 198\\.51\\.100\\.9 \\(detected: 127\\.0\\.0\\.1:${checkipPort}\\), but bunq bound 198\\.51\\.100\\.77`),
    );
    expect((await cli(['desired', 'add', 'proxied', '203.0.113.50'], { env: remoteEnv })).code).toBe(0);
    // The same wrong detection at apply time: bunq's IP is protected, so it stays ACTIVE.
    const applied = await cli(['apply', 'proxied', '--local', '--yes'], { env: remoteEnv });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(activeAt(remote, user.credentialId)).toEqual([PUBLIC_IP, '203.0.113.50']);
    checkipAnswer = PUBLIC_IP;
    const planned = await cli(['plan', 'proxied'], { env: remoteEnv });
    expect(planned.code).toBe(0);
    expect(planned.stdout).toMatch(/No changes/);
  });

  it('bootstrap --permitted-ip also protects the IP bunq lists this run calling from, and warns', async () => {
    const user = remote.createUser({ displayName: 'permitted' });
    apiKeys.push(user.apiKey);
    // An existing credential: the operator's machine (bunq sees 198.51.100.77) is already whitelisted.
    remote.addIpEntryAsApp(user.credentialId, PUBLIC_IP, 'ACTIVE');
    checkipAnswer = PUBLIC_IP;
    const boot = await cli(['bootstrap', 'permitted', '--environment', 'sandbox', '--mode', 'enforce', '--permitted-ip', '203.0.113.90', '--json'], {
      input: user.apiKey,
      env: remoteEnv,
    });
    expect(boot.stderr).toBe('');
    expect(boot.code).toBe(0);
    const result = JSON.parse(boot.stdout) as { boundIps: string[]; protectedIps: string[]; notes: string[] };
    expect(result.protectedIps.sort()).toEqual([PUBLIC_IP, '203.0.113.90']);
    expect(result.notes.join('\n')).toMatch(/warning: this run calls bunq from 198\.51\.100\.77 .*which bunq lists ACTIVE but --permitted-ip did not name; it is protected as well/);
    const applied = await cli(['apply', 'permitted', '--local', '--yes', '--caller-ip', '203.0.113.90'], { env: remoteEnv });
    expect(applied.code).toBe(0);
    expect(activeAt(remote, user.credentialId)).toContain(PUBLIC_IP);
    expect((await cli(['plan', 'permitted'], { env: remoteEnv })).code).toBe(0);
  });

  it('one owner per bunq credential: a twin is refused and named, --force moves ownership and retires the old config', async () => {
    const user = newUser();
    expect((await cli(['bootstrap', 'payroll', '--environment', 'sandbox', '--mode', 'enforce'], { input: user.apiKey })).code).toBe(0);
    const twin = await cli(['bootstrap', 'payroll-2', '--environment', 'sandbox'], { input: user.apiKey });
    expect(twin.code).toBe(1);
    expect(twin.stderr).toMatch(new RegExp(`bunq user ${user.userId}'s CredentialPasswordIp ${user.credentialId} \\(sandbox\\) is already reconciled by credential "payroll"`));
    expect(twin.stderr).toMatch(/re-run with --force to move ownership to "payroll-2" and retire "payroll"/);
    expect(await configItem('payroll-2')).toBeUndefined();

    const moved = await cli(['bootstrap', 'payroll-2', '--environment', 'sandbox', '--force'], { input: user.apiKey });
    expect(moved.stderr).toBe('');
    expect(moved.code).toBe(0);
    expect(moved.stdout).toMatch(/ownership moved here from "payroll" \(now retired\)/);
    // Moving ownership changes nothing at bunq: the new config keeps what the old one kept.
    expect(moved.stdout).toMatch(/note: took over the desired and protected IPs of "payroll"/);
    expect(moved.stdout).toMatch(/protected IPs: 127\.0\.0\.1\n/);
    const old = await configItem('payroll');
    expect(old?.retiredInFavourOf?.S).toBe('payroll-2');
    expect(old?.retiredAt?.S).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const retiredPlan = await cli(['plan', 'payroll']);
    expect(retiredPlan.code).toBe(1);
    expect(retiredPlan.stderr).toMatch(/credential payroll was retired at .* in favour of "payroll-2" \(bootstrap --force\): it is not reconciled/);
    const addToRetired = await cli(['desired', 'add', 'payroll', '203.0.113.99']);
    expect(addToRetired.code).toBe(1);
    expect(addToRetired.stderr).toMatch(/"payroll" was retired in favour of "payroll-2" .* edit "payroll-2" instead/);
    const overview = await cli(['status']);
    expect(overview.stdout).not.toMatch(/^payroll /m);
    const successor = await cli(['plan', 'payroll-2']);
    expect(successor.stderr).toBe('');
    expect(successor.stdout).toMatch(/No changes/);
    expect(successor.code).toBe(0);

    // A config copied by hand in the console is refused before it calls bunq.
    const copy = { ...(await configItem('payroll-2')), credential: { S: 'payroll-copy' } };
    await aws.dynamo.send(new PutItemCommand({ TableName: desiredTable, Item: copy }));
    const requestsBefore = emu.requests.length;
    const [copyPlan, copyApply] = [await cli(['plan', 'payroll-copy']), await cli(['apply', 'payroll-copy', '--local', '--yes'])];
    for (const r of [copyPlan, copyApply]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/which credential "payroll-2" already reconciles; not calling bunq for a second owner/);
    }
    expect(emu.requests.length).toBe(requestsBefore);
  });

  it('two bootstraps of two names for one bunq credential at once: exactly one wins', async () => {
    const user = newUser();
    const [a, b] = await Promise.all([
      cli(['bootstrap', 'race-a', '--environment', 'sandbox'], { input: user.apiKey }),
      cli(['bootstrap', 'race-b', '--environment', 'sandbox'], { input: user.apiKey }),
    ]);
    const codes = [a.code, b.code].sort();
    expect(codes).toEqual([0, 1]);
    const [winner, loser] = a.code === 0 ? (['race-a', b] as const) : (['race-b', a] as const);
    expect(loser.stderr).toMatch(new RegExp(`"${winner}"`));
    const configs = await Promise.all([configItem('race-a'), configItem('race-b')]);
    expect(configs.filter((c) => c !== undefined)).toHaveLength(1);
  });

  it('--adopt declares every IP ACTIVE at bunq now, so enforce mode changes nothing', async () => {
    const user = newUser();
    emu.addIpEntryAsApp(user.credentialId, '198.51.100.7', 'ACTIVE');
    emu.addIpEntryAsApp(user.credentialId, '198.51.100.8', 'INACTIVE');
    const adopted = await cli(['bootstrap', 'adopted', '--environment', 'sandbox', '--mode', 'enforce', '--adopt'], { input: user.apiKey });
    expect(adopted.stderr).toBe('');
    expect(adopted.code).toBe(0);
    expect(adopted.stdout).toMatch(/note: adopted \(declared desired as ACTIVE at bunq now\): 198\.51\.100\.7\n/);
    const listed = JSON.parse((await cli(['desired', 'list', 'adopted', '--json'])).stdout) as { entries: Array<{ ip: string; note: string | null }> };
    expect(listed.entries.find((e) => e.ip === '198.51.100.7')?.note).toMatch(/^adopted at bootstrap \d{4}-\d{2}-\d{2}$/);
    expect(listed.entries.map((e) => e.ip).sort()).toEqual(['127.0.0.1', '198.51.100.7']);
    const planned = await cli(['plan', 'adopted']);
    expect(planned.code).toBe(0);
    expect(planned.stdout).toMatch(/No changes/);
    expect(active(user.credentialId)).toEqual(['127.0.0.1', '198.51.100.7']);
  });

  it('when bunq rejects the caller, the error names the IP this run called from', async () => {
    const user = newUser();
    expect((await cli(['bootstrap', 'locked', '--environment', 'sandbox'], { input: user.apiKey })).code).toBe(0);
    const own = emu.listIpEntries(user.credentialId).find((e) => e.ip === '127.0.0.1');
    emu.setIpStatusAsApp(user.credentialId, own?.id ?? 0, 'INACTIVE');
    const [plan, apply] = await Promise.all([cli(['plan', 'locked', '--caller-ip', '127.0.0.1']), cli(['apply', 'locked', '--local', '--yes'])]);
    for (const r of [plan, apply]) {
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')[0]).toMatch(
        /^error: bunq: GET \S+: bunq rejected the API key or the calling IP \(HTTP 400\).*; credential locked: this run calls bunq from 127\.0\.0\.1 \((--caller-ip|detected: bunq's base URL is on this machine \(loopback\))\); if the API key is current, that IP must be ACTIVE/,
      );
    }
  });

  it('nothing in DesiredIps is dropped silently: a hand-typed odd key or an implausible expiry freezes deactivations', async () => {
    const user = newUser();
    expect((await cli(['bootstrap', 'hygiene', '--environment', 'sandbox', '--mode', 'enforce'], { input: user.apiKey })).code).toBe(0);
    expect((await cli(['desired', 'add', 'hygiene', '203.0.113.60'])).code).toBe(0);
    expect((await cli(['apply', 'hygiene', '--local', '--yes'])).code).toBe(0);
    emu.addIpEntryAsApp(user.credentialId, '198.51.100.70', 'ACTIVE');
    // Console edits: an upper-case key, and an expiry typed as a date (20261231 s = 1970).
    await aws.dynamo.send(new PutItemCommand({ TableName: desiredTable, Item: { credential: { S: 'hygiene' }, entry: { S: 'IP#203.0.113.61' }, ip: { S: '203.0.113.61' } } }));
    await aws.dynamo.send(
      new PutItemCommand({ TableName: desiredTable, Item: { credential: { S: 'hygiene' }, entry: { S: 'ip#203.0.113.60' }, ip: { S: '203.0.113.60' }, expiresAt: { N: '20261231' } } }),
    );
    const planned = await cli(['plan', 'hygiene']);
    expect(planned.code).toBe(2);
    expect(planned.stdout).toMatch(/x IP#203\.0\.113\.61/);
    expect(planned.stdout).toMatch(/x ip#203\.0\.113\.60/);
    expect(planned.stdout).toMatch(/! - 198\.51\.100\.70 /);
    expect(planned.stdout).not.toMatch(/^ *- 203\.0\.113\.60/m);
    const applied = await cli(['apply', 'hygiene', '--local', '--yes']);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toMatch(/invalid-desired/);
    expect(active(user.credentialId)).toEqual(['127.0.0.1', '198.51.100.70', '203.0.113.60']);
  });

  it('an IP bunq refuses for good does not hold back the others', async () => {
    const user = newUser();
    expect((await cli(['bootstrap', 'refusals', '--environment', 'sandbox', '--mode', 'enforce'], { input: user.apiKey })).code).toBe(0);
    expect((await cli(['desired', 'add', 'refusals', '0.0.0.0'])).code).toBe(0);
    expect((await cli(['desired', 'add', 'refusals', '203.0.113.77'])).code).toBe(0);
    // Additions run in IP order: bunq refuses the first POST (0.0.0.0) for good.
    emu.faults.add({ method: 'POST', route: ROUTES.ipList, fault: { type: 'status', status: 400, description: 'The IP address is not valid.' } });
    const applied = await cli(['apply', 'refusals', '--local', '--yes']);
    emu.faults.clear();
    expect(applied.code).toBe(1);
    expect(applied.stderr).toMatch(/ip-refused/);
    expect(active(user.credentialId)).toEqual(['127.0.0.1', '203.0.113.77']);
  });

  it('never prints a secret', async () => {
    const all = outputs.map((o) => o.stdout + o.stderr).join('\n');
    expect(outputs.length).toBeGreaterThan(20);
    for (const key of apiKeys) expect(all).not.toContain(key);
    const secret = await aws.secrets.send(new GetSecretValueCommand({ SecretId: `${prefix}prod` }));
    const stored = JSON.parse(secret.SecretString ?? '{}') as { installationToken: string; session: { token: string } };
    for (const value of [stored.installationToken, stored.session.token, 'PRIVATE KEY']) expect(all).not.toContain(value);
  });
});
