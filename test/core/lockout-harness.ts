/**
 * The world of the lock-out property test (lockout.property.test.ts): the bunq emulator with its IP
 * whitelist enforced (it knows each caller's IP from the TCP peer), the operator's tools as they
 * ship (cli/bootstrap-service.ts, the DesiredIps writer) and the reconcile service as the worker and
 * a local `apply` run it (`reconcileCredential` with the real bunq client over HTTP).
 *
 * Two callers with distinct loopback source addresses: the worker (WORKER_IP, what EGRESS_IPS says
 * in AWS) and the operator's machine (CLI_IP: bootstrap, desired edits, CLI-local runs).
 *
 * Stores: DesiredIps and ReconcileState on dynalite (in process), the secret in memory. moto would
 * work the same (the integration tests use it), but a history makes ~20 table calls and the CI
 * budget is a few hundred histories in well under a minute on a loaded 2-core machine; dynalite
 * answers in-process without moto's per-request overhead. One emulator, one dynalite for all
 * histories; each history gets a new bunq user and a new credential name.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { DesiredWriter } from '../../cli/adapters/desired-writer';
import { bootstrapCredential, type BootstrapDeps } from '../../cli/bootstrap-service';
import { startLocalDynamo, type LocalDynamo } from '../../demo/local-dynamodb';
import { MemoryContextStore } from '../../demo/memory-context-store';
import { ROUTES, startEmulator, type BunqEmulator, type Fault, type FaultRule, type RequestLogEntry } from '../../emulator';
import { CredentialOwners } from '../../lambdas/aws/credential-owner';
import { DesiredStore } from '../../lambdas/aws/desired-store';
import type { MetricPoint, RunMetrics } from '../../lambdas/aws/metrics';
import { StateStore, type RunRecord } from '../../lambdas/aws/state-store';
import { generateClientKeyPair, nodeTransport, RateLimiter, silentLogger, type CallOptions, type RsaKeyPairPem, type Transport } from '../../lambdas/bunq';
import { approveIfUnchanged } from '../../lambdas/core/approval';
import { activeConcreteIps, wildcardCovers } from '../../lambdas/core/actual';
import { plan } from '../../lambdas/core/plan';
import type { ActualEntry, CredentialConfig, Operation } from '../../lambdas/core/types';
import { RUN_DEADLINE_MARGIN_MS, runDeadline } from '../../lambdas/handlers/run-deadline';
import { reconcileCredential, withRecordedWorkerIps, type RunReport, type WorkerDeps } from '../../lambdas/service/reconcile-credential';
import { ManualClock } from '../support/manual-clock';
// 500, 503, 429, a 400 refusal (an IP bunq refuses for good, or a refused GET), dropped connections,
// applied-then-failed writes, bad or missing signatures, garbage bodies.
import { FAULTS } from './property-harness';

export const WORKER_IP = '127.0.0.2';
export const CLI_IP = '127.0.0.3';
export const POOL = ['203.0.113.1', '203.0.113.2', '203.0.113.3'] as const;
/**
 * A well-formed caller IP that is wrong: a stale EGRESS_IPS, a checkip answer from behind a proxy
 * or a VPN, a BUNQ_IP_CALLER_IPS left on a moved CI runner. Never any real caller's address.
 */
export const WRONG_IP = '198.51.100.250';
const IPS = [...POOL, WORKER_IP, CLI_IP] as const;
const PREFIX = 'bunq-ip-reconciler/';
const DESIRED_TABLE = 'DesiredIps';
const STATE_TABLE = 'ReconcileState';

export type Who = 'worker' | 'cli';
/** What a run believes its caller IP is: right, unknown (no EGRESS_IPS, checkip failed), or wrong. */
export type Knows = 'yes' | 'no' | 'wrong';

// ---------------------------------------------------------------------------------------------
// Histories

