/**
 * What the property tests share: one bunq emulator and one real bunq client (real HTTP, signing,
 * pagination, retries, client-side rate limiter) driven by one ManualClock, so bunq's 3-second
 * windows and the retry back-offs cost no wall-clock time; plus the scenario generators.
 */
import fc from 'fast-check';
import { ROUTES, startEmulator, type BunqEmulator, type Fault, type FaultRule } from '../../emulator';
import { BunqClient, createContext, RateLimiter, whitelistPort } from '../../lambdas/bunq';
import { activeConcreteIps } from '../../lambdas/core/actual';
import type { ActualEntry, CredentialConfig, DesiredItem, WhitelistPort } from '../../lambdas/core/types';
import { ManualClock } from '../support/manual-clock';

export const RUNS = Math.max(1, Number.parseInt(process.env.PROPERTY_RUNS ?? '1000', 10) || 1000);
export const SEED = process.env.PROPERTY_SEED === undefined ? undefined : Number.parseInt(process.env.PROPERTY_SEED, 10);
export const PROPERTY_TIMEOUT_MS = Math.max(600_000, RUNS * 600);

/** fast-check parameters: the seed is printed on failure and replayable through PROPERTY_SEED. */
export function params<T>(): fc.Parameters<T> {
  return { numRuns: RUNS, ...(SEED === undefined || Number.isNaN(SEED) ? {} : { seed: SEED }), endOnFailure: false };
}

export interface Harness {
  emu: BunqEmulator;
  clock: ManualClock;
  credentialId: number;
  /** A client with the default timeout: runs without faults never see a spurious timeout. */
  port: WhitelistPort;
  /** A client with a short timeout, for runs with faults ("apply, then reply too late"). */
  faultyPort: WhitelistPort;
  close(): Promise<void>;
}

/** Real time: the emulator's delay faults sleep on real timers. */
export const FAULTY_CLIENT_TIMEOUT_MS = 100;

export async function startHarness(): Promise<Harness> {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  // IP enforcement off: the scenarios switch entries off freely, including the caller's own
  // (the guards protect real deployments through protectedIps, covered by the unit tests).
  const emu = await startEmulator({ clock, enforceIpWhitelist: false, seed: 7 });
  const { apiKey, credentialId } = emu.createUser();
  const context = await createContext({
    apiKey,
    environment: 'SANDBOX',
    baseUrl: emu.url,
    deviceDescription: 'core property tests',
    clock,
  });
  // Both clients act from one IP, so they share one limiter, as the client's docs ask.
  const limiter = new RateLimiter({ clock });
  const client = new BunqClient({ context, clock, limiter, random: () => 0.5 });
  const faulty = new BunqClient({ context, clock, limiter, timeoutMs: FAULTY_CLIENT_TIMEOUT_MS, random: () => 0.5 });
  return {
    emu,
    clock,
    credentialId,
    port: whitelistPort(client, credentialId),
    faultyPort: whitelistPort(faulty, credentialId),
    close: () => emu.close(),
  };
}

/**
 * The IP the emulator sees these runs call from (its whitelist check is off here; the lock-out
 * property test turns it on). Outside POOL. bunq answers only a caller it lists ACTIVE (else the
 * run counts its claimed IP as wrong and holds every deactivation), so arrange() lists it ACTIVE
 * and undesired: the caller-ip guard holds its own deactivation, never-empty does not count it.
 */
export const CALLER_IPS: readonly string[] = ['127.0.0.1'];

export const POOL = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6'] as const;
const INVALID_VALUES: unknown[] = ['10.0.0.01', '*', '10.0.0.1/32', '::ffff:10.0.0.1', '10.0.0', '', 42, '10.0.0.1.'];

export interface Scenario {
  entries: Array<{ ip: string; status: 'ACTIVE' | 'INACTIVE' }>;
  desired: Array<{ kind: 'valid'; ip: string; padded: boolean; expiry: 'none' | 'past' | 'future' } | { kind: 'invalid'; value: unknown }>;
  mode: CredentialConfig['mode'];
  maxDeactivationsPerRun: number;
  protectedIps: string[];
  /** The bunq answers the emulator plays for this case (the two that change re-activation). */
  profiles: Array<'reactivation-refused' | 'duplicate-post-accepted'>;
}

