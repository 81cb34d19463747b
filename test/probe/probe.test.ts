import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EMULATOR_PROFILES, ROUTES, startEmulator, type BunqEmulator, type EmulatorProfile } from '../../emulator';
import { generateClientKeyPair, nodeTransport, type RsaKeyPairPem, type Transport } from '../../lambdas/bunq';
import { ManualClock } from '../support/manual-clock';
import { main } from '../../cli/main';
import type { CliIo } from '../../cli/io';
import { QUESTIONS } from '../../cli/probe/questions';
import { runProbe, type ProbeReport } from '../../cli/probe/run-probe';

// `bunq-ip probe` against the emulator under each profile: the probe must name exactly that profile
// for its question and `default` for every other. The emulator and the probe share a ManualClock,
// so bunq's real windows (3 s, 30 s, a 1 h session) pass instantly, and a reply the emulator holds
// back under slow-instead-of-429 takes exactly the held time on that clock.

let keyPair: RsaKeyPairPem;
let emu: BunqEmulator | undefined;
/** Every token and API key that went over the wire in the last probe. */
const seenSecrets = new Set<string>();

/** The real transport, noting the tokens sent and the API keys minted. */
const recordingTransport: Transport = async (request) => {
  const token = request.headers['X-Bunq-Client-Authentication'];
  if (token !== undefined) seenSecrets.add(token);
  const body = request.body?.toString('utf8');
  if (body !== undefined) for (const m of body.matchAll(/"secret":"([^"]+)"/g)) if (m[1]) seenSecrets.add(m[1]);
  return nodeTransport()(request);
};

beforeAll(async () => {
  keyPair = await generateClientKeyPair();
});
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function probe(profiles: EmulatorProfile[], long: boolean): Promise<ProbeReport> {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  emu = await startEmulator({ clock, profiles });
  seenSecrets.clear();
  return runProbe({ baseUrl: emu.url, clock, keyPair, long, transport: recordingTransport });
}

function answers(report: ProbeReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.id, c.answer]));
}

const checkOf = (profile: EmulatorProfile): string => QUESTIONS.find((q) => q.profile === profile)?.id ?? '';

describe('bunq-ip probe against the emulator', () => {
  it('names one check per question, ids and profiles as in the issue', () => {
    expect(QUESTIONS.map((q) => q.profile).sort()).toEqual([...EMULATOR_PROFILES].sort());
  });

  it('default: every answer is default, the observations are filled, no secret in the report', async () => {
    const report = await probe([], true);
    expect(answers(report)).toEqual(Object.fromEntries(QUESTIONS.map((q) => [q.id, 'default'])));
    expect(report.profiles).toEqual([]);
    expect(report.notRun).toEqual([]);
    const obs = Object.fromEntries(report.observations.map((o) => [o.id, o]));
    expect(Object.keys(obs).sort()).toEqual([
      'delete-session', 'post-cidr', 'post-ipv6', 'post-wildcard', 'post-without-status', 'request-id-reuse',
      'session-server-invalid-signature', 'session-server-missing-signature', 'session-timeout',
    ]);
    expect(obs['post-without-status']?.summary).toBe('HTTP 200; the entry reads back as ACTIVE');
    expect(obs['post-ipv6']?.summary).toMatch(/^HTTP 400: IPv6 addresses are not supported/);
    expect(obs['session-server-missing-signature']?.evidence).toMatchObject({ status: 466 });
    expect(obs['session-server-invalid-signature']?.evidence).toMatchObject({ status: 401, texts: ['The request signature is invalid.'] });
    expect(obs['delete-session']?.summary).toBe('HTTP 200: {"Response":[]}');
    expect(obs['session-timeout']?.evidence).toEqual({ sessionTimeoutSeconds: 3600 });
    const rate = report.checks.find((c) => c.id === 'rate-limit');
    expect(rate?.summary).toMatch(/^HTTP 429 at call 4: Too many requests/);
    expect(rate?.evidence).toMatchObject({ calls: 4 });
    const text = JSON.stringify(report);
    expect(seenSecrets.size).toBeGreaterThan(4);
    for (const secret of seenSecrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/PRIVATE KEY/);
  });

  it.each(EMULATOR_PROFILES.filter((p) => p !== 'fixed-session-expiry'))(
    'profile %s: the probe names it for its check and default for the others',
    async (profile) => {
      const report = await probe([profile], false);
      const expected = Object.fromEntries(
        QUESTIONS.filter((q) => q.id !== 'session-expiry').map((q) => [q.id, q.profile === profile ? profile : 'default']),
      );
      expect(answers(report)).toEqual(expected);
      expect(report.profiles).toEqual([profile]);
      expect(report.notRun).toEqual([{ id: 'session-expiry', reason: 'waits about one session_timeout; run with --long' }]);
      expect(report.checks.find((c) => c.id === checkOf(profile))?.evidence).toBeDefined();
    },
  );

  it('profile fixed-session-expiry (--long): the probe names it for session-expiry and default for the others', async () => {
    const report = await probe(['fixed-session-expiry'], true);
    expect(answers(report)).toEqual(
      Object.fromEntries(QUESTIONS.map((q) => [q.id, q.profile === 'fixed-session-expiry' ? 'fixed-session-expiry' : 'default'])),
    );
    const expiry = report.checks.find((c) => c.id === 'session-expiry');
    expect(expiry?.evidence).toMatchObject({ sessionTimeoutSeconds: 3600, timeline: [{ status: 200 }, { status: 200 }, { status: 401 }] });
  });

  it('profiles combine: each check names its own', async () => {
    const report = await probe(['no-entry-ids', 'errors-unsigned', 'duplicate-post-accepted'], false);
    expect(report.profiles).toEqual(['no-entry-ids', 'duplicate-post-accepted', 'errors-unsigned']);
  });
});