export interface BootstrapVariant {
  /** IPs bound at device registration: `none` lets bunq bind the calling IP (the operator's). */
  permitted: 'worker' | 'both' | 'none' | 'worker+pool';
  /**
   * `bound`: the bound IPs are protected and declared (what `bootstrap` does by default); `none`:
   * the operator opted out with `--no-protect-bound-ips`, nothing protected.
   */
  protect: 'bound' | 'none';
  allowAllIps: boolean;
  mode: CredentialConfig['mode'];
  maxDeactivationsPerRun: number;
  /** An IP someone made ACTIVE in the app before onboarding (an existing credential). */
  preexisting: boolean;
  /** `bootstrap --adopt`: every IP ACTIVE at bunq is declared desired. */
  adopt: boolean;
  /**
   * A second name bootstrapped for the same API key: `refused` without --force (must throw, naming
   * the first); `forced` with --force (the twin owns the credential from then on, the first config
   * is retired and its runs call nothing).
   */
  twin: 'none' | 'refused' | 'forced';
}

export type Expiry = 'none' | 'future' | 'past' | 'date-typo' | 'duration';
export type OddKey = 'upper' | 'bare' | 'space' | 'other';

export type Step =
  | { kind: 'desired-put'; ip: string; expiry: Expiry }
  | { kind: 'desired-remove'; ip: string }
  | { kind: 'desired-clear' }
  | { kind: 'desired-odd'; key: OddKey; ip: string }
  | { kind: 'app-add'; ip: string; status: 'ACTIVE' | 'INACTIVE' }
  | { kind: 'app-flip'; pick: number }
  | { kind: 'app-wildcard'; status: 'ACTIVE' | 'INACTIVE' }
  /** `deadline`: a worker run's (a CLI-local run has none, as `bunq-ip apply` passes none). */
  | { kind: 'run'; who: Who; knows: Knows; faults: FaultRule[]; deadline: RunDeadline }
  | { kind: 'overlap'; workerKnows: Knows; cliKnows: Knows; faults: FaultRule[]; deadline: RunDeadline }
  /** `bunq-ip plan` then `apply` from the operator's machine: the apply carries the confirmed operations. */
  | { kind: 'confirmed-apply'; knows: Knows; faults: FaultRule[] };

/**
 * How much time a worker run has for bunq, as the worker derives its deadline (run-deadline.ts:
 * the invocation's remaining time less the margin), on the world's clock. That clock moves only
 * through the client's own waits (rate-limit slots, back-offs, a 429's named window) and by
 * CALL_LATENCY_MS per bunq request, so each variant fires at a chosen place:
 * - `past`: less time left than the margin; the run must start no bunq call and still record.
 * - `calls`: the deadline comes while request `calls + 1` is in flight, with half a latency of
 *   its timeout left: a delayed reply there times out (a write may have been applied).
 * - `wait`: the time is used up inside a client wait (a 4th GET's rate-limit slot, a 429 naming
 *   60 s, a back-off) or between calls.
 */
export type RunDeadline = { kind: 'none' } | { kind: 'past' } | { kind: 'calls'; calls: number } | { kind: 'wait'; ms: number };

/** Clock ms one bunq request takes (the transport adds it when the exchange ends). */
export const CALL_LATENCY_MS = 50;
/** Real ms a delayed reply takes: longer than the timeout left to a request the deadline cuts. */
export const DELAY_MS = 40;

/** The deadline the worker would pass to reconcileCredential now, or none. */
export function deadlineAt(nowMs: number, d: RunDeadline): number | undefined {
  if (d.kind === 'none') return undefined;
  const forBunq = d.kind === 'past' ? -1 : d.kind === 'calls' ? d.calls * CALL_LATENCY_MS + CALL_LATENCY_MS / 2 : d.ms;
  return runDeadline(nowMs, RUN_DEADLINE_MARGIN_MS + forBunq);
}

export type RunStep = Extract<Step, { kind: 'run' | 'overlap' | 'confirmed-apply' }>;

export function isRunStep(step: Step): step is RunStep {
  return step.kind === 'run' || step.kind === 'overlap' || step.kind === 'confirmed-apply';
}

export interface History {
  bootstrap: BootstrapVariant;
  /** The bunq answers the emulator plays (emulator/profiles.ts). */
  profiles: Array<'duplicate-post-accepted'>;
  steps: Step[];
}