const arbEntry = fc.record({
  ip: fc.oneof({ weight: 15, arbitrary: fc.constantFrom(...POOL) }, { weight: 1, arbitrary: fc.constant('*') }),
  status: fc.constantFrom<'ACTIVE' | 'INACTIVE'>('ACTIVE', 'INACTIVE'),
});

const arbDesired = fc.oneof(
  {
    weight: 14,
    arbitrary: fc.record({
      kind: fc.constant<'valid'>('valid'),
      ip: fc.constantFrom(...POOL),
      padded: fc.boolean(),
      expiry: fc.constantFrom<'none' | 'past' | 'future'>('none', 'none', 'none', 'none', 'past', 'future'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant<'invalid'>('invalid'), value: fc.constantFrom(...INVALID_VALUES) }) },
);

export const arbScenario: fc.Arbitrary<Scenario> = fc.record({
  entries: fc.array(arbEntry, { maxLength: 12 }),
  desired: fc.array(arbDesired, { maxLength: 8 }),
  mode: fc.constantFrom<CredentialConfig['mode']>('enforce', 'enforce', 'enforce', 'enforce', 'additive', 'observe'),
  maxDeactivationsPerRun: fc.integer({ min: 0, max: 6 }),
  protectedIps: fc.subarray([...POOL], { maxLength: 2 }),
  profiles: fc.subarray<'reactivation-refused' | 'duplicate-post-accepted'>(['reactivation-refused', 'duplicate-post-accepted']),
});

/** The emulator's faults without real-time waits (the delay faults are drawn separately, rarely). */
export const FAULTS: Fault[] = [
  { type: 'status', status: 500 },
  { type: 'status', status: 503 },
  { type: 'status', status: 429 },
  { type: 'status', status: 400, description: 'Injected refusal.' },
  { type: 'drop' },
  { type: 'apply-then-status', status: 500 },
  { type: 'apply-then-status', status: 503 },
  { type: 'apply-then-drop' },
  { type: 'bad-signature' },
  { type: 'no-signature' },
  { type: 'garbage-body' },
];

const arbFaultRule: fc.Arbitrary<FaultRule> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT'),
    nth: fc.integer({ min: 1, max: 4 }),
    times: fc.integer({ min: 1, max: 3 }),
    fault: fc.oneof(
      { weight: 80, arbitrary: fc.constantFrom(...FAULTS) },
      // Applied, then the reply comes after the client's timeout: a real (short) wait, so rare.
      { weight: 1, arbitrary: fc.constant<Fault>({ type: 'apply-then-delay', ms: FAULTY_CLIENT_TIMEOUT_MS + 50 }) },
    ),
  })
  .map((r) => ({ ...r, route: r.method === 'PUT' ? ROUTES.ip : ROUTES.ipList }));

export const arbFaults = fc.array(arbFaultRule, { minLength: 1, maxLength: 3 });

const DAY_S = 86_400;

export function desiredItems(s: Scenario, nowMs: number): DesiredItem[] {
  return s.desired.map((d, i) => {
    if (d.kind === 'invalid') return { entry: `ip#invalid-${i}`, ip: d.value };
    const item: DesiredItem = { entry: `ip#${d.ip}`, ip: d.padded ? ` ${d.ip} ` : d.ip };
    if (d.expiry !== 'none') item.expiresAt = Math.floor(nowMs / 1000) + (d.expiry === 'past' ? -DAY_S : DAY_S);
    return item;
  });
}

export function configOf(s: Scenario): CredentialConfig {
  return {
    credential: 'prop',
    userId: 1,
    credentialPasswordIpId: 1,
    secretName: 'unused',
    mode: s.mode,
    maxDeactivationsPerRun: s.maxDeactivationsPerRun,
    protectedIps: s.protectedIps,
  };
}