describe('bunq-ip probe (the command)', () => {
  it('prints a pasteable report, and --json the same as data', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    emu = await startEmulator({ clock, profiles: ['reactivation-refused'] });
    const text = await cli(['probe', '--base-url', `${emu.url}/v1`], clock);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^bunq behaviour probe against http:\/\/127\.0\.0\.1:\d+$/m);
    expect(text.out).toMatch(/^ {2}reactivation +reactivation-refused +bunq refused INACTIVE → ACTIVE \(HTTP 400\)$/m);
    expect(text.out).toMatch(/^ {2}session-expiry +not run +waits about one session_timeout; run with --long$/m);
    expect(text.out).toContain('Play these answers locally: npm run emulator -- --profile reactivation-refused');
    expect(text.err).toMatch(/minting a sandbox user \(standard key\)/);

    const json = await cli(['probe', '--base-url', emu.url, '--json'], clock);
    const report = JSON.parse(json.out) as ProbeReport;
    expect(report.profiles).toEqual(['reactivation-refused']);
  });

  it('a step that fails stops the probe (exit 1), and what it learnt before is still reported', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    emu = await startEmulator({ clock });
    // The second registration (the wildcard key) fails.
    emu.faults.add({ method: 'POST', route: ROUTES.deviceServer, nth: 2, fault: { type: 'status', status: 500 } });
    const r = await cli(['probe', '--base-url', emu.url, '--json'], clock);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as ProbeReport;
    expect(report.stoppedBy).toMatch(/POST \/v1\/device-server/);
    expect(report.checks.map((c) => [c.id, c.answer])).toEqual([['standard-key-add', 'default']]);
  });

  it.each([
    ['https://api.bunq.com/v1', /probe runs against bunq's sandbox only, not https:\/\/api\.bunq\.com/],
    ['https://example.com', /sandbox only/],
    ['http://public-api.sandbox.bunq.com', /sandbox only|must use https/],
  ])('refuses %s before any call', async (url, message) => {
    const r = await cli(['probe', '--base-url', url], new ManualClock());
    expect(r.code).toBe(64);
    expect(r.err).toMatch(message);
  });
});

async function cli(argv: string[], clock: ManualClock): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    out: (t) => {
      out += `${t}\n`;
    },
    err: (t) => {
      err += `${t}\n`;
    },
    readStdin: () => Promise.resolve(''),
    prompt: () => Promise.resolve(''),
    stdinIsTTY: false,
    stdoutIsTTY: false,
    env: {},
  };
  const code = await main(argv, io, clock);
  return { code, out, err };
}
