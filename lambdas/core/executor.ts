/**
 * Applies a plan through a WhitelistPort: additions and re-activations, then one verifying read,
 * then deactivations (make before break). It stops at the first failure it cannot retry and says
 * exactly which operations were applied, failed or not attempted. Rate limits are kept by the bunq
 * client behind the port; this module decides what to do when a call fails.
 */
import { isBunqError } from '../bunq/errors';
import type { Clock } from '../shared/clock';
import { activeConcreteIps, compareByAge, isRecognisedIpv4Entry, isUsableEntryId } from './actual';
import { CountingPort, type CallCounts } from './counting-port';
import { activeDesiredIps, callerNotCoveredReason, simulate } from './guards';
import type {
  ActualEntry,
  ExecutionResult,
  Operation,
  OperationOutcome,
  OperationResult,
  Plan,
  RunOutcome,
  WhitelistPort,
} from './types';

export interface ExecuteOptions {
  clock: Clock;
  /** The fresh read the plan was made from. */
  before: readonly ActualEntry[];
  /** Epoch ms the run started (defaults to now); the result's duration counts from here. */
  startedAt?: number;
  /** Calls already made in this run before execute (the initial read), added to the result. */
  priorCalls?: CallCounts;
  /** Tries per call for retryable failures (the client retries too; this covers what it gives up on). */
  maxAttempts?: number;
  /** First back-off between tries, doubled each time, on the injected clock. */
  retryDelayMs?: number;
  /**
   * Epoch ms on `clock` at or after which nothing new is started: no operation, retry, back-off,
   * re-read or verifying read (a back-off that would end at or after it is not started either). The
   * run then stops with error kind `deadline`. A Lambda killed at its timeout records nothing, so the
   * worker passes its remaining time minus a margin.
   */
  deadline?: number;
}

export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_RETRY_DELAY_MS = 1000;

/**
 * Failures that concern one IP for good and say nothing about the rest: bunq refused the IP (a 400
 * on its POST or PUT, e.g. `0.0.0.0`), or bunq lists an entry of it we cannot use. The operation is
 * recorded as failed and the run goes on with the other operations; retrying cannot help, so these
 * kinds are terminal for the queue (lambdas/service/run-verdict.ts).
 */
export const PER_IP_FAILURE_KINDS: ReadonlySet<string> = new Set(['ip-refused', 'unrecognised-entry', 'ip-add-not-permitted']);

type ErrorInfo = { kind: string; message: string };
type Step = Omit<OperationResult, 'operation'>;

/** Failures worth another try once we know the change was not applied. */
const RETRYABLE_KINDS = new Set(['rate-limited', 'maintenance', 'server-error', 'timeout', 'network', 'outcome-unknown']);

export function isRetryable(err: unknown): boolean {
  return isBunqError(err) && (err.retryable || RETRYABLE_KINDS.has(err.kind));
}

export function errorInfo(err: unknown): ErrorInfo {
  if (err instanceof DeadlineReached) return err.info();
  if (isBunqError(err)) return { kind: err.kind, message: err.message };
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { kind: 'unexpected', message: message.length > 300 ? `${message.slice(0, 300)}…` : message };
}

const SUCCESS: ReadonlySet<OperationOutcome> = new Set(['applied', 'applied-as-add', 'confirmed-after-reread']);

export function isSuccess(outcome: OperationOutcome): boolean {
  return SUCCESS.has(outcome);
}

/** The run's deadline came before `what` could start. Thrown inside a run, never out of execute(). */
export class DeadlineReached extends Error {
  constructor(
    readonly what: string,
    readonly deadline: number,
    /** The failure that `what` would have retried or checked, if any. */
    readonly lastError?: unknown,
  ) {
    super(`run deadline ${new Date(deadline).toISOString()} reached before ${what}`);
    this.name = 'DeadlineReached';
  }

  info(): ErrorInfo {
    if (this.lastError === undefined) return { kind: 'deadline', message: this.message };
    const last = errorInfo(this.lastError);
    return { kind: 'deadline', message: `${this.message}; last error: ${last.kind}: ${last.message}` };
  }
}