/** bunq's 429 naming its window: the client waits the window (60 s) before the retry, unless the deadline comes first. */
export const RATE_LIMITED_60S: Fault = { type: 'status', status: 429, description: 'Too many requests. You can do a maximum of 3 calls per 60 seconds to this endpoint.' };

const arbFaultRule: fc.Arbitrary<FaultRule> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT'),
    nth: fc.integer({ min: 1, max: 3 }),
    times: fc.integer({ min: 1, max: 2 }),
    fault: fc.oneof(
      { weight: 20, arbitrary: fc.constantFrom(...FAULTS) },
      { weight: 3, arbitrary: fc.constant(RATE_LIMITED_60S) },
      // Real waits, so rare: a reply that outlasts a request's timeout cut to the deadline.
      { weight: 1, arbitrary: fc.constantFrom<Fault>({ type: 'delay', ms: DELAY_MS }, { type: 'apply-then-delay', ms: DELAY_MS }) },
    ),
  })
  .map((r) => ({ ...r, route: r.method === 'PUT' ? ROUTES.ip : ROUTES.ipList }));

const arbFaults = fc.oneof({ weight: 3, arbitrary: fc.constant<FaultRule[]>([]) }, { weight: 2, arbitrary: fc.array(arbFaultRule, { minLength: 1, maxLength: 2 }) });
const arbIp = fc.constantFrom(...IPS);
const arbDeadline: fc.Arbitrary<RunDeadline> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<RunDeadline>({ kind: 'none' }) },
  { weight: 1, arbitrary: fc.constant<RunDeadline>({ kind: 'past' }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('calls' as const), calls: fc.integer({ min: 0, max: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.constantFrom(1_000, 3_000, 10_000, 59_000) }) },
);
const arbKnows: fc.Arbitrary<Knows> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Knows>('yes') },
  { weight: 1, arbitrary: fc.constant<Knows>('no') },
  { weight: 1, arbitrary: fc.constant<Knows>('wrong') },
);

const arbStep: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('desired-put' as const), ip: arbIp, expiry: fc.constantFrom<Expiry>('none', 'none', 'none', 'future', 'past', 'date-typo', 'duration') }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('desired-remove' as const), ip: arbIp }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('desired-clear' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('desired-odd' as const), key: fc.constantFrom<OddKey>('upper', 'bare', 'space', 'other'), ip: arbIp }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('app-add' as const), ip: fc.constantFrom(...POOL), status: fc.constantFrom<'ACTIVE' | 'INACTIVE'>('ACTIVE', 'INACTIVE') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('app-flip' as const), pick: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('app-wildcard' as const), status: fc.constantFrom<'ACTIVE' | 'INACTIVE'>('ACTIVE', 'INACTIVE') }) },
  {
    weight: 5,
    arbitrary: fc
      .record({ kind: fc.constant('run' as const), who: fc.constantFrom<Who>('worker', 'worker', 'cli'), knows: arbKnows, faults: arbFaults, deadline: arbDeadline })
      .map((s) => (s.who === 'cli' ? { ...s, deadline: { kind: 'none' as const } } : s)),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('overlap' as const), workerKnows: arbKnows, cliKnows: arbKnows, faults: arbFaults, deadline: arbDeadline }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('confirmed-apply' as const), knows: arbKnows, faults: arbFaults }) },
);

export const arbHistory: fc.Arbitrary<History> = fc.record({
  bootstrap: fc.record({
    permitted: fc.constantFrom<BootstrapVariant['permitted']>('worker', 'worker', 'both', 'none', 'worker+pool'),
    protect: fc.constantFrom<BootstrapVariant['protect']>('bound', 'none'),
    allowAllIps: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    mode: fc.constantFrom<CredentialConfig['mode']>('enforce', 'enforce', 'enforce', 'enforce', 'additive', 'observe'),
    maxDeactivationsPerRun: fc.integer({ min: 1, max: 5 }),
    preexisting: fc.boolean(),
    adopt: fc.boolean(),
    twin: fc.constantFrom<BootstrapVariant['twin']>('none', 'none', 'none', 'refused', 'forced'),
  }),
  profiles: fc.constantFrom<Array<'duplicate-post-accepted'>>([], [], ['duplicate-post-accepted']),
  steps: fc.array(arbStep, { minLength: 1, maxLength: 8 }),
});