/** Puts the scenario into the emulator and forgets everything from the previous case. */
export function arrange(h: Harness, s: Scenario): void {
  h.emu.faults.clear();
  h.emu.config.profiles = new Set(s.profiles);
  h.emu.replaceIpEntries(h.credentialId, [{ ip: CALLER_IPS[0]!, status: 'ACTIVE' }, ...s.entries]);
  h.emu.clearRequestLog();
}

/** The credential's entries as bunq holds them, straight from the emulator's state (no HTTP). */
export function snapshot(h: Harness): ActualEntry[] {
  return h.emu.listIpEntries(h.credentialId).map((e) => ({ id: e.id, ip: e.ip, status: e.status, created: e.created }));
}

/** Refused re-activation plus refused duplicate POST: bunq offers no way to re-enable such an IP. */
export function reactivationImpossible(s: Scenario): boolean {
  return s.profiles.includes('reactivation-refused') && !s.profiles.includes('duplicate-post-accepted');
}

export interface SafetyViolation {
  rule: string;
  detail: string;
}

/** The safety rules of one run, judged on the whitelist before and after it. */
export function safetyViolations(before: ActualEntry[], after: ActualEntry[], s: Scenario): SafetyViolation[] {
  const out: SafetyViolation[] = [];
  const beforeById = new Map(before.map((e) => [e.id, e]));
  if (activeConcreteIps(before).size > 0 && activeConcreteIps(after).size === 0) {
    out.push({ rule: 'never-empty', detail: 'the run left no ACTIVE IPv4 entry' });
  }
  const deactivated = after.filter((e) => e.status === 'INACTIVE' && beforeById.get(e.id)?.status === 'ACTIVE');
  for (const e of deactivated) {
    if (s.protectedIps.includes(e.ip)) out.push({ rule: 'protected-ip', detail: `entry ${e.id} (${e.ip}) deactivated` });
  }
  for (const e of before.filter((x) => x.ip === '*')) {
    const now = after.find((x) => x.id === e.id);
    if (now?.status !== e.status) out.push({ rule: 'wildcard', detail: `entry ${e.id} changed` });
  }
  if (after.some((e) => e.ip === '*' && !beforeById.has(e.id))) out.push({ rule: 'wildcard', detail: 'a `*` was added' });
  const created = after.filter((e) => !beforeById.has(e.id));
  const createdPerIp = new Map<string, number>();
  for (const e of created) createdPerIp.set(e.ip, (createdPerIp.get(e.ip) ?? 0) + 1);
  for (const [ip, n] of createdPerIp) {
    if (n > 1) out.push({ rule: 'second-entry', detail: `${ip} got ${n} new entries in one run` });
    if (before.some((e) => e.ip === ip && e.status === 'ACTIVE')) {
      out.push({ rule: 'second-entry', detail: `${ip} got a new entry although it already had an ACTIVE one` });
    }
  }
  const concreteDeactivations = deactivated.filter((e) => e.ip !== '*').length;
  const limit = s.mode === 'enforce' ? s.maxDeactivationsPerRun : 0;
  if (concreteDeactivations > limit) {
    out.push({ rule: 'max-deactivations', detail: `${concreteDeactivations} deactivations, limit ${limit} (${s.mode})` });
  }
  if (s.mode === 'observe' && (created.length > 0 || after.some((e) => beforeById.get(e.id)?.status !== e.status))) {
    out.push({ rule: 'observe', detail: 'observe mode changed the whitelist' });
  }
  return out;
}

/** bunq calls on the whitelist endpoints since the request log was last cleared. */
export function ipCalls(h: Harness): { reads: number; writes: number } {
  let reads = 0;
  let writes = 0;
  for (const r of h.emu.requests) {
    if (r.route === ROUTES.ipList && r.method === 'GET') reads++;
    else if ((r.route === ROUTES.ipList && r.method === 'POST') || (r.route === ROUTES.ip && r.method === 'PUT')) writes++;
  }
  return { reads, writes };
}