class Run {
  readonly port: CountingPort;
  private readonly clock: Clock;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly deadline: number | undefined;
  /** Our best knowledge of bunq's entries: the last read plus our confirmed changes. */
  known: ActualEntry[];
  /** The last list actually read in this run. */
  lastRead: ActualEntry[] | null = null;
  /**
   * bunq said this API key may not get new IPs at all (`ip-add-not-permitted`, a standard key): the
   * other additions are not sent, since each would meet the same refusal; PUTs still run.
   */
  private addRefusal: ErrorInfo | undefined;

  constructor(port: WhitelistPort, opts: ExecuteOptions) {
    this.port = new CountingPort(port);
    this.clock = opts.clock;
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    this.retryDelayMs = Math.max(0, opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS);
    this.deadline = opts.deadline;
    this.known = opts.before.map((e) => ({ ...e }));
  }

  /** Throws DeadlineReached if `what` may no longer start. */
  guard(what: string, lastError?: unknown): void {
    if (this.deadline !== undefined && this.clock.now() >= this.deadline) {
      throw new DeadlineReached(what, this.deadline, lastError);
    }
  }

  private async backoff(attempt: number, what: string, lastError: unknown): Promise<void> {
    const delay = this.retryDelayMs * 2 ** (attempt - 1);
    // A wait that ends at or after the deadline could only lead to a retry we would refuse.
    if (this.deadline !== undefined && this.clock.now() + delay >= this.deadline) {
      throw new DeadlineReached(`waiting ${delay} ms to retry ${what}`, this.deadline, lastError);
    }
    await this.clock.sleep(delay);
  }

  /** @param checking the failure this read is to check the outcome of, named if the deadline stops it. */
  async read(what = 'reading the entries', checking?: unknown): Promise<ActualEntry[]> {
    let lastError: unknown = checking;
    for (let attempt = 1; ; attempt++) {
      this.guard(what, lastError);
      try {
        const entries = await this.port.listEntries();
        this.known = entries.map((e) => ({ ...e }));
        this.lastRead = entries;
        return entries;
      } catch (err) {
        if (!isRetryable(err) || attempt >= this.maxAttempts) throw err;
        lastError = err;
        await this.backoff(attempt, what, err);
      }
    }
  }

  /** The per-IP failure for an IP bunq lists an entry of that we cannot use, if it does. */
  private unusableEntryOf(ip: string): ErrorInfo | undefined {
    const odd = this.known.find((e) => e.ip === ip && !isRecognisedIpv4Entry(e));
    if (odd === undefined) return undefined;
    return {
      kind: 'unrecognised-entry',
      message:
        `bunq lists an entry of ${ip} we cannot use (id ${isUsableEntryId(odd.id) ? odd.id : 'none'}, status ${JSON.stringify(odd.status)}); ` +
        'not posted again: another POST would only add one more such entry. Sort it out in the bunq app',
    };
  }

  private setKnownStatus(entryId: number, status: 'ACTIVE' | 'INACTIVE'): void {
    const e = this.known.find((x) => x.id === entryId);
    if (e) e.status = status;
  }

  /** The result of an operation the deadline cut short (attempts > 0) or kept from starting. */
  private stopped(err: DeadlineReached, attempts: number, entryId?: number): Step {
    const base: Step = { outcome: attempts > 0 ? 'failed' : 'not-attempted', attempts, error: err.info() };
    if (entryId !== undefined) base.entryId = entryId;
    if (attempts === 0) base.skipReason = err.message;
    return base;
  }

