/**
 * Applies a plan through a WhitelistPort: additions and re-activations, then one verifying read,
 * then deactivations (make before break). It stops at the first failure it cannot retry and says
 * exactly which operations were applied, failed or not attempted. Rate limits are kept by the bunq
 * client behind the port; this module decides what to do when a call fails.
 */
import { isBunqError } from '../bunq/errors';
import type { Clock } from '../shared/clock';
import { activeConcreteIps, compareByAge } from './actual';
import { CountingPort, type CallCounts } from './counting-port';
import { simulate } from './guards';
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
}

export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_RETRY_DELAY_MS = 1000;

type ErrorInfo = { kind: string; message: string };

/** Failures worth another try once we know the change was not applied. */
const RETRYABLE_KINDS = new Set(['rate-limited', 'maintenance', 'server-error', 'timeout', 'network', 'outcome-unknown']);

export function isRetryable(err: unknown): boolean {
  return isBunqError(err) && (err.retryable || RETRYABLE_KINDS.has(err.kind));
}

export function errorInfo(err: unknown): ErrorInfo {
  if (isBunqError(err)) return { kind: err.kind, message: err.message };
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { kind: 'unexpected', message: message.length > 300 ? `${message.slice(0, 300)}…` : message };
}

const SUCCESS: ReadonlySet<OperationOutcome> = new Set(['applied', 'applied-as-add', 'confirmed-after-reread']);

export function isSuccess(outcome: OperationOutcome): boolean {
  return SUCCESS.has(outcome);
}

class Run {
  readonly port: CountingPort;
  private readonly clock: Clock;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  /** Our best knowledge of bunq's entries: the last read plus our confirmed changes. */
  known: ActualEntry[];
  /** The last list actually read in this run. */
  lastRead: ActualEntry[] | null = null;

  constructor(port: WhitelistPort, opts: ExecuteOptions) {
    this.port = new CountingPort(port);
    this.clock = opts.clock;
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    this.retryDelayMs = Math.max(0, opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS);
    this.known = opts.before.map((e) => ({ ...e }));
  }

  private async backoff(attempt: number): Promise<void> {
    await this.clock.sleep(this.retryDelayMs * 2 ** (attempt - 1));
  }

  async read(): Promise<ActualEntry[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        const entries = await this.port.listEntries();
        this.known = entries.map((e) => ({ ...e }));
        this.lastRead = entries;
        return entries;
      } catch (err) {
        if (!isRetryable(err) || attempt >= this.maxAttempts) throw err;
        await this.backoff(attempt);
      }
    }
  }

  private setKnownStatus(entryId: number, status: 'ACTIVE' | 'INACTIVE'): void {
    const e = this.known.find((x) => x.id === entryId);
    if (e) e.status = status;
  }

  /**
   * POST a new ACTIVE entry. Any failed POST may still have been applied (bunq can time out or fail
   * after writing), so we re-read before deciding anything: an IP never gets a second entry from us.
   */
  async add(ip: string, success: OperationOutcome, attemptsSoFar: number): Promise<Omit<OperationResult, 'operation'>> {
    let attempts = attemptsSoFar;
    for (let tries = 1; ; tries++) {
      const knownIds = new Set(this.known.map((e) => e.id));
      attempts++;
      try {
        const id = await this.port.addEntry(ip);
        this.known.push({ id, ip, status: 'ACTIVE', created: null });
        return { outcome: success, entryId: id, attempts };
      } catch (err) {
        let entries: ActualEntry[];
        try {
          entries = await this.read();
        } catch (readErr) {
          const e = errorInfo(err);
          return {
            outcome: 'failed',
            attempts,
            error: { kind: e.kind, message: `${e.message} (re-reading to check the outcome failed too: ${errorInfo(readErr).kind})` },
          };
        }
        const ours = entries.filter((e) => e.ip === ip && !knownIds.has(e.id)).sort(compareByAge);
        if (ours.length > 0) return { outcome: 'confirmed-after-reread', entryId: ours[0]!.id, attempts };
        const activeAlready = entries.filter((e) => e.ip === ip && e.status === 'ACTIVE').sort(compareByAge);
        if (activeAlready.length > 0) {
          return { outcome: 'confirmed-after-reread', entryId: activeAlready[0]!.id, attempts };
        }
        if (!isRetryable(err) || tries >= this.maxAttempts) return { outcome: 'failed', attempts, error: errorInfo(err) };
        await this.backoff(tries);
      }
    }
  }

  /** PUT a status. Idempotent, so retryable failures are simply tried again. */
  async setStatus(
    entryId: number,
    status: 'ACTIVE' | 'INACTIVE',
    onRefused?: (attempts: number) => Promise<Omit<OperationResult, 'operation'>>,
  ): Promise<Omit<OperationResult, 'operation'>> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.port.setStatus(entryId, status);
        this.setKnownStatus(entryId, status);
        return { outcome: 'applied', entryId, attempts: attempt };
      } catch (err) {
        if (onRefused && isBunqError(err) && err.kind === 'bad-request') return onRefused(attempt);
        if (isBunqError(err) && err.kind === 'outcome-unknown') {
          try {
            const entries = await this.read();
            if (entries.some((e) => e.id === entryId && e.status === status)) {
              return { outcome: 'confirmed-after-reread', entryId, attempts: attempt };
            }
          } catch (readErr) {
            const e = errorInfo(err);
            return {
              outcome: 'failed',
              attempts: attempt,
              error: { kind: e.kind, message: `${e.message} (re-reading to check the outcome failed too: ${errorInfo(readErr).kind})` },
            };
          }
        }
        if (!isRetryable(err) || attempt >= this.maxAttempts) {
          return { outcome: 'failed', entryId, attempts: attempt, error: errorInfo(err) };
        }
        await this.backoff(attempt);
      }
    }
  }

  async applyMake(op: Operation): Promise<Omit<OperationResult, 'operation'>> {
    if (op.kind === 'add') return this.add(op.ip, 'applied', 0);
    if (op.kind === 'reactivate') {
      // bunq may refuse INACTIVE → ACTIVE (unconfirmed either way): then a new entry is the only way.
      return this.setStatus(op.entryId, 'ACTIVE', (attempts) => this.add(op.ip, 'applied-as-add', attempts));
    }
    throw new Error(`applyMake called with a ${op.kind}`);
  }

  async timed(op: Operation, fn: () => Promise<Omit<OperationResult, 'operation'>>): Promise<OperationResult> {
    const start = this.clock.now();
    const r = await fn();
    return { operation: op, ...r, durationMs: this.clock.now() - start };
  }
}