// ---------------------------------------------------------------------------------------------
// The world

const noMetrics: RunMetrics = { publish: (_credential: string, _points: MetricPoint[]) => undefined };

export interface LockoutWorld {
  emu: BunqEmulator;
  clock: ManualClock;
  dynamo: LocalDynamo;
  contexts: MemoryContextStore;
  desired: DesiredStore;
  writer: DesiredWriter;
  state: StateStore;
  keyPair: RsaKeyPairPem;
  /** Every bunq exchange: real HTTP, then CALL_LATENCY_MS on the clock. */
  transport: Transport;
  close(): Promise<void>;
}

/**
 * Real HTTP, then the exchange's time on the clock (the ManualClock does not move by itself): a
 * deadline can then come between two calls or while one is in flight, as it does at bunq.
 */
function clockedTransport(clock: ManualClock): Transport {
  const http = nodeTransport();
  return async (request) => {
    try {
      return await http(request);
    } finally {
      clock.advance(CALL_LATENCY_MS);
    }
  };
}

export async function startLockoutWorld(): Promise<LockoutWorld> {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  // Whitelist enforcement ON (the default): a run that switched off its own IP is refused next time.
  const emu = await startEmulator({ clock, rateLimits: false, seed: 10 });
  const dynamo = await startLocalDynamo([DESIRED_TABLE, STATE_TABLE]);
  return {
    emu,
    clock,
    dynamo,
    contexts: new MemoryContextStore(PREFIX),
    desired: new DesiredStore(dynamo.client, DESIRED_TABLE),
    writer: new DesiredWriter(dynamo.client, DESIRED_TABLE),
    state: new StateStore(dynamo.client, STATE_TABLE, 90),
    keyPair: await generateClientKeyPair(),
    transport: clockedTransport(clock),
    close: async () => {
      await dynamo.close();
      await emu.close();
    },
  };
}

/** One caller's bunq options: its own source address and rate limiter (bunq limits per IP). */
function callOptions(w: LockoutWorld, ip: string): Omit<CallOptions, 'clock' | 'logger'> {
  return { localAddress: ip, limiter: new RateLimiter({ clock: w.clock }), retry: { maxAttempts: 2, baseDelayMs: 10 }, random: () => 0.5, transport: w.transport };
}

export interface Credential {
  name: string;
  credentialId: number;
  config: CredentialConfig;
}

export function boundIps(v: BootstrapVariant): string[] {
  switch (v.permitted) {
    case 'worker':
      return [WORKER_IP];
    case 'both':
      return [WORKER_IP, CLI_IP];
    case 'worker+pool':
      return [WORKER_IP, POOL[0]];
    case 'none':
      return [CLI_IP]; // bunq binds the caller: the operator's machine
  }
}

let serial = 0;

