/**
 * Applies a plan through a WhitelistPort: additions and re-activations, then one verifying read,
 * then deactivations (make before break). It stops at the first failure it cannot get past and says
 * exactly which operations were applied, failed or not attempted. Rate limits and retries of a
 * failed call are the bunq client's (the one retry layer, docs/decisions.md issue 13); this module
 * decides what a failure means for the plan, reading each kind's decision from errors.ts.
 */
import type { Clock } from '../shared/clock';
import { activeConcreteIps, compareByAge, isRecognisedIpv4Entry, isUsableEntryId } from './actual';
import { CountingPort, type CallCounts } from './counting-port';
import { decisionOf, isPortError, type ErrorInfo } from './errors';
import { activeDesiredIps, callerNotCoveredReason, simulate } from './guards';
import { isApplied } from './outcome';
import type {
  ActualEntry,
  ExecutionResult,
  Operation,
  OperationOutcome,
  OperationResult,
  Plan,
  RunOutcome,
  SkipCode,
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
  /**
   * Epoch ms on `clock` at or after which nothing new is started: no operation, re-read or
   * verifying read. The
   * run then stops with error kind `deadline`. A Lambda killed at its timeout records nothing, so the
   * worker passes its remaining time minus a margin, and gives the bunq client the same deadline so
   * no call in flight outlives it.
   */
  deadline?: number;
}

type Step = Omit<OperationResult, 'operation'>;

/** Whether a failure concerns one IP for good (the run goes on with the other operations). */
export function isPerIpFailure(error: ErrorInfo | undefined): boolean {
  return error !== undefined && decisionOf(error.kind).perIp;
}

export function errorInfo(err: unknown): ErrorInfo {
  if (err instanceof DeadlineReached) return err.info();
  if (isPortError(err)) return { kind: err.kind, message: err.message };
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { kind: 'unexpected', message: message.length > 300 ? `${message.slice(0, 300)}…` : message };
}

/**
 * The deadline stopped the re-read that was to settle `checking` (the core's own check already
 * names it; the client's `deadline` does not): the result keeps what was being checked.
 */
function settleStopped(readErr: DeadlineReached | Error, what: string, deadline: number | undefined, checking: unknown): DeadlineReached | Error {
  if (readErr instanceof DeadlineReached || deadline === undefined) return readErr;
  return new DeadlineReached(what, deadline, checking);
}

/** The run's deadline stopped this: the core's own check, or the port's (the client's `deadline`). */
function isDeadline(err: unknown): err is DeadlineReached | Error {
  return err instanceof DeadlineReached || (isPortError(err) && err.kind === 'deadline');
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
    // `deadline` means "not applied". A write bunq may have applied, whose settling re-read the
    // deadline stopped, stays outcome-unknown: its metric and alarm must still see it.
    if (last.kind === 'outcome-unknown') return { kind: 'outcome-unknown', message: `${last.message}; ${this.message}, so it was not settled` };
    return { kind: 'deadline', message: `${this.message}; last error: ${last.kind}: ${last.message}` };
  }
}

/**
 * The calls one execution makes, with what it has learnt of bunq's entries on the way: every read,
 * POST and PUT of the run goes through here, each checked against the run deadline first.
 */
