import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, startEmulator, type BunqEmulator, type EmulatorProfile } from '../../emulator';
import { RateLimiter } from '../../lambdas/bunq';
import { reconcileCredential, type RunReport } from '../../lambdas/service/reconcile-credential';
import { ManualClock } from '../support/manual-clock';
import {
  ADD,
  createTables,
  DEACTIVATE,
  OUR_IP,
  REACTIVATE,
  seedCredential,
  whitelist,
  whitelistWrites,
  workerDeps,
  type ProfileCase,
  type Seeded,
  type Tables,
} from './world';

// The worker path (reconcileCredential: DesiredIps, ReconcileState and the context secret on moto,
// bunq played by the emulator) under every emulator profile, i.e. under every answer bunq might give
// to the open questions. Each test name carries the profile, so a failure says which bunq behaviour
// broke the product. Time is a ManualClock shared with the emulator.

let tables: Tables;
let emu: BunqEmulator | undefined;

beforeAll(async () => {
  tables = await createTables();
});
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

interface Run {
  emu: BunqEmulator;
  clock: ManualClock;
  seeded: Seeded;
  deps: ReturnType<typeof workerDeps>;
  /** One worker run; `callerIps` defaults to the IP the test calls the emulator from. */
  run(options?: { deadline?: number; callerIps?: readonly string[] }): Promise<RunReport>;
}

async function world(profiles: readonly ProfileCase[], options: { wildcard?: boolean } = {}): Promise<Run> {
  const clock = new ManualClock(Date.UTC(2026, 6, 1));
  const chosen = profiles.filter((p): p is EmulatorProfile => p !== 'default');
  const e = await startEmulator({ clock, profiles: chosen });
  emu = e;
  const limiter = new RateLimiter({ clock });
  const seeded = await seedCredential(tables, e, { clock, limiter, ...options });
  const deps = workerDeps(tables, seeded, clock, limiter);
  return {
    emu: e,
    clock,
    seeded,
    deps,
    run: (o = {}) =>
      reconcileCredential(
        deps,
        { credential: seeded.credential, reason: 'schedule', requestedAt: new Date(clock.now()).toISOString() },
        { callerIps: [OUR_IP], ...o },
      ),
  };
}

async function putDesired(w: Run, ip: string): Promise<void> {
  await tables.aws.dynamo.send(
    new PutItemCommand({ TableName: tables.desiredTable, Item: { credential: { S: w.seeded.credential }, entry: { S: `ip#${ip}` }, ip: { S: ip } } }),
  );
}

const CONVERGED = { [OUR_IP]: ['ACTIVE'], [REACTIVATE]: ['ACTIVE'], [DEACTIVATE]: ['INACTIVE'], [ADD]: ['ACTIVE'] };

/** Profiles under which a standard key's run converges exactly as by default. */
const CONVERGING: ProfileCase[] = [
  'default',
  'wildcard-unlisted',
  'duplicate-post-accepted',
  'errors-unsigned',
  'slow-instead-of-429',
  'fixed-session-expiry',
];

