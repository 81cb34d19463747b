import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../emulator';
import { item, RawBunqCaller } from './support';

describe('seeded emulators', () => {
  it('hand out the same ids, keys and tokens for the same seed and calls', async () => {
    const run = async (): Promise<unknown[]> => {
      const emu = await startEmulator({ seed: 7, rateLimits: false });
      try {
        const user = emu.createUser();
        const caller = new RawBunqCaller(emu.url);
        const inst = await caller.install();
        return [user, item(inst, 0, 'Id').id, caller.installationToken];
      } finally {
        await emu.close();
      }
    };
    const [a, b] = [await run(), await run()];
    expect(a).toEqual(b);
    const other = await startEmulator({ seed: 8 });
    try {
      expect(other.createUser().apiKey).not.toBe((a[0] as { apiKey: string }).apiKey);
    } finally {
      await other.close();
    }
  });
});

describe('listening address', () => {
  it('stays on loopback', async () => {
    await expect(startEmulator({ host: '0.0.0.0' })).rejects.toThrow('emulator host must be a loopback address, got "0.0.0.0"');
    const emu = await startEmulator({ host: '127.0.0.4', port: 0 });
    try {
      expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.4:\d+$/);
    } finally {
      await emu.close();
    }
  });
});

describe('npm run emulator (emulator/main.ts)', () => {
  it('prints its URL, its profiles and a working API key, and exits cleanly on SIGINT', async () => {
    const args = ['--port', '0', '--no-rate-limits', '--profile', 'reactivation-refused', '--profile', 'fixed-session-expiry'];
    const child = spawn(process.execPath, ['--import', 'tsx', 'emulator/main.ts', ...args], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      for (let i = 0; i < 200 && !out.includes('API key:'); i++) await new Promise((r) => setTimeout(r, 50));
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      const apiKey = /API key: (sandbox_[0-9a-f]+)/.exec(out)?.[1];
      expect(url).toBeDefined();
      expect(apiKey).toBeDefined();
      expect(out).toContain('profiles: reactivation-refused, fixed-session-expiry');
      const caller = await new RawBunqCaller(url ?? '').connect(apiKey ?? '');
      expect((await caller.get('/v1/user')).status).toBe(200);
      child.kill('SIGINT');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it.each([
    [['--port', 'eighty'], '--port must be a non-negative integer, got "eighty"'],
    [['--profile', 'slow-bunq'], 'unknown emulator profile "slow-bunq" (known: standard-key-cannot-add-ips, wildcard-unlisted,'],
  ])('refuses %j', async (args, message) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'emulator/main.ts', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(err).toContain(message);
  });
});
