import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS, ROUTES, startEmulator, type RateLimitRule } from '../../emulator';
import { systemClock } from '../../lambdas/shared/clock';
import { cliEnv, runCli, type RunResult } from '../cli/support';
import { ADD, createTables, DEACTIVATE, OUR_IP, REACTIVATE, seedCredential, whitelist, type ProfileCase, type Tables } from './world';

// The CLI path (`bunq-ip plan` and `bunq-ip apply --local`, each its own process, against moto and
// the emulator over HTTP) under every emulator profile. The processes keep bunq's real client-side
// table, so the emulator's windows are scaled down 20× (session-server falls back to the POST rule,
// as in test/cli/cli.e2e.test.ts); under slow-instead-of-429 the emulator is stricter than our table,
// so it really holds our calls. Tests run concurrently: each has its own emulator and credential.
// The CLI knows it calls the emulator from 127.0.0.1 (a loopback base URL), so the caller-ip guard
// lets the deactivation through.

let tables: Tables;

beforeAll(async () => {
  tables = await createTables();
});

const SCALED: RateLimitRule[] = DEFAULT_RATE_LIMITS.filter((r) => r.route !== ROUTES.sessionServer).map((r) => ({ ...r, windowMs: r.windowMs / 20 }));
const STRICTER: RateLimitRule[] = ['GET', 'POST', 'PUT'].map((method) => ({ method, limit: 1, windowMs: 400 }));

interface CliRun {
  plan: RunResult;
  apply: RunResult;
  after: Record<string, string[]>;
  slowed: boolean;
}

async function planAndApply(profile: ProfileCase): Promise<CliRun> {
  const emu = await startEmulator({
    rateLimits: profile === 'slow-instead-of-429' ? STRICTER : SCALED,
    profiles: profile === 'default' ? [] : [profile],
  });
  try {
    const seeded = await seedCredential(tables, emu, { clock: systemClock });
    const env = cliEnv({
      DESIRED_TABLE_NAME: tables.desiredTable,
      STATE_TABLE_NAME: tables.stateTable,
      SECRET_NAME_PREFIX: seeded.secretPrefix,
      BUNQ_BASE_URL: emu.url,
    });
    const plan = await runCli(['plan', seeded.credential], env);
    const apply = await runCli(['apply', seeded.credential, '--local', '--yes'], env);
    return { plan, apply, after: whitelist(emu, seeded.credentialId), slowed: emu.requests.some((r) => (r.slowedMs ?? 0) > 0) };
  } finally {
    await emu.close();
  }
}

const CONVERGED = { [OUR_IP]: ['ACTIVE'], [REACTIVATE]: ['ACTIVE'], [DEACTIVATE]: ['INACTIVE'], [ADD]: ['ACTIVE'] };
const PLAN_LINE = /Plan: 1 to add, 1 to re-activate, 1 to deactivate, 0 blocked\./;

describe.concurrent('CLI path under every bunq answer', () => {
  it.each<ProfileCase>(['default', 'wildcard-unlisted', 'duplicate-post-accepted', 'errors-unsigned', 'slow-instead-of-429', 'fixed-session-expiry'])(
    '%s: plan shows the drift (exit 2), apply --local converges (exit 0)',
    async (profile) => {
      const r = await planAndApply(profile);
      expect([r.plan.code, r.plan.stderr]).toEqual([2, '']);
      expect(r.plan.stdout).toMatch(PLAN_LINE);
      expect([r.apply.code, r.apply.stderr]).toEqual([0, '']);
      expect(r.apply.stdout).toMatch(/CONVERGED \(cli, mode enforce\)/);
      expect(r.after).toEqual(CONVERGED);
      if (profile === 'slow-instead-of-429') expect(r.slowed).toBe(true);
    },
  );

  it('standard-key-cannot-add-ips: apply fails (exit 1) naming the cause and the remedy', async () => {
    const r = await planAndApply('standard-key-cannot-add-ips');
    expect(r.plan.code).toBe(2);
    expect(r.apply.code).toBe(1);
    const out = r.apply.stdout + r.apply.stderr;
    expect(out).toMatch(/ip-add-not-permitted/);
    expect(out).toMatch(/Remedy: create a wildcard API key/);
    // The re-activation and the deactivation still run after the refused addition.
    expect(r.after).toEqual({ [OUR_IP]: ['ACTIVE'], [REACTIVATE]: ['ACTIVE'], [DEACTIVATE]: ['INACTIVE'] });
  });

  it('no-entry-ids: plan and apply fail safe (exit 1) with a clear error and change nothing', async () => {
    const r = await planAndApply('no-entry-ids');
    for (const run of [r.plan, r.apply]) {
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/bunq lists the whitelist entries without ids, so no entry can be changed safely/);
    }
    expect(r.after).toEqual({ [OUR_IP]: ['ACTIVE'], [REACTIVATE]: ['INACTIVE'], [DEACTIVATE]: ['ACTIVE'] });
  });

  it('reactivation-refused: apply fails (exit 1) naming the IP that only the app can bring back, no duplicate', async () => {
    const r = await planAndApply('reactivation-refused');
    expect(r.plan.code).toBe(2);
    expect(r.apply.code).toBe(1);
    expect(r.apply.stdout + r.apply.stderr).toContain(REACTIVATE);
    expect(r.apply.stdout + r.apply.stderr).toMatch(/ip-refused/);
    expect(r.after).toEqual({ ...CONVERGED, [REACTIVATE]: ['INACTIVE'] });
  });
});