class PlanCalls {
  readonly port: CountingPort;
  private readonly clock: Clock;
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
    this.deadline = opts.deadline;
    this.known = opts.before.map((e) => ({ ...e }));
  }

  /** Throws DeadlineReached if `what` may no longer start. */
  checkDeadline(what: string, lastError?: unknown): void {
    if (this.deadline !== undefined && this.clock.now() >= this.deadline) {
      throw new DeadlineReached(what, this.deadline, lastError);
    }
  }

  /**
   * One read; a failure is the port's last word (its client has already retried what it may).
   * @param checking the failure this read is to check the outcome of, named if the deadline stops it.
   */
  async read(what = 'reading the entries', checking?: unknown): Promise<ActualEntry[]> {
    this.checkDeadline(what, checking);
    const entries = await this.port.listEntries();
    this.known = entries.map((e) => ({ ...e }));
    this.lastRead = entries;
    return entries;
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
  private stopped(err: DeadlineReached | Error, attempts: number, entryId?: number): Step {
    const base: Step = { outcome: attempts > 0 ? 'failed' : 'not-attempted', attempts, error: errorInfo(err) };
    if (entryId !== undefined) base.entryId = entryId;
    if (attempts === 0) {
      base.skipReason = err.message;
      base.skipCode = 'deadline';
    }
    return base;
  }

  /**
   * POST a new ACTIVE entry. Any failed POST may still have been applied (bunq can time out or fail
   * after writing), so we re-read before deciding anything. After `outcome-unknown` we never POST
   * again in this run, even when the re-read does not show the IP: a slow bunq may apply the first
   * POST after our read, and a second one would leave a duplicate. The next run starts from a fresh
   * read. A failure the port reports is final for this run: its client is the one layer that
   * retries a call (docs/decisions.md, issue 13), so the core never sends the POST twice.
   */
  async add(ip: string, success: OperationOutcome, attemptsSoFar: number): Promise<Step> {
    let attempts = attemptsSoFar;
    const unusable = this.unusableEntryOf(ip);
    if (unusable !== undefined) return { outcome: 'failed', attempts, error: unusable };
    if (this.addRefusal !== undefined) return { outcome: 'failed', attempts, error: this.addRefusal };
    try {
      this.checkDeadline(`POST ${ip}`);
      const knownIds = new Set(this.known.map((e) => e.id));
      attempts++;
      try {
        const id = await this.port.addEntry(ip);
        this.known.push({ id, ip, status: 'ACTIVE', created: null });
        return { outcome: success, entryId: id, attempts };
      } catch (err) {
        // The client stops a call at the deadline only before (re)sending it: nothing was applied.
        if (isDeadline(err)) throw err;
        let entries: ActualEntry[];
        try {
          entries = await this.read(`re-reading to check POST ${ip}`, err);
        } catch (readErr) {
          if (isDeadline(readErr)) throw settleStopped(readErr, `re-reading to check POST ${ip}`, this.deadline, err);
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
        if (isPortError(err) && err.kind === 'bad-request') return { outcome: 'failed', attempts, error: ipRefused(ip, 'POST', err) };
        if (isPortError(err) && err.kind === 'ip-add-not-permitted') {
          this.addRefusal = errorInfo(err);
          return { outcome: 'failed', attempts, error: this.addRefusal };
        }
        if (isPortError(err) && err.kind === 'outcome-unknown') {
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
        return { outcome: 'failed', attempts, error: errorInfo(err) };
      }
    } catch (err) {
      if (isDeadline(err)) return this.stopped(err, attempts);
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
      if (isDeadline(readErr)) return this.stopped(readErr, attempts);
      return { outcome: 'failed', attempts, error: withFailedCheck(refusal, readErr) };
    }
    const active = entries.filter((e) => e.ip === ip && e.status === 'ACTIVE' && isUsableEntryId(e.id)).sort(compareByAge);
    if (active.length > 0) return { outcome: 'confirmed-after-reread', entryId: active[0]!.id, attempts };
    return this.add(ip, 'applied-as-add', attempts);
  }

  /**
   * PUT a status, once: the client retries what it may. An unclear outcome is settled by a re-read,
   * which only the core can do (it knows what the PUT was for).
   */
  async setStatus(entryId: number, status: 'ACTIVE' | 'INACTIVE', reactivateIp?: string): Promise<Step> {
    if (!isUsableEntryId(entryId)) {
      // The planner only targets classified entries; this holds the line should that ever change.
      return { outcome: 'failed', attempts: 0, error: { kind: 'unusable-entry-id', message: `entry id ${entryId} is not an id bunq gave; not changed` } };
    }
    let attempts = 0;
    try {
      this.checkDeadline(`PUT ${entryId} ${status}`);
      attempts = 1;
      try {
        await this.port.setStatus(entryId, status);
        this.setKnownStatus(entryId, status);
        return { outcome: 'applied', entryId, attempts };
      } catch (err) {
        if (isDeadline(err)) throw err;
        if (reactivateIp !== undefined && isPortError(err) && err.kind === 'bad-request') {
          return await this.reactivateByAdd(reactivateIp, err, attempts);
        }
        if (isPortError(err) && err.kind === 'bad-request') {
          const ip = this.known.find((e) => e.id === entryId)?.ip;
          return { outcome: 'failed', entryId, attempts, error: ipRefused(`${ip ?? 'an IP'} (entry ${entryId})`, `PUT ${status}`, err) };
        }
        if (isPortError(err) && err.kind === 'outcome-unknown') {
          try {
            const entries = await this.read(`re-reading to check PUT ${entryId}`, err);
            if (entries.some((e) => e.id === entryId && e.status === status)) {
              return { outcome: 'confirmed-after-reread', entryId, attempts };
            }
          } catch (readErr) {
            if (isDeadline(readErr)) throw settleStopped(readErr, `re-reading to check PUT ${entryId}`, this.deadline, err);
            return { outcome: 'failed', attempts, error: withFailedCheck(err, readErr) };
          }
        }
        return { outcome: 'failed', entryId, attempts, error: errorInfo(err) };
      }
    } catch (err) {
      if (isDeadline(err)) return this.stopped(err, attempts, entryId);
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
  if (error) return results.some((r) => isApplied(r.outcome)) ? 'partial' : 'failed';
  if (plan.operations.length === 0 && plan.blocked.length === 0) return 'in-sync';
  return plan.blocked.some((b) => b.guard !== 'wildcard-untouchable') ? 'held' : 'converged';
}

/**
 * The results of one execution as they are decided: one slot per planned operation, the failure
 * that stopped the run, and the first per-IP failure (the run went on past it, but did not fully
 * succeed). The steps below write here and nowhere else.
 */
class ExecutionLedger {
  readonly results: OperationResult[];
  /** The failure that stopped the run (no further operation was attempted). */
  error: ErrorInfo | undefined;
  perIpError: ErrorInfo | undefined;

  constructor(plan: Plan) {
    this.results = plan.operations.map((operation) => ({ operation, outcome: 'not-attempted' }));
  }

  get stopped(): boolean {
    return this.error !== undefined;
  }

  skip(i: number, code: SkipCode, reason: string): void {
    this.results[i]!.skipReason = reason;
    this.results[i]!.skipCode = code;
  }

  /** Names why the operations from `from` on were not attempted (those without a reason yet). */
  skipRest(from: number, code: SkipCode, reason: string): void {
    for (let j = from; j < this.results.length; j++) {
      const r = this.results[j]!;
      if (r.outcome === 'not-attempted' && r.skipReason === undefined) {
        r.skipReason = reason;
        r.skipCode = code;
      }
    }
  }

  stop(from: number, error: ErrorInfo, code: SkipCode, reason: string): void {
    this.error = error;
    this.skipRest(from, code, reason);
  }

  /** Stops the run before operation `i` if the deadline has come; says whether it did. */
  stopAtDeadline(calls: PlanCalls, i: number, what: string): boolean {
    try {
      calls.checkDeadline(what);
      return false;
    } catch (err) {
      if (!(err instanceof DeadlineReached)) throw err;
      this.stop(i, err.info(), 'deadline', err.message);
      return true;
    }
  }

  /** Records operation `i`'s result; says whether the run must stop there. */
  record(i: number, r: OperationResult): boolean {
    this.results[i] = r;
    if (r.outcome !== 'failed' && r.error?.kind !== 'deadline') return false;
    if (r.outcome === 'failed' && isPerIpFailure(r.error)) {
      this.perIpError ??= r.error;
      return false;
    }
    this.error = r.error;
    if (r.error?.kind === 'deadline') this.skipRest(i + 1, 'deadline', 'the run deadline was reached');
    else this.skipRest(i + 1, 'earlier-failure', `an earlier operation failed (${r.operation.kind} ${r.operation.ip})`);
    return true;
  }
}

/** Where the plan's deactivations start (-1: none), and how many makes come before them. */
interface PlanShape {
  firstBreak: number;
  makeCount: number;
}

/** Step 1: additions and re-activations, in plan order, until one fails for the run. */
async function applyMakes(plan: Plan, calls: PlanCalls, ledger: ExecutionLedger, shape: PlanShape): Promise<void> {
  for (let i = 0; i < shape.makeCount; i++) {
    const op = plan.operations[i]!;
    if (op.kind === 'deactivate') continue;
    if (ledger.stopAtDeadline(calls, i, `${op.kind} ${op.ip}`)) break;
    if (ledger.record(i, await calls.timed(op, () => calls.applyMake(op)))) break;
  }
}

/**
 * Step 2: the verifying read. It proves we can still call bunq, and shows whether every addition
 * took, before any entry is switched off. Undefined (the run stopped) when it failed.
 */
async function verifyingRead(calls: PlanCalls, ledger: ExecutionLedger, shape: PlanShape): Promise<ActualEntry[] | undefined> {
  try {
    return await calls.read('the verifying read');
  } catch (err) {
    if (isDeadline(err)) ledger.stop(shape.firstBreak, errorInfo(err), 'deadline', err.message);
    else ledger.stop(shape.firstBreak, errorInfo(err), 'read-failed', 'the verifying read before deactivations failed');
    return undefined;
  }
}

/** The deactivations still to run after the verifying read, and the entry ids they target. */
interface PendingBreaks {
  pendingIds: ReadonlySet<number>;
  /** Plan indexes of duplicates kept because their keeper is no longer ACTIVE. */
  keeperGone: ReadonlySet<number>;
}

/** Successful makes whose IP the verifying read does not show ACTIVE. */
function additionsNotTaken(results: readonly OperationResult[], verified: readonly ActualEntry[], shape: PlanShape): string[] {
  const activeIps = activeConcreteIps(verified);
  return results
    .slice(0, shape.makeCount)
    .filter((r) => isApplied(r.outcome) && !activeIps.has(r.operation.ip))
    .map((r) => r.operation.ip);
}

/** Duplicates whose kept entry the verifying read no longer shows ACTIVE: each gets its skip reason. */
function duplicatesWithoutKeeper(plan: Plan, verified: readonly ActualEntry[], pendingIds: ReadonlySet<number>, ledger: ExecutionLedger, shape: PlanShape): Set<number> {
  const keeperGone = new Set<number>();
  for (let i = shape.firstBreak; i < plan.operations.length; i++) {
    const kept = duplicateKeptReason(verified, plan.operations[i]!, pendingIds, ' at the verifying read');
    if (kept === undefined) continue;
    keeperGone.add(i);
    ledger.skip(i, 'duplicate-keeper-gone', kept);
  }
  return keeperGone;
}

/** Whether the deactivations still planned would, on the verified state, leave no desired IP ACTIVE. */
function wouldEmptyAtVerify(plan: Plan, verified: readonly ActualEntry[], keeperGone: ReadonlySet<number>, shape: PlanShape): boolean {
  const stillActive = plan.operations
    .slice(shape.firstBreak)
    .filter((o, k) => !keeperGone.has(shape.firstBreak + k))
    .filter((o) => o.kind === 'deactivate' && verified.some((e) => e.id === o.entryId && e.status === 'ACTIVE'));
  return stillActive.length > 0 && activeDesiredIps(simulate(verified, stillActive), plan.desiredIps).length === 0;
}

/**
 * Step 3: the checks on the verified state, in this order: duplicates that lost their keeper are
 * kept; an addition that did not show up, or deactivations that would leave no desired IP ACTIVE,
 * stop the run before any deactivation. Undefined when the run stopped.
 */
function checkVerified(plan: Plan, verified: readonly ActualEntry[], ledger: ExecutionLedger, shape: PlanShape): PendingBreaks | undefined {
  const notTaken = additionsNotTaken(ledger.results, verified, shape);
  const pendingIds = new Set(plan.operations.slice(shape.firstBreak).flatMap((o) => (o.kind === 'deactivate' ? [o.entryId] : [])));
  const keeperGone = duplicatesWithoutKeeper(plan, verified, pendingIds, ledger, shape);
  if (notTaken.length > 0) {
    ledger.stop(
      shape.firstBreak,
      { kind: 'verification-failed', message: `the verifying read does not show ${notTaken.join(', ')} as ACTIVE; no deactivation attempted` },
      'addition-not-shown',
      'an addition did not show up as ACTIVE in the verifying read',
    );
    return undefined;
  }
  if (wouldEmptyAtVerify(plan, verified, keeperGone, shape)) {
    ledger.stop(
      shape.firstBreak,
      { kind: 'never-empty', message: 'at the verifying read these deactivations would leave no desired IPv4 address ACTIVE; none attempted' },
      'never-empty',
      'never-empty: would leave no desired IPv4 address ACTIVE at the verifying read',
    );
    return undefined;
  }
  return { pendingIds, keeperGone };
}

/** Why one deactivation is not sent: skipped (the run goes on) or stopping the run. */
type DeactivationCheck = { skip: SkipCode; reason: string } | { stop: ErrorInfo; code: SkipCode; reason: string };

/**
 * Judged again before every deactivation, against the freshest state this run has seen (its latest
 * read plus its own confirmed writes): a re-read after an unclear or refused PUT may show that
 * someone switched entries off meanwhile. Undefined: send it.
 */
function checkDeactivation(
  plan: Plan,
  op: Operation & { kind: 'deactivate' },
  known: readonly ActualEntry[],
  pendingIds: ReadonlySet<number>,
): DeactivationCheck | undefined {
  const entry = known.find((e) => e.id === op.entryId);
  if (!entry || entry.ip !== op.ip) return { skip: 'entry-gone', reason: 'the entry is no longer listed by bunq' };
  if (entry.status !== 'ACTIVE') return { skip: 'already-inactive', reason: 'the entry is already INACTIVE' };
  const kept = duplicateKeptReason(known, op, pendingIds, '');
  if (kept !== undefined) return { skip: 'duplicate-keeper-gone', reason: kept };
  const uncovered = callerNotCoveredReason(plan.callerIps ?? [], known);
  if (uncovered !== undefined) {
    return {
      stop: { kind: 'caller-unknown', message: `${uncovered}; no ACTIVE \`*\` covers the run any more, so no further deactivation is attempted` },
      code: 'caller-not-covered',
      reason: `${uncovered} (no ACTIVE \`*\` covers the run any more)`,
    };
  }
  if (activeDesiredIps(simulate(known, [op]), plan.desiredIps).length === 0) {
    return {
      stop: { kind: 'never-empty', message: `deactivating ${op.ip} (entry ${op.entryId}) would leave no desired IPv4 address ACTIVE; no further deactivation attempted` },
      code: 'never-empty',
      reason: 'never-empty: would leave no desired IPv4 address ACTIVE',
    };
  }
  return undefined;
}

/** Step 4: the deactivations, each checked first; after a refused one the state is read again. */
async function applyBreaks(plan: Plan, calls: PlanCalls, ledger: ExecutionLedger, shape: PlanShape, breaks: PendingBreaks): Promise<void> {
  /** A deactivation failed (bunq refused it): the state may have moved, so read before the next. */
  let stale = false;
  for (let i = shape.firstBreak; i < plan.operations.length; i++) {
    const op = plan.operations[i]!;
    if (op.kind !== 'deactivate' || breaks.keeperGone.has(i)) continue;
    if (stale) {
      try {
        await calls.read('re-reading after a refused deactivation');
        stale = false;
      } catch (err) {
        if (isDeadline(err)) ledger.stop(i, errorInfo(err), 'deadline', err.message);
        else ledger.stop(i, errorInfo(err), 'read-failed', 're-reading after a refused deactivation failed');
        break;
      }
    }
    const check = checkDeactivation(plan, op, calls.known, breaks.pendingIds);
    if (check !== undefined && 'skip' in check) {
      ledger.skip(i, check.skip, check.reason);
      continue;
    }
    if (check !== undefined) {
      ledger.stop(i, check.stop, check.code, check.reason);
      break;
    }
    if (ledger.stopAtDeadline(calls, i, `deactivate ${op.ip} (entry ${op.entryId})`)) break;
    if (ledger.record(i, await calls.timed(op, () => calls.setStatus(op.entryId, 'INACTIVE')))) break;
    stale = ledger.results[i]!.outcome === 'failed';
  }
}

function resultOf(plan: Plan, opts: ExecuteOptions, startedAt: number, calls: PlanCalls, ledger: ExecutionLedger): ExecutionResult {
  const error = ledger.error ?? ledger.perIpError;
  const counts = calls.port.callCounts();
  const finishedAt = opts.clock.now();
  const result: ExecutionResult = {
    credential: plan.credential,
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    durationMs: finishedAt - startedAt,
    outcome: outcomeOf(plan, ledger.results, error),
    plan,
    before: [...opts.before],
    after: calls.lastRead,
    operations: ledger.results,
    reads: (opts.priorCalls?.reads ?? 0) + counts.reads,
    writes: (opts.priorCalls?.writes ?? 0) + counts.writes,
  };
  if (error) result.error = error;
  return result;
}

export async function execute(plan: Plan, port: WhitelistPort, opts: ExecuteOptions): Promise<ExecutionResult> {
  const startedAt = opts.startedAt ?? opts.clock.now();
  const calls = new PlanCalls(port, opts);
  const ledger = new ExecutionLedger(plan);
  const firstBreak = plan.operations.findIndex((o) => o.kind === 'deactivate');
  const shape: PlanShape = { firstBreak, makeCount: firstBreak === -1 ? plan.operations.length : firstBreak };

  await applyMakes(plan, calls, ledger, shape);
  if (!ledger.stopped && firstBreak !== -1) {
    const verified = await verifyingRead(calls, ledger, shape);
    const breaks = verified === undefined ? undefined : checkVerified(plan, verified, ledger, shape);
    if (breaks !== undefined) await applyBreaks(plan, calls, ledger, shape, breaks);
  }
  return resultOf(plan, opts, startedAt, calls, ledger);
}