  /**
   * POST a new ACTIVE entry. Any failed POST may still have been applied (bunq can time out or fail
   * after writing), so we re-read before deciding anything. After `outcome-unknown` we never POST
   * again in this run, even when the re-read does not show the IP: a slow bunq may apply the first
   * POST after our read, and a second one would leave a duplicate. The next run starts from a fresh
   * read. Only failures the port guarantees were not applied (a 429, no connection) are retried.
   */
  async add(ip: string, success: OperationOutcome, attemptsSoFar: number): Promise<Step> {
    let attempts = attemptsSoFar;
    let lastError: unknown;
    const unusable = this.unusableEntryOf(ip);
    if (unusable !== undefined) return { outcome: 'failed', attempts, error: unusable };
    if (this.addRefusal !== undefined) return { outcome: 'failed', attempts, error: this.addRefusal };
    try {
      for (let tries = 1; ; tries++) {
        this.guard(tries === 1 ? `POST ${ip}` : `retrying POST ${ip}`, lastError);
        const knownIds = new Set(this.known.map((e) => e.id));
        attempts++;
        try {
          const id = await this.port.addEntry(ip);
          this.known.push({ id, ip, status: 'ACTIVE', created: null });
          return { outcome: success, entryId: id, attempts };
        } catch (err) {
          lastError = err;
          let entries: ActualEntry[];
          try {
            entries = await this.read(`re-reading to check POST ${ip}`, err);
          } catch (readErr) {
            if (readErr instanceof DeadlineReached) throw readErr;
            return { outcome: 'failed', attempts, error: withFailedCheck(err, readErr) };
          }
          const usable = entries.filter((e) => e.ip === ip && isRecognisedIpv4Entry(e));
          const ours = usable.filter((e) => !knownIds.has(e.id)).sort(compareByAge);
          if (ours.length > 0) return { outcome: 'confirmed-after-reread', entryId: ours[0]!.id, attempts };
          const activeAlready = usable.filter((e) => e.status === 'ACTIVE').sort(compareByAge);
          if (activeAlready.length > 0) {
            return { outcome: 'confirmed-after-reread', entryId: activeAlready[0]!.id, attempts };
          }
          // bunq now lists an entry of this IP we cannot use (perhaps the one our POST made): one
          // more POST would only add another.
          const unusableNow = this.unusableEntryOf(ip);
          if (unusableNow !== undefined) return { outcome: 'failed', attempts, error: unusableNow };
          if (isBunqError(err) && err.kind === 'bad-request') return { outcome: 'failed', attempts, error: ipRefused(ip, 'POST', err) };
          if (isBunqError(err) && err.kind === 'ip-add-not-permitted') {
            this.addRefusal = errorInfo(err);
            return { outcome: 'failed', attempts, error: this.addRefusal };
          }
          if (isBunqError(err) && err.kind === 'outcome-unknown') {
            const e = errorInfo(err);
            return {
              outcome: 'failed',
              attempts,
              error: {
                kind: e.kind,
                message: `${e.message} (a re-read does not show ${ip}; not posted again in this run, since bunq may still apply it: the next run reads afresh)`,
              },
            };
          }
          if (!isRetryable(err) || tries >= this.maxAttempts) return { outcome: 'failed', attempts, error: errorInfo(err) };
          await this.backoff(tries, `POST ${ip}`, err);
        }
      }
    } catch (err) {
      if (err instanceof DeadlineReached) return this.stopped(err, attempts);
      throw err;
    }
  }

  /**
   * bunq refused INACTIVE → ACTIVE, so a new entry is the only way back. Someone may have
   * re-activated the IP meanwhile (or bunq may have applied the change after all): re-read first, and
   * POST only if the IP has no ACTIVE entry.
   */
  private async reactivateByAdd(ip: string, refusal: unknown, attempts: number): Promise<Step> {
    let entries: ActualEntry[];
    try {
      entries = await this.read(`re-reading before re-adding ${ip}`, refusal);
    } catch (readErr) {
      if (readErr instanceof DeadlineReached) return this.stopped(readErr, attempts);
      return { outcome: 'failed', attempts, error: withFailedCheck(refusal, readErr) };
    }
    const active = entries.filter((e) => e.ip === ip && e.status === 'ACTIVE' && isUsableEntryId(e.id)).sort(compareByAge);
    if (active.length > 0) return { outcome: 'confirmed-after-reread', entryId: active[0]!.id, attempts };
    return this.add(ip, 'applied-as-add', attempts);
  }

