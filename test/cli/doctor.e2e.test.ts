import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BunqEmulator } from '../../emulator';
import { cliStores, motoClients, runCli, startCliBackend, type RunResult } from './support';

// `bunq-ip doctor` as an operator runs it (its own process) against moto and the bunq emulator. The
// CLI calls the emulator from 127.0.0.1; the deployed reconciler's egress IP is played by
// 203.0.113.9, which the credential protects and declares like the README says.

const EGRESS = '203.0.113.9';
const aws = motoClients();
const stores = cliStores('doc');
const { desiredTable, prefix } = stores;
let emu: BunqEmulator;
let user: { userId: number; apiKey: string; credentialId: number };
let env: Record<string, string>;

function cli(args: string[], extra: Record<string, string> = {}, input = ''): Promise<RunResult> {
  return runCli(args, { ...env, ...extra }, input);
}

interface Check { id: string; status: string; summary: string; fix?: string }
const checksOf = (r: RunResult): Record<string, Check> =>
  Object.fromEntries((JSON.parse(r.stdout) as { checks: Check[] }).checks.map((c) => [c.id, c]));

beforeAll(async () => {
  ({ emulator: emu, env } = await startCliBackend(aws, stores));
  user = emu.createUser({ displayName: 'Doctor test' });
  const boot = await cli(['bootstrap', 'prod', '--environment', 'sandbox', '--mode', 'enforce', '--protected-ip', EGRESS], {}, `${user.apiKey}\n`);
  expect(boot.stderr).toBe('');
  expect(boot.code).toBe(0);
  const applied = await cli(['apply', 'prod', '--local', '--yes']);
  expect(applied.code, applied.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  await emu?.close();
});

describe('bunq-ip doctor (processes against moto and the bunq emulator)', () => {
  it('a healthy credential: one ok line per check, exit 0', async () => {
    const r = await cli(['doctor', 'prod', '--egress-ip', EGRESS]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => /^ {2}(ok|warn|FAIL|skip) /.test(l));
    expect(lines.map((l) => l.trim().split(/\s+/)[1])).toEqual(['config', 'secret', 'session', 'caller-ip', 'wildcard', 'ownership', 'egress-ip', 'last-run']);
    expect(lines.every((l) => l.startsWith('  ok '))).toBe(true);
    expect(r.stdout).toContain(`the deployed egress IP ${EGRESS} is ACTIVE, protected and desired`);
    expect(r.stdout).toMatch(/this run calls from 127\.0\.0\.1 .*ACTIVE/);
    expect(r.stdout).not.toContain(user.apiKey);
  });

  it('`*` ACTIVE with the egress IP ACTIVE: doctor, plan and status say exactly what to do', async () => {
    const star = emu.addIpEntryAsApp(user.credentialId, '*', 'ACTIVE');
    try {
      const sentence = `switch \`*\` off in the bunq app; the reconciler calls from ${EGRESS}, which is ACTIVE`;
      const doctor = await cli(['doctor', 'prod', '--json'], { EGRESS_IPS: EGRESS });
      expect(doctor.code).toBe(1);
      expect(checksOf(doctor).wildcard).toMatchObject({ status: 'problem', fix: sentence });
      const plan = await cli(['plan', 'prod', '--egress-ip', EGRESS]);
      expect(plan.stdout).toContain(sentence);
      const run = await cli(['apply', 'prod', '--local', '--yes']);
      expect(run.code, run.stderr).toBe(0);
      const status = await cli(['status', 'prod'], { EGRESS_IPS: EGRESS });
      expect(status.stdout).toContain(sentence);
      // Without a fixed egress (egress=none) `*` is the set-up: reported, exit 0.
      const none = await cli(['doctor', 'prod', '--json']);
      expect(checksOf(none).wildcard?.status).toBe('warn');
      expect(checksOf(none)['egress-ip']?.status).toBe('skipped');
      expect(none.code).toBe(0);
    } finally {
      emu.setIpStatusAsApp(user.credentialId, star.id, 'INACTIVE');
    }
  });

  it('the deployed egress IP switched off in the app: a problem with the fix, exit 1', async () => {
    const egressEntry = emu.listIpEntries(user.credentialId).find((e) => e.ip === EGRESS && e.status === 'ACTIVE');
    expect(egressEntry).toBeDefined();
    emu.setIpStatusAsApp(user.credentialId, egressEntry?.id ?? 0, 'INACTIVE');
    try {
      const r = await cli(['doctor', 'prod', '--egress-ip', EGRESS]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`FAIL +egress-ip +deployed egress IP: ${EGRESS.replace(/\./g, '\\.')} not ACTIVE at bunq .* — fix: .*--protected-ip ${EGRESS.replace(/\./g, '\\.')}`));
      expect(r.stdout).toMatch(/1 problem found\./);
    } finally {
      emu.setIpStatusAsApp(user.credentialId, egressEntry?.id ?? 0, 'ACTIVE');
    }
  });

  it('a config whose secret is missing, and a config copied by hand (a twin), are problems; later checks skip', async () => {
    const config = (await aws.dynamo.send(new GetItemCommand({ TableName: desiredTable, Key: { credential: { S: 'prod' }, entry: { S: 'config' } } }))).Item ?? {};
    await aws.dynamo.send(new PutItemCommand({ TableName: desiredTable, Item: { ...config, credential: { S: 'ghost' }, secretName: { S: `${prefix}ghost` } } }));
    await aws.dynamo.send(new PutItemCommand({ TableName: desiredTable, Item: { ...config, credential: { S: 'twin' } } }));
    const [ghost, twin, nobody] = await Promise.all([cli(['doctor', 'ghost', '--json']), cli(['doctor', 'twin', '--json']), cli(['doctor', 'nobody'])]);
    expect(ghost.code).toBe(1);
    expect(checksOf(ghost).secret).toMatchObject({ status: 'problem', summary: expect.stringMatching(/secret-missing/), fix: expect.stringMatching(/bootstrap ghost/) });
    expect(checksOf(ghost).session?.status).toBe('skipped');
    expect(twin.code).toBe(1);
    expect(checksOf(twin).ownership).toMatchObject({ status: 'problem', summary: expect.stringMatching(/config "prod" already reconciles/) });
    expect(nobody.code).toBe(1);
    expect(nobody.stdout).toMatch(/FAIL +config +config item: config-missing/);
  });

  it('refuses a malformed --egress-ip with exit 64', async () => {
    const r = await cli(['doctor', 'prod', '--egress-ip', '203.0.113.09']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/--egress-ip "203\.0\.113\.09"/);
  });
});
