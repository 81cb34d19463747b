import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');
const outdirs: string[] = [];

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

/** The real CLI as CI and an operator run it: no AWS credentials, no network, telemetry off. */
function cdkSynth(args: string[]): { status: number | null; stdout: string; stderr: string; outdir: string } {
  const outdir = mkdtempSync(join(tmpdir(), 'bunq-ip-cdk-out-'));
  outdirs.push(outdir);
  const env: NodeJS.ProcessEnv = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', AWS_EC2_METADATA_DISABLED: 'true' };
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'CDK_DEFAULT_ACCOUNT']) {
    delete env[name];
  }
  const r = spawnSync('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', outdir, ...args], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, outdir };
}

describe('npx cdk synth', () => {
  it('synthesizes the stack without credentials or network, cdk-nag included', () => {
    const r = cdkSynth([]);
    expect(r.stderr).not.toMatch(/AwsSolutions-/);
    expect(r.status, r.stderr).toBe(0);
    const templatePath = join(r.outdir, 'BunqIpReconciler.template.json');
    expect(existsSync(templatePath)).toBe(true);
    const template = JSON.parse(readFileSync(templatePath, 'utf8')) as { Resources: Record<string, { Type: string }> };
    const types = Object.values(template.Resources).map((x) => x.Type);
    expect(types.filter((t) => t === 'AWS::Lambda::Function')).toHaveLength(3);
    expect(types).toContain('AWS::Scheduler::Schedule');
  }, 240_000);

  it('stops on bad configuration with a message naming the key', () => {
    const r = cdkSynth(['-c', 'egress=vpn', '-c', 'alarmEmail=not-an-address']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("egress must be one of 'nat-instance', 'nat-gateway', 'none' (or 'nat', an alias of 'nat-gateway'), got \"vpn\"");
    expect(r.stderr).toContain('alarmEmail must be an e-mail address');
    expect(existsSync(join(r.outdir, 'BunqIpReconciler.template.json'))).toBe(false);
  }, 240_000);
});