  /** PUT a status. Idempotent, so retryable failures are simply tried again. */
  async setStatus(entryId: number, status: 'ACTIVE' | 'INACTIVE', reactivateIp?: string): Promise<Step> {
    if (!isUsableEntryId(entryId)) {
      // The planner only targets classified entries; this holds the line should that ever change.
      return { outcome: 'failed', attempts: 0, error: { kind: 'unusable-entry-id', message: `entry id ${entryId} is not an id bunq gave; not changed` } };
    }
    let attempts = 0;
    let lastError: unknown;
    try {
      for (let attempt = 1; ; attempt++) {
        this.guard(attempt === 1 ? `PUT ${entryId} ${status}` : `retrying PUT ${entryId} ${status}`, lastError);
        attempts = attempt;
        try {
          await this.port.setStatus(entryId, status);
          this.setKnownStatus(entryId, status);
          return { outcome: 'applied', entryId, attempts };
        } catch (err) {
          lastError = err;
          if (reactivateIp !== undefined && isBunqError(err) && err.kind === 'bad-request') {
            return await this.reactivateByAdd(reactivateIp, err, attempts);
          }
          if (isBunqError(err) && err.kind === 'bad-request') {
            const ip = this.known.find((e) => e.id === entryId)?.ip;
            return { outcome: 'failed', entryId, attempts, error: ipRefused(`${ip ?? 'an IP'} (entry ${entryId})`, `PUT ${status}`, err) };
          }
          if (isBunqError(err) && err.kind === 'outcome-unknown') {
            try {
              const entries = await this.read(`re-reading to check PUT ${entryId}`, err);
              if (entries.some((e) => e.id === entryId && e.status === status)) {
                return { outcome: 'confirmed-after-reread', entryId, attempts };
              }
            } catch (readErr) {
              if (readErr instanceof DeadlineReached) throw readErr;
              return { outcome: 'failed', attempts, error: withFailedCheck(err, readErr) };
            }
          }
          if (!isRetryable(err) || attempt >= this.maxAttempts) {
            return { outcome: 'failed', entryId, attempts, error: errorInfo(err) };
          }
          await this.backoff(attempt, `PUT ${entryId} ${status}`, err);
        }
      }
    } catch (err) {
      if (err instanceof DeadlineReached) return this.stopped(err, attempts, entryId);
      throw err;
    }
  }

  async applyMake(op: Operation): Promise<Step> {
    if (op.kind === 'add') return this.add(op.ip, 'applied', 0);
    if (op.kind === 'reactivate') return this.setStatus(op.entryId, 'ACTIVE', op.ip);
    throw new Error(`applyMake called with a ${op.kind}`);
  }

  async timed(op: Operation, fn: () => Promise<Step>): Promise<OperationResult> {
    const start = this.clock.now();
    const r = await fn();
    return { operation: op, ...r, durationMs: this.clock.now() - start };
  }
}

/** bunq refused an IP's change for good (a 400): recorded for that IP, the run goes on. */
function ipRefused(what: string, call: string, err: unknown): ErrorInfo {
  return {
    kind: 'ip-refused',
    message: `bunq refused ${call} of ${what} (${errorInfo(err).message}); not retried, the run goes on with the other operations`,
  };
}

/** The original failure, noting that the re-read meant to check its outcome failed as well. */
function withFailedCheck(err: unknown, readErr: unknown): ErrorInfo {
  const e = errorInfo(err);
  return { kind: e.kind, message: `${e.message} (re-reading to check the outcome failed too: ${errorInfo(readErr).kind})` };
}

/** Whether another ACTIVE entry of a duplicate's IP, one we keep, is still listed. */
function keptEntryActive(entries: readonly ActualEntry[], op: Operation & { kind: 'deactivate' }, pendingIds: ReadonlySet<number>): boolean {
  return entries.some(
    (e) => e.ip === op.ip && e.id !== op.entryId && e.status === 'ACTIVE' && isRecognisedIpv4Entry(e) && !pendingIds.has(e.id),
  );
}

/**
 * A duplicate goes only while an entry of its IP that we keep is still ACTIVE: someone may have
 * switched the kept one off after our first read, and a desired IP must never end with zero ACTIVE
 * entries because of us. The skip reason when it must stay, else undefined (not a duplicate, or
 * its keeper is there).
 */