function outcomeOf(plan: Plan, results: readonly OperationResult[], error: ErrorInfo | undefined): RunOutcome {
  if (plan.mode === 'observe') return 'observed';
  if (error) return results.some((r) => isSuccess(r.outcome)) ? 'partial' : 'failed';
  if (plan.operations.length === 0 && plan.blocked.length === 0) return 'in-sync';
  return 'converged';
}

export async function execute(plan: Plan, port: WhitelistPort, opts: ExecuteOptions): Promise<ExecutionResult> {
  const startedAt = opts.startedAt ?? opts.clock.now();
  const run = new Run(port, opts);
  const results: OperationResult[] = plan.operations.map((operation) => ({ operation, outcome: 'not-attempted' }));
  let error: ErrorInfo | undefined;

  const skipRest = (from: number, reason: string): void => {
    for (let j = from; j < results.length; j++) {
      const r = results[j]!;
      if (r.outcome === 'not-attempted' && r.skipReason === undefined) r.skipReason = reason;
    }
  };

  const firstBreak = plan.operations.findIndex((o) => o.kind === 'deactivate');
  const makeCount = firstBreak === -1 ? plan.operations.length : firstBreak;

  for (let i = 0; i < makeCount; i++) {
    const op = plan.operations[i]!;
    if (op.kind === 'deactivate') continue;
    results[i] = await run.timed(op, () => run.applyMake(op));
    if (results[i]!.outcome === 'failed') {
      error = results[i]!.error;
      skipRest(i + 1, `an earlier operation failed (${op.kind} ${op.ip})`);
      break;
    }
  }

  if (!error && firstBreak !== -1) {
    // The verifying read: proves we can still call bunq, and that every addition took, before any
    // entry is switched off.
    let verified: ActualEntry[] | undefined;
    try {
      verified = await run.read();
    } catch (err) {
      error = errorInfo(err);
      skipRest(firstBreak, 'the verifying read before deactivations failed');
    }
    if (verified) {
      const activeIps = activeConcreteIps(verified);
      const notTaken = results
        .slice(0, makeCount)
        .filter((r) => isSuccess(r.outcome) && !activeIps.has(r.operation.ip))
        .map((r) => r.operation.ip);
      const pending = plan.operations.slice(firstBreak).filter((o) => o.kind === 'deactivate');
      const stillActive = pending.filter((o) => verified.some((e) => e.id === o.entryId && e.status === 'ACTIVE'));
      if (notTaken.length > 0) {
        error = {
          kind: 'verification-failed',
          message: `the verifying read does not show ${notTaken.join(', ')} as ACTIVE; no deactivation attempted`,
        };
        skipRest(firstBreak, 'an addition did not show up as ACTIVE in the verifying read');
      } else if (stillActive.length > 0 && activeConcreteIps(simulate(verified, stillActive)).size === 0) {
        error = {
          kind: 'never-empty',
          message: 'at the verifying read these deactivations would leave no ACTIVE IPv4 entry; none attempted',
        };
        skipRest(firstBreak, 'never-empty: would leave no ACTIVE IPv4 entry at the verifying read');
      } else {
        for (let i = firstBreak; i < plan.operations.length; i++) {
          const op = plan.operations[i]!;
          if (op.kind !== 'deactivate') continue;
          const entry = run.known.find((e) => e.id === op.entryId);
          if (!entry || entry.ip !== op.ip) {
            results[i]!.skipReason = 'the entry is no longer listed by bunq';
            continue;
          }
          if (entry.status !== 'ACTIVE') {
            results[i]!.skipReason = 'the entry is already INACTIVE';
            continue;
          }
          results[i] = await run.timed(op, () => run.setStatus(op.entryId, 'INACTIVE'));
          if (results[i]!.outcome === 'failed') {
            error = results[i]!.error;
            skipRest(i + 1, `an earlier operation failed (deactivate ${op.ip})`);
            break;
          }
        }
      }
    }
  }

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
