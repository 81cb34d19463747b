import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');

// `npm start` as a newcomer runs it: no AWS, no moto, nothing but Node and the repo.
describe('npm start (the local demo)', () => {
  it('runs the reconcile loop end to end, converges, shows a guard holding, and exits 0', async () => {
    const env: Record<string, string> = {};
    for (const k of ['PATH', 'HOME', 'TMPDIR']) if (process.env[k] !== undefined) env[k] = process.env[k] as string;
    // No AWS settings at all: the demo must not depend on any.
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn('npm', ['start', '--silent'], { cwd: ROOT, env: { ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
    });
    expect(stderr.replace(/npm warn.*\n/g, '')).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/windows scaled down 20×/);
    expect(stdout).toMatch(/~ 203\.0\.113\.11 +#\d+ re-activate/);
    expect(stdout).toMatch(/\+ 203\.0\.113\.12 +add as ACTIVE/);
    expect(stdout).toMatch(/- 198\.51\.100\.7 +#\d+ deactivate \(not desired\)/);
    expect(stdout).toMatch(/No changes\. bunq matches the desired IPs\./);
    expect(stdout).toMatch(/\[max-deactivations\]/);
    expect(stdout).toMatch(/DriftRemaining +3/);
    expect(stdout).toMatch(/Done\. Drift was found, planned, applied and converged; the guard held\./);
    expect(stdout).not.toMatch(/\u001b\[/);
    expect(stdout).not.toMatch(/sandbox_[0-9a-f]{20,}/);
  }, 60_000);
});