describe('worker path under every bunq answer', () => {
  it.each(CONVERGING)('%s: a standard key converges (add, re-activate, deactivate), then stays in sync', async (profile) => {
    const w = await world([profile]);
    // The stored session is gone at bunq: the first call is refused and the session renewed, also
    // when bunq does not sign the 401 (errors-unsigned).
    w.emu.expireSessions();
    const first = await w.run();
    expect(first).toMatchObject({ ok: true, outcome: 'converged', error: null });
    expect(whitelist(w.emu, w.seeded.credentialId)).toEqual(CONVERGED);
    const writes = whitelistWrites(w.emu).length;
    const second = await w.run();
    expect(second).toMatchObject({ ok: true, outcome: 'in-sync' });
    expect(whitelistWrites(w.emu)).toHaveLength(writes);
  });

  it.each(CONVERGING)('%s: a wildcard key converges and "*" is never touched', async (profile) => {
    const w = await world([profile], { wildcard: true });
    const report = await w.run();
    expect(report).toMatchObject({ ok: true, outcome: 'converged' });
    expect(whitelist(w.emu, w.seeded.credentialId)).toEqual({ ...CONVERGED, '*': ['ACTIVE'] });
    expect(w.emu.requests.some((r) => r.method === 'PUT' && r.status !== 200)).toBe(false);
  });

  describe('standard-key-cannot-add-ips', () => {
    it('standard-key-cannot-add-ips: a terminal error naming the cause and the remedy; the re-activation and deactivation still apply', async () => {
      const w = await world(['standard-key-cannot-add-ips']);
      await putDesired(w, '10.0.0.4');
      const report = await w.run();
      expect(report).toMatchObject({ ok: false, retry: false, outcome: 'partial', error: { kind: 'ip-add-not-permitted' } });
      expect(report.error?.message).toMatch(/registered without "\*"/);
      expect(report.error?.message).toMatch(/Remedy: create a wildcard API key .*then switch "\*" off in the bunq app/);
      expect(whitelist(w.emu, w.seeded.credentialId)).toEqual({ [OUR_IP]: ['ACTIVE'], [REACTIVATE]: ['ACTIVE'], [DEACTIVATE]: ['INACTIVE'] });
      // The first refusal speaks for the key: the second addition is not sent to meet the same one.
      expect(w.emu.requests.filter((r) => r.method === 'POST' && r.route === ROUTES.ipList)).toHaveLength(1);
      const status = await w.deps.state.readStatus(w.seeded.credential);
      expect(status?.error?.kind).toBe('ip-add-not-permitted');
    });

    it('standard-key-cannot-add-ips: the remedy works — a wildcard key with "*" switched off in the app adds IPs', async () => {
      const w = await world(['standard-key-cannot-add-ips'], { wildcard: true });
      const star = w.emu.listIpEntries(w.seeded.credentialId).find((e) => e.ip === '*');
      w.emu.setIpStatusAsApp(w.seeded.credentialId, star?.id ?? 0, 'INACTIVE');
      expect(await w.run()).toMatchObject({ ok: true, outcome: 'converged' });
      expect(whitelist(w.emu, w.seeded.credentialId)).toEqual({ ...CONVERGED, '*': ['INACTIVE'] });
    });
  });

  describe('wildcard-unlisted', () => {
    it.each<ProfileCase>(['default', 'wildcard-unlisted'])(
      '%s: with the caller IP unknown, only a "*" bunq lists lets the deactivation through',
      async (profile) => {
        const w = await world([profile], { wildcard: true });
        expect((await w.run({ callerIps: [] })).ok).toBe(true);
        expect(whitelist(w.emu, w.seeded.credentialId)[DEACTIVATE]).toEqual([profile === 'default' ? 'INACTIVE' : 'ACTIVE']);
      },
    );
  });

  describe('no-entry-ids', () => {
    it.each([false, true])('no-entry-ids: the run fails safe with a clear terminal error, no change at all (wildcard key: %s)', async (wildcard) => {
      const w = await world(['no-entry-ids'], { wildcard });
      const before = whitelist(w.emu, w.seeded.credentialId);
      const report = await w.run();
      expect(report).toMatchObject({ ok: false, retry: false, error: { kind: 'entry-ids-missing' } });
      expect(report.error?.message).toMatch(/lists the whitelist entries without ids.*never guess.*nothing was changed/);
      expect(whitelistWrites(w.emu)).toEqual([]);
      expect(whitelist(w.emu, w.seeded.credentialId)).toEqual(before);
    });
  });

  describe('reactivation-refused', () => {
    it('reactivation-refused: bunq refusing both PUT and a second entry — the IP fails for good, named; the rest applies, no duplicate', async () => {
      const w = await world(['reactivation-refused']);
      const report = await w.run();
      expect(report).toMatchObject({ ok: false, retry: false, error: { kind: 'ip-refused' } });
      expect(report.error?.message).toContain(REACTIVATE);
      expect(whitelist(w.emu, w.seeded.credentialId)).toEqual({ ...CONVERGED, [REACTIVATE]: ['INACTIVE'] });
    });

    it('reactivation-refused + duplicate-post-accepted: the IP comes back as a new entry', async () => {
      const w = await world(['reactivation-refused', 'duplicate-post-accepted']);
      expect(await w.run()).toMatchObject({ ok: true, outcome: 'converged' });
      expect(whitelist(w.emu, w.seeded.credentialId)).toEqual({ ...CONVERGED, [REACTIVATE]: ['INACTIVE', 'ACTIVE'] });
    });
  });

  describe('duplicate-post-accepted', () => {
    it('duplicate-post-accepted: a POST whose reply is lost is confirmed by a re-read, never POSTed again', async () => {
      const w = await world(['duplicate-post-accepted']);
      w.emu.faults.add({ method: 'POST', route: ROUTES.ipList, fault: { type: 'apply-then-drop' } });
      expect(await w.run()).toMatchObject({ ok: true, outcome: 'converged' });
      expect(whitelist(w.emu, w.seeded.credentialId)).toEqual(CONVERGED);
      expect(w.emu.requests.filter((r) => r.method === 'POST' && r.route === ROUTES.ipList)).toHaveLength(1);
    });
  });

  describe('slow-instead-of-429', () => {
    // bunq's real limits are tighter than our client-side table here, so bunq holds our calls.
    const tight = [
      { method: 'GET', limit: 1, windowMs: 3000 },
      { method: 'POST', limit: 1, windowMs: 3000 },
      { method: 'PUT', limit: 1, windowMs: 3000 },
    ];

    it('slow-instead-of-429: held replies, no 429, and the run converges before its deadline', async () => {
      const w = await world(['slow-instead-of-429']);
      w.emu.config.rateLimits = tight;
      const deadline = w.clock.now() + 60_000;
      expect(await w.run({ deadline })).toMatchObject({ ok: true, outcome: 'converged' });
      expect(w.emu.requests.some((r) => (r.slowedMs ?? 0) > 0)).toBe(true);
      expect(w.emu.requests.some((r) => r.status === 429)).toBe(false);
      expect(w.clock.now()).toBeLessThanOrEqual(deadline);
    });

    it('slow-instead-of-429: with a tight deadline the run stops itself, recorded (the schedule retries), instead of overrunning', async () => {
      const w = await world(['slow-instead-of-429']);
      w.emu.config.rateLimits = tight;
      const deadline = w.clock.now() + 2_000;
      const report = await w.run({ deadline });
      // Recorded, so acknowledged: the next scheduled run is the retry (issue 12).
      expect(report).toMatchObject({ ok: false, retry: false, error: { kind: 'deadline' } });
      // Nothing is started after the deadline: at most the one call in flight finishes after it.
      expect(w.clock.now()).toBeLessThanOrEqual(deadline + 3000);
      expect((await w.deps.state.readStatus(w.seeded.credential))?.error?.kind).toBe('deadline');
    });
  });

  describe('fixed-session-expiry', () => {
    it('fixed-session-expiry: runs spread over more than a session_timeout never meet an expired session', async () => {
      const w = await world(['fixed-session-expiry']);
      for (let i = 0; i < 3; i++) {
        expect((await w.run()).ok).toBe(true);
        w.clock.advance(35 * 60_000);
      }
      expect(w.emu.requests.filter((r) => r.status === 401)).toEqual([]);
      expect(w.emu.requests.filter((r) => r.route === ROUTES.sessionServer).length).toBeGreaterThanOrEqual(2);
    });
  });
});