function duplicateKeptReason(entries: readonly ActualEntry[], op: Operation, pendingIds: ReadonlySet<number>, when: string): string | undefined {
  if (op.kind !== 'deactivate' || op.reason !== 'duplicate' || keptEntryActive(entries, op, pendingIds)) return undefined;
  return `no other ACTIVE entry of this IP is left${when}; this duplicate is kept`;
}

function outcomeOf(plan: Plan, results: readonly OperationResult[], error: ErrorInfo | undefined): RunOutcome {
  if (plan.mode === 'observe') return 'observed';
  if (error) return results.some((r) => isSuccess(r.outcome)) ? 'partial' : 'failed';
  if (plan.operations.length === 0 && plan.blocked.length === 0) return 'in-sync';
  return plan.blocked.some((b) => b.guard !== 'wildcard-untouchable') ? 'held' : 'converged';
}

export async function execute(plan: Plan, port: WhitelistPort, opts: ExecuteOptions): Promise<ExecutionResult> {
  const startedAt = opts.startedAt ?? opts.clock.now();
  const run = new Run(port, opts);
  const results: OperationResult[] = plan.operations.map((operation) => ({ operation, outcome: 'not-attempted' }));
  let error: ErrorInfo | undefined;
  /** The first per-IP failure (PER_IP_FAILURE_KINDS): the run went on, but it did not fully succeed. */
  let perIpError: ErrorInfo | undefined;

  const skipRest = (from: number, reason: string): void => {
    for (let j = from; j < results.length; j++) {
      const r = results[j]!;
      if (r.outcome === 'not-attempted' && r.skipReason === undefined) r.skipReason = reason;
    }
  };
  /** Stops the run before operation `i` if the deadline has come; says whether it did. */
  const deadlineStops = (i: number, what: string): boolean => {
    try {
      run.guard(what);
      return false;
    } catch (err) {
      if (!(err instanceof DeadlineReached)) throw err;
      error = err.info();
      skipRest(i, err.message);
      return true;
    }
  };
  /** Records operation `i`'s result; says whether the run must stop there. */
  const record = (i: number, r: OperationResult): boolean => {
    results[i] = r;
    if (r.outcome !== 'failed' && r.error?.kind !== 'deadline') return false;
    if (r.outcome === 'failed' && r.error !== undefined && PER_IP_FAILURE_KINDS.has(r.error.kind)) {
      perIpError ??= r.error;
      return false;
    }
    error = r.error;
    skipRest(i + 1, r.error?.kind === 'deadline' ? 'the run deadline was reached' : `an earlier operation failed (${r.operation.kind} ${r.operation.ip})`);
    return true;
  };

  const firstBreak = plan.operations.findIndex((o) => o.kind === 'deactivate');
  const makeCount = firstBreak === -1 ? plan.operations.length : firstBreak;

  for (let i = 0; i < makeCount; i++) {
    const op = plan.operations[i]!;
    if (op.kind === 'deactivate') continue;
    if (deadlineStops(i, `${op.kind} ${op.ip}`)) break;
    if (record(i, await run.timed(op, () => run.applyMake(op)))) break;
  }

  if (!error && firstBreak !== -1) {
    // The verifying read: proves we can still call bunq, and that every addition took, before any
    // entry is switched off.
    let verified: ActualEntry[] | undefined;
    try {
      verified = await run.read('the verifying read');
    } catch (err) {
      error = errorInfo(err);
      skipRest(firstBreak, err instanceof DeadlineReached ? err.message : 'the verifying read before deactivations failed');
    }
    if (verified) {
      const activeIps = activeConcreteIps(verified);
      const notTaken = results
        .slice(0, makeCount)
        .filter((r) => isSuccess(r.outcome) && !activeIps.has(r.operation.ip))
        .map((r) => r.operation.ip);
      const pendingIds = new Set(plan.operations.slice(firstBreak).flatMap((o) => (o.kind === 'deactivate' ? [o.entryId] : [])));
      const keeperGone = new Set<number>();
      for (let i = firstBreak; i < plan.operations.length; i++) {
        const kept = duplicateKeptReason(verified, plan.operations[i]!, pendingIds, ' at the verifying read');
        if (kept === undefined) continue;
        keeperGone.add(i);
        results[i]!.skipReason = kept;
      }
      const stillActive = plan.operations
        .slice(firstBreak)
        .filter((o, k) => !keeperGone.has(firstBreak + k))
        .filter((o) => o.kind === 'deactivate' && verified.some((e) => e.id === o.entryId && e.status === 'ACTIVE'));
      if (notTaken.length > 0) {
        error = {
          kind: 'verification-failed',
          message: `the verifying read does not show ${notTaken.join(', ')} as ACTIVE; no deactivation attempted`,
        };
        skipRest(firstBreak, 'an addition did not show up as ACTIVE in the verifying read');
      } else if (stillActive.length > 0 && activeDesiredIps(simulate(verified, stillActive), plan.desiredIps).length === 0) {
        error = {
          kind: 'never-empty',
          message: 'at the verifying read these deactivations would leave no desired IPv4 address ACTIVE; none attempted',
        };
        skipRest(firstBreak, 'never-empty: would leave no desired IPv4 address ACTIVE at the verifying read');
      } else {
        /** A deactivation failed (bunq refused it): the state may have moved, so read before the next. */
        let stale = false;
        for (let i = firstBreak; i < plan.operations.length; i++) {
          const op = plan.operations[i]!;
          if (op.kind !== 'deactivate' || keeperGone.has(i)) continue;
          if (stale) {
            try {
              await run.read('re-reading after a refused deactivation');
              stale = false;
            } catch (err) {
              error = errorInfo(err);
              skipRest(i, err instanceof DeadlineReached ? err.message : 're-reading after a refused deactivation failed');
              break;
            }
          }
          const entry = run.known.find((e) => e.id === op.entryId);
          if (!entry || entry.ip !== op.ip) {
            results[i]!.skipReason = 'the entry is no longer listed by bunq';
            continue;
          }
          if (entry.status !== 'ACTIVE') {
            results[i]!.skipReason = 'the entry is already INACTIVE';
            continue;
          }
          // Judged again before every deactivation, against the freshest state this run has seen
          // (its latest read plus its own confirmed writes): a re-read after an unclear or refused
          // PUT may show that someone switched entries off meanwhile.
          const kept = duplicateKeptReason(run.known, op, pendingIds, '');
          if (kept !== undefined) {
            results[i]!.skipReason = kept;
            continue;
          }
          const uncovered = callerNotCoveredReason(plan.callerIps ?? [], run.known);
          if (uncovered !== undefined) {
            error = { kind: 'caller-unknown', message: `${uncovered}; no ACTIVE \`*\` covers the run any more, so no further deactivation is attempted` };
            skipRest(i, `${uncovered} (no ACTIVE \`*\` covers the run any more)`);
            break;
          }
          if (activeDesiredIps(simulate(run.known, [op]), plan.desiredIps).length === 0) {
            error = { kind: 'never-empty', message: `deactivating ${op.ip} (entry ${op.entryId}) would leave no desired IPv4 address ACTIVE; no further deactivation attempted` };
            skipRest(i, 'never-empty: would leave no desired IPv4 address ACTIVE');
            break;
          }
          if (deadlineStops(i, `deactivate ${op.ip} (entry ${op.entryId})`)) break;
          if (record(i, await run.timed(op, () => run.setStatus(op.entryId, 'INACTIVE')))) break;
          stale = results[i]!.outcome === 'failed';
        }
      }
    }
  }

  error ??= perIpError;
  const calls = run.port.callCounts();
  const finishedAt = opts.clock.now();
  const result: ExecutionResult = {
    credential: plan.credential,
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    durationMs: finishedAt - startedAt,
    outcome: outcomeOf(plan, results, error),
    plan,
    before: [...opts.before],
    after: run.lastRead,
    operations: results,
    reads: (opts.priorCalls?.reads ?? 0) + calls.reads,
    writes: (opts.priorCalls?.writes ?? 0) + calls.writes,
  };
  if (error) result.error = error;
  return result;
}