/** `bunq-ip bootstrap` from the operator's machine, through the real bootstrap service. */
export async function bootstrap(w: LockoutWorld, v: BootstrapVariant): Promise<Credential> {
  const { apiKey, userId, credentialId } = w.emu.createUser();
  if (v.preexisting) w.emu.addIpEntryAsApp(credentialId, POOL[1], 'ACTIVE');
  const name = `lock${++serial}`;
  const bound = boundIps(v);
  const deps: BootstrapDeps = {
    secrets: w.contexts,
    desired: w.desired,
    writer: w.writer,
    owners: owners(w),
    chooseCredential: () => Promise.reject(new Error('one credential per user')),
    clock: w.clock,
    logger: silentLogger,
    // The bootstrap service passes these on to createContext; a shared key pair spares each history
    // ~100 ms of RSA key generation (the device registration, which the variants are about, is real).
    // bunq lets only bound IPs make session calls, so bootstrap runs from one of them (bootstrapping
    // from a machine whose IP is not bound fails at its first session call, at bunq as here).
    bunqOptions: { ...callOptions(w, bound.includes(CLI_IP) ? CLI_IP : WORKER_IP), keyPair: w.keyPair } as BootstrapDeps['bunqOptions'],
  };
  const options = (credential: string, force: boolean) => ({
    credential,
    apiKey,
    environment: 'SANDBOX' as const,
    baseUrl: w.emu.url,
    secretPrefix: PREFIX,
    permittedIps: v.permitted === 'none' ? [] : bound,
    allowAllIps: v.allowAllIps,
    policy: { mode: v.mode, maxDeactivationsPerRun: v.maxDeactivationsPerRun, protectedIps: v.protect === 'bound' ? bound : [] },
    force,
    // bootstrap protects the bound IPs by default; `none` is the operator's explicit opt-out.
    protectBoundIps: v.protect === 'bound',
    adopt: v.adopt,
  });
  const result = await bootstrapCredential(deps, options(name, false));
  if (result.credentialPasswordIpId !== credentialId) throw new Error('bootstrap picked another credential');
  if (v.twin === 'none') return { name, credentialId, config: w.desired.configOf(await w.desired.readCredential(name)) };

  // One owner per bunq credential: a second name is refused, naming the first, unless --force.
  const twin = `${name}-twin`;
  const refused = await bootstrapCredential(deps, options(twin, false)).then(
    () => 'accepted',
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
  if (!refused.includes(`already reconciled by credential "${name}"`)) throw new Error(`twin bootstrap not refused: ${refused}`);
  if (v.twin === 'refused') return { name, credentialId, config: w.desired.configOf(await w.desired.readCredential(name)) };
  await bootstrapCredential(deps, options(twin, true));
  const retired = await reconcileCredential(workerDeps(w, WORKER_IP), { credential: name, reason: 'schedule', requestedAt: new Date(w.clock.now()).toISOString() }, { callerIps: [WORKER_IP] });
  if (retired.outcome !== 'retired') throw new Error(`the retired config ${name} (user ${userId}) ran: ${retired.outcome}`);
  return { name: twin, credentialId, config: w.desired.configOf(await w.desired.readCredential(twin)) };
}

const DAY_S = 86_400;

export async function applyEdit(w: LockoutWorld, cred: Credential, step: Step): Promise<void> {
  const at = new Date(w.clock.now()).toISOString();
  const nowS = Math.floor(w.clock.now() / 1000);
  switch (step.kind) {
    case 'desired-put': {
      const expiresAt = { none: undefined, future: nowS + DAY_S, past: nowS - DAY_S, 'date-typo': 20261231, duration: 28800 }[step.expiry];
      await w.writer.putIp(cred.name, { ip: step.ip, ...(expiresAt !== undefined ? { expiresAt } : {}) }, at);
      return;
    }
    case 'desired-remove':
      await w.writer.removeEntry(cred.name, `ip#${step.ip}`);
      return;
    case 'desired-clear':
      for (const item of (await w.desired.readCredential(cred.name)).desired) await w.writer.removeEntry(cred.name, item.entry);
      return;
    case 'desired-odd': {
      const key = { upper: `IP#${step.ip}`, bare: step.ip, space: `ip ${step.ip}`, other: 'office' }[step.key];
      await w.dynamo.client.send(
        new PutItemCommand({ TableName: DESIRED_TABLE, Item: { credential: { S: cred.name }, entry: { S: key }, ip: { S: step.ip } } }),
      );
      return;
    }
    case 'app-add':
      w.emu.addIpEntryAsApp(cred.credentialId, step.ip, step.status);
      return;
    case 'app-flip': {
      const entries = w.emu.listIpEntries(cred.credentialId).filter((e) => e.ip !== '*');
      const e = entries[step.pick % Math.max(1, entries.length)];
      if (e) w.emu.setIpStatusAsApp(cred.credentialId, e.id, e.status === 'ACTIVE' ? 'INACTIVE' : 'ACTIVE');
      return;
    }
    case 'app-wildcard': {
      const wildcard = w.emu.listIpEntries(cred.credentialId).find((e) => e.ip === '*');
      if (wildcard) w.emu.setIpStatusAsApp(cred.credentialId, wildcard.id, step.status);
      else w.emu.addIpEntryAsApp(cred.credentialId, '*', step.status);
      return;
    }
    default:
      throw new Error(`not an edit: ${step.kind}`);
  }
}

/** dynalite has no TransactWriteItems: the owner claim and config are written one by one. */
function owners(w: LockoutWorld): CredentialOwners {
  return new CredentialOwners(w.dynamo.client, { stateTable: STATE_TABLE, desiredTable: DESIRED_TABLE }, false);
}

function workerDeps(w: LockoutWorld, ip: string): WorkerDeps {
  return {
    owners: owners(w),
    desired: w.desired,
    state: w.state,
    contexts: w.contexts,
    metrics: noMetrics,
    logger: silentLogger,
    clock: w.clock,
    bunqOptions: callOptions(w, ip),
  };
}

/**
 * One reconcile run through the service, as the worker (caller IPs from EGRESS_IPS, or none when
 * it is unset; it records them in the status item) or a CLI-local `apply` (its own public IP; the
 * service adds the worker's recorded IPs) runs it.
 */
export function runAs(
  w: LockoutWorld,
  cred: Credential,
  who: Who,
  knows: Knows = 'yes',
  extra: { confirmedOperations?: readonly Operation[]; deadline?: number } = {},
): Promise<RunReport> {
  const ip = realIp(who);
  const { confirmedOperations, deadline } = extra;
  return reconcileCredential(
    workerDeps(w, ip),
    { credential: cred.name, reason: RUN_REASON[who], requestedAt: new Date(w.clock.now()).toISOString() },
    {
      callerIps: claimedIps(who, knows),
      workerRun: who === 'worker',
      ...(confirmedOperations !== undefined ? { approve: approveIfUnchanged(confirmedOperations) } : {}),
      ...(deadline !== undefined ? { deadline } : {}),
    },
  );
}

/** The reason each caller's runs record (tells the two records of an overlap apart). */
export const RUN_REASON = { worker: 'schedule', cli: 'cli' } as const satisfies Record<Who, RunRecord['reason']>;

/** The IP the emulator sees a caller call from. */
export function realIp(who: Who): string {
  return who === 'worker' ? WORKER_IP : CLI_IP;
}

function claimedIps(who: Who, knows: Knows): string[] {
  return knows === 'yes' ? [realIp(who)] : knows === 'wrong' ? [WRONG_IP] : [];
}

/**
 * `bunq-ip plan`, then `apply` with the operations the operator confirmed: the plan as the CLI makes
 * it (its claimed IPs plus the worker's recorded ones, on a fresh read), then the service run that
 * refuses to act if its own plan differs. Undefined when the plan itself cannot reach bunq.
 */
export async function planThenApply(w: LockoutWorld, cred: Credential, knows: Knows, faults: readonly FaultRule[]): Promise<RunReport | undefined> {
  if (!canAuthenticate(snapshot(w, cred), CLI_IP)) return undefined;
  const state = await w.desired.readCredential(cred.name);
  const callerIps = await withRecordedWorkerIps(w.state, cred.name, claimedIps('cli', knows));
  const shown = plan(state.desired, snapshot(w, cred), w.desired.configOf(state), w.clock.now(), callerIps);
  for (const f of faults) w.emu.faults.add(f);
  return runAs(w, cred, 'cli', knows, { confirmedOperations: shown.operations });
}

export function snapshot(w: LockoutWorld, cred: Credential): ActualEntry[] {
  return w.emu.listIpEntries(cred.credentialId).map((e) => ({ id: e.id, ip: e.ip, status: e.status, created: e.created }));
}

/** Whether bunq lets `ip` call with this key: the emulator's own rule (ACTIVE entry or ACTIVE `*`). */
export function canAuthenticate(entries: readonly ActualEntry[], ip: string): boolean {
  return wildcardCovers(entries) || entries.some((e) => e.ip === ip && e.status === 'ACTIVE');
}

/** The operations the worker would still plan now (used for convergence). */
export async function remainingOperations(w: LockoutWorld, cred: Credential, callerIp: string): Promise<number> {
  const state = await w.desired.readCredential(cred.name);
  return plan(state.desired, snapshot(w, cred), w.desired.configOf(state), w.clock.now(), [callerIp]).operations.length;
}

/** Not a violation: see ownEntryViolations. */
export const STAR_COVERED_UNKNOWN_CALLER = 'star-covered-unknown-caller';

export interface Violation {
  step: number;
  rule: string;
  detail: string;
}

/** The entry a request PUT to, if it is a PUT of one entry. */
function putEntryId(r: RequestLogEntry): number | undefined {
  if (r.method !== 'PUT' || r.route !== ROUTES.ip) return undefined;
  const id = /\/ip\/(\d+)$/.exec(r.path.split('?')[0] ?? '')?.[1];
  return id === undefined ? undefined : Number(id);
}

/**
 * A run never switches off an entry of the IP it really calls from (the emulator knows each
 * request's source address), whatever it believed its IP was and whether or not an ACTIVE `*` lets
 * it in today: the app may close the `*` at any moment, and then that entry was its way in.
 *
 * One exception, the issue's own rule: a run that cannot tell its IP (or whose claim is wrong) may
 * deactivate while an ACTIVE `*` covers it ("holds every deactivation unless an ACTIVE `*` covers
 * it"), and then cannot know which entry is its own. Such a loss (`starCovered`: the real IPs of
 * those runs) is counted as rule `star-covered-unknown-caller`, reported apart, not a violation; see
 * docs/decisions.md, "Issue 10 (core): review follow-ups".
 */
export function ownEntryViolations(
  step: number,
  before: readonly ActualEntry[],
  after: readonly ActualEntry[],
  requests: readonly RequestLogEntry[],
  starCovered: ReadonlySet<string> = new Set(),
): Violation[] {
  const out: Violation[] = [];
  for (const r of requests) {
    if (r.status !== 200) continue;
    const id = putEntryId(r);
    if (id === undefined) continue;
    const was = before.find((e) => e.id === id);
    const now = after.find((e) => e.id === id);
    if (was?.ip === r.callerIp && was.status === 'ACTIVE' && now?.status === 'INACTIVE') {
      const rule = starCovered.has(r.callerIp) ? STAR_COVERED_UNKNOWN_CALLER : 'own-entry';
      out.push({ step, rule, detail: `the run calling from ${r.callerIp} switched off its own entry ${id}` });
    }
  }
  return out;
}

/**
 * The lock-out rules of one run step, judged on bunq's whitelist before and after it.
 * @param guarded the reconciler IPs that must keep access through this step
 */
export function lockoutViolations(
  step: number,
  before: readonly ActualEntry[],
  after: readonly ActualEntry[],
  guarded: readonly string[],
  runs: number,
  requests: readonly RequestLogEntry[] = [],
  starCovered: ReadonlySet<string> = new Set(),
): Violation[] {
  const out: Violation[] = [];
  out.push(...ownEntryViolations(step, before, after, requests, starCovered));
  for (const ip of guarded) {
    if (canAuthenticate(before, ip) && !canAuthenticate(after, ip)) {
      out.push({ step, rule: 'self-lockout', detail: `${ip} could call bunq before the run and cannot after it` });
    }
  }
  if (activeConcreteIps(before).size > 0 && activeConcreteIps(after).size === 0) {
    out.push({ step, rule: 'never-empty', detail: 'the run left no ACTIVE IPv4 entry' });
  }
  for (const e of before.filter((x) => x.ip === '*')) {
    if (after.find((x) => x.id === e.id)?.status !== e.status) out.push({ step, rule: 'wildcard', detail: `the run changed the \`*\` entry ${e.id}` });
  }
  const known = new Set(before.map((e) => e.id));
  if (after.some((e) => e.ip === '*' && !known.has(e.id))) out.push({ step, rule: 'wildcard', detail: 'the run added a `*` entry' });
  const created = new Map<string, number>();
  for (const e of after) if (!known.has(e.id)) created.set(e.ip, (created.get(e.ip) ?? 0) + 1);
  for (const [ip, n] of created) {
    // Overlapping runs (worker and CLI) may each add an IP once; one run adds it at most once.
    if (n > runs) out.push({ step, rule: 'second-entry', detail: `${ip} got ${n} new entries from ${runs} run(s)` });
    if (before.some((e) => e.ip === ip && e.status === 'ACTIVE')) {
      out.push({ step, rule: 'second-entry', detail: `${ip} got a new entry although it had an ACTIVE one` });
    }
  }
  return out;
}

/** One run of a step, with the record it left (undefined: none found) and its deadline, if any. */
export interface StepRun {
  callerIp: string;
  report: RunReport;
  record: RunRecord | undefined;
  deadline: number | undefined;
  /** The only run of its step: no other run's waits moved the shared clock while it ran. */
  alone: boolean;
}

/** The newest history record of `who` started at or after `sinceMs` (each run writes one). */
export async function recordOf(w: LockoutWorld, cred: Credential, who: Who, sinceMs: number): Promise<RunRecord | undefined> {
  const since = new Date(sinceMs).toISOString();
  return (await w.state.listHistory(cred.name, 4)).find((r) => r.reason === RUN_REASON[who] && r.startedAt >= since);
}

const NOT_RUN: ReadonlySet<RunReport['outcome']> = new Set(['retired', 'refused']);

/**
 * What a run with a deadline must do whether or not the deadline cut it (issue 13): record its run
 * (outcome and end; a recorded failure is not redelivered), send no bunq request at or after its
 * deadline (judged only for a run alone: an overlapping run's waits move the shared clock between
 * another's check and its send), and write nothing its recorded plan does not hold: every PUT
 * targets a planned entry, every new entry is a planned add or a planned re-activation (bunq refused
 * the PUT and the executor added the IP anew: `applied-as-add`). A run without a deadline is judged on
 * the plan only.
 */
export function stepRunViolations(step: number, runs: readonly StepRun[], before: readonly ActualEntry[], after: readonly ActualEntry[], requests: readonly RequestLogEntry[]): Violation[] {
  const out: Violation[] = [];
  const planned = (r: StepRun): Operation[] => (r.record === undefined ? [] : [...r.record.applied, ...r.record.failed, ...r.record.notAttempted].map((x) => x.operation));
  for (const r of runs) {
    const ran = !NOT_RUN.has(r.report.outcome);
    if (r.deadline !== undefined && ran) {
      const rec = r.record;
      if (rec === undefined || r.report.retry || rec.finishedAt === '' || rec.outcome !== r.report.outcome) {
        out.push({ step, rule: 'deadline-unrecorded', detail: `the run from ${r.callerIp} (${r.report.outcome}/${r.report.error?.kind ?? '-'}) left no matching run record` });
      }
      const deadline = r.deadline;
      const late = r.alone ? requests.filter((q) => q.callerIp === r.callerIp && q.at >= deadline) : [];
      for (const q of late) out.push({ step, rule: 'deadline-overrun', detail: `${q.method} ${q.path} sent ${q.at - deadline} ms after the run deadline` });
    }
    const entryIds = new Set(planned(r).flatMap((o) => (o.kind === 'add' ? [] : [o.entryId])));
    for (const q of requests) {
      const id = putEntryId(q);
      if (q.callerIp === r.callerIp && id !== undefined && !entryIds.has(id)) out.push({ step, rule: 'beyond-plan', detail: `the run from ${r.callerIp} sent PUT ${id}, which its plan does not hold` });
    }
  }
  const adds = new Set(runs.flatMap((r) => planned(r).flatMap((o) => (o.kind === 'add' || o.kind === 'reactivate' ? [o.ip] : []))));
  const known = new Set(before.map((e) => e.id));
  for (const e of after) {
    if (!known.has(e.id) && !adds.has(e.ip)) out.push({ step, rule: 'beyond-plan', detail: `entry ${e.id} (${e.ip}) was created, but no run planned to add or re-activate ${e.ip}` });
  }
  return out;
}
