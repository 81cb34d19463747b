import { ContextStoreError, type ContextStorePort, type LoadedContext } from '../aws/context-store';
import {
  CREDENTIAL_CLAIMED_TWICE_KIND,
  CredentialClaimedTwiceError,
  OWNER_RECORD_UNREADABLE_KIND,
  OwnerRecordUnreadableError,
  retirementOf,
  type CredentialOwners,
} from '../aws/credential-owner';
import { changeEventsFor, type ChangeEvent } from '../aws/change-events';
import { MissingConfigError, type DesiredStore } from '../aws/desired-store';
import type { EgressIps } from '../aws/env';
import type { ChangeEventSink } from '../aws/events';
import { metricsForFailure, metricsForResult, type MetricPoint, type RunMetrics } from '../aws/metrics';
import type { ReconcileRequest } from '../aws/reconcile-request';
import { secretRedactor } from '../shared/redact';
import {
  runRecordFromFailure,
  runRecordFromResult,
  type RunError,
  type RunRecord,
  type StateStore,
} from '../aws/state-store';
import { BunqClient, whitelistPort, type CallOptions } from '../bunq';
import type { Logger } from '../shared/logger';
import type { BunqContext } from '../bunq/types';
import type { WriteReceipts } from '../bunq/whitelist-port';
import { CredentialConfigError, entriesAfterRun, isPortError, reconcile, retryDisposition, runVerdict, type BlockedOperation, type ErrorKind, type CredentialConfig, type ExecutionResult, type Operation, type Warning, type WhitelistPort } from '../core';
import type { Approver, Refusal } from '../core/approval';
import { MetricName } from '../shared/metric-names';
import type { Clock } from '../shared/clock';
import { nameCaller } from './caller-note';

/**
 * One reconcile run for one credential: load config, desired items and the bunq context, run the
 * core reconcile against bunq, then record status, history and metrics. Whatever fails, the run is
 * recorded (status item with the error, RunFailed metric) and reported as failed; the queue
 * redelivers only a run that left no record, the schedule retries the rest.
 * Nothing is ever changed at bunq on a guess.
 */

export interface WorkerDeps {
  desired: DesiredStore;
  state: StateStore;
  contexts: ContextStorePort;
  metrics: RunMetrics;
  logger: Logger;
  clock: Clock;
  /** The owner records: a run calls bunq only for a credential this config owns (credential-owner.ts). */
  owners: Pick<CredentialOwners, 'ensureOwner'>;
  /** Passed to every BunqClient: the shared rate limiter, timeouts, test transport settings. */
  bunqOptions?: Omit<CallOptions, 'clock' | 'logger'>;
  /** How long before the Lambda's end a run stops starting bunq calls (default RUN_DEADLINE_MARGIN_MS). */
  deadlineMarginMs?: number;
  /**
   * The worker's own IPs (EGRESS_IPS, lambdas/aws/env.ts), passed to every run as its caller IPs.
   * `problem` is set when the variable is malformed; `ips` is then empty (the caller is unknown).
   */
  egress?: EgressIps;
  /** Where change events go (the default EventBridge bus in AWS); absent = none are published. */
  events?: ChangeEventSink;
}

export interface RunReport {
  credential: string;
  ok: boolean;
  /**
   * Whether the queue should deliver the request again: only when the run left no record. A
   * recorded failure is retried by the next scheduled run instead (see shouldRetry).
   */
  retry: boolean;
  /**
   * `retired`: the config was retired by `bootstrap --force`; nothing was called or recorded.
   * `refused`: the run's approver refused its fresh plan (`refusal` says why); nothing was written
   * at bunq, and no run record replaces the last real run's.
   */
  outcome: RunRecord['outcome'] | 'retired' | 'refused';
  error: RunError | null;
  refusal?: Refusal;
}

export interface RunOptions {
  /**
   * Epoch ms on deps.clock after which the run starts no new bunq call (the Lambda's remaining time
   * less a margin), so a slow bunq ends the run in a recorded, retried failure instead of a kill.
   */
  deadline?: number;
  /**
   * Decides on the run's own fresh plan before any write (CLI apply: approveIfUnchanged with the
   * operations the operator confirmed). A refusal is reported as outcome `refused`; nothing is
   * written at bunq, and nothing is recorded, as nothing was run. The worker passes none.
   */
  approve?: Approver;
  /**
   * The IPs this run calls bunq from (the worker: EGRESS_IPS; the CLI: its public IP), never
   * deactivated whatever the config item says. Absent or empty = the run cannot tell, and every
   * deactivation is held unless an ACTIVE `*` covers the run. A credentials-rejected error names them.
   */
  callerIps?: readonly string[];
  /**
   * This is the deployed worker's run: its `callerIps` are recorded in the status item
   * (`workerCallerIps`). Any other run (a CLI-local apply) that knows its own IP keeps the recorded
   * worker IPs too, as if it called from them: it cannot know them otherwise.
   */
  workerRun?: boolean;
  /**
   * Problems of the deployment's own configuration (the worker: a malformed EGRESS_IPS), written
   * into the run record's warnings so `status` names them, not only the log.
   */
  configWarnings?: readonly Warning[];
}

export class ContextMismatchError extends Error {
  constructor(credential: string, configUserId: number, contextUserId: number, secretName: string) {
    super(
      `config of ${credential} names bunq user ${configUserId}, but secret ${secretName} holds a context for ` +
        `user ${contextUserId}; not calling bunq with the wrong key`,
    );
    this.name = 'ContextMismatchError';
  }
}

/**
 * A stable, operator-readable kind per failure, from the one list (lambdas/core/errors.ts): a
 * port's (bunq's) kinds as they are, the service's and its adapters' named here.
 */
export function errorKindOf(err: unknown): ErrorKind {
  if (isPortError(err)) return err.kind;
  if (err instanceof ContextStoreError) return err.code;
  if (err instanceof MissingConfigError) return 'config-missing';
  if (err instanceof CredentialConfigError) return 'config-invalid';
  if (err instanceof ContextMismatchError) return 'context-mismatch';
  if (err instanceof CredentialClaimedTwiceError) return CREDENTIAL_CLAIMED_TWICE_KIND;
  if (err instanceof OwnerRecordUnreadableError) return OWNER_RECORD_UNREADABLE_KIND;
  return 'unexpected';
}

export function runErrorOf(err: unknown): RunError {
  const message = err instanceof Error ? err.message : String(err);
  return { kind: errorKindOf(err), message: secretRedactor.redactString(message) };
}

export async function reconcileCredential(
  deps: WorkerDeps,
  request: ReconcileRequest,
  options: RunOptions = {},
): Promise<RunReport> {
  const { credential } = request;
  const runContext = { reason: request.reason, requestedAt: request.requestedAt };
  const started = deps.clock.now();
  let secretName: string | undefined;
  let result: ExecutionResult;
  let receipts: WriteReceipts | undefined;
  try {
    const desired = await deps.desired.readCredential(credential);
    const retired = retirementOf(desired.configItem);
    if (retired !== null) {
      // Ownership moved to another config (bootstrap --force): this one never calls bunq again.
      deps.logger.info('credential retired; not reconciled', { credential, reason: request.reason, ...retired });
      return { credential, ok: true, retry: false, outcome: 'retired', error: null };
    }
    const config = deps.desired.configOf(desired);
    secretName = config.secretName;
    const loaded = await loadCredentialContext(deps, config);
    await deps.owners.ensureOwner(
      credential,
      { environment: loaded.context.environment, userId: config.userId, credentialPasswordIpId: config.credentialPasswordIpId },
      new Date(deps.clock.now()).toISOString(),
    );
    const ownIps = options.callerIps ?? [];
    // The worker's recorded IPs are kept by a CLI-local run, but they are no evidence of its own
    // caller: judged apart (plan()'s keptIps), an ACTIVE worker IP cannot make a wrong claim look right.
    const callerIps = ownIps;
    const keptIps = options.workerRun === true ? [] : (await withRecordedWorkerIps(deps.state, credential, ownIps)).filter((ip) => !ownIps.includes(ip));
    // The run's deadline reaches into the client: no bunq call outlives it (issue 13).
    const port = portOnContext(options.deadline === undefined ? deps : { ...deps, bunqOptions: { ...deps.bunqOptions, deadline: options.deadline } }, config, loaded);
    receipts = port;
    const run = await reconcile({
      desired: desired.desired,
      config,
      port,
      clock: deps.clock,
      ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
      callerIps,
      keptIps,
      ...(options.approve !== undefined ? { approve: options.approve } : {}),
    });
    if (run.outcome === 'refused') {
      deps.logger.warn('reconcile run refused at approval; nothing was changed', {
        credential,
        reason: request.reason,
        refusal: run.refusal,
        reads: run.reads,
        writes: run.writes,
      });
      return { credential, ok: false, retry: false, outcome: 'refused', error: null, refusal: run.refusal };
    }
    result = run;
  } catch (err) {
    return recordFailure(deps, credential, runContext, started, err, secretName, options.callerIps);
  }

  const record = runRecordFromResult(result, runContext);
  if (options.configWarnings !== undefined) record.warnings.unshift(...options.configWarnings);
  if (record.error !== null) record.error = nameCaller(record.error, options.callerIps);
  if (options.workerRun === true && result.plan.callerIps !== undefined && result.plan.callerIps.length > 0) {
    record.workerCallerIps = result.plan.callerIps;
  }
  const verdict = runVerdict(result);
  const succeeded = verdict.ok;
  if (!succeeded && secretName !== undefined) deps.contexts.invalidate(secretName);
  // Read before this run's record replaces it: which held operations are news (change-events.ts).
  const previouslyHeld = deps.events === undefined ? [] : await previouslyHeldOf(deps, result);
  // Without its record the run is retried: a re-run is harmless (it starts from a fresh read and
  // finds nothing to do), an unrecorded change is not.
  const recorded = await writeRecord(deps, record);
  const ok = succeeded && recorded;
  const events = changeEventsFor(result, { trigger: request.reason, receipts: receipts?.writeReceipts() ?? [], previouslyHeld });
  const eventsFailed = await publishChangeEvents(deps, credential, events);
  deps.metrics.publish(credential, [...metricsForResult(result), ...eventsFailed]);
  const summary = {
    credential,
    reason: request.reason,
    outcome: result.outcome,
    mode: result.plan.mode,
    drift: result.plan.drift.length,
    applied: record.applied.length,
    blocked: result.plan.blocked.length,
    invalid: result.plan.invalid.length,
    activeIps: (entriesAfterRun(result) ?? []).filter((e) => e.status === 'ACTIVE' && e.ip !== '*').length,
    changeEvents: events.length,
    reads: result.reads,
    writes: result.writes,
    durationMs: result.durationMs,
  };
  if (succeeded) deps.logger.info('reconcile run finished', summary);
  else deps.logger.error('reconcile run failed', { ...summary, errorKind: record.error?.kind, error: record.error, retriedBy: retriedBy(record.error) });
  return { credential, ok, retry: shouldRetry(recorded), outcome: result.outcome, error: record.error };
}

/**
 * The caller IPs of a run that is not the worker's: its own, plus the worker's IPs as its last run
 * recorded them. A run that cannot tell its own IP stays unknown (every deactivation held, which
 * keeps the worker's IPs too): the worker's IPs must not make it look as if it knew its own.
 */
export async function withRecordedWorkerIps(
  state: Pick<StateStore, 'readStatus'>,
  credential: string,
  ownIps: readonly string[],
): Promise<string[]> {
  if (ownIps.length === 0) return [];
  const recorded = (await state.readStatus(credential))?.workerCallerIps ?? [];
  return [...new Set([...ownIps, ...recorded])];
}

/**
 * Only a run that left no record goes back to the queue (a re-run starts from a fresh read and is
 * harmless; an unrecorded change is not). A recorded failure, transient or terminal, is
 * acknowledged: the next scheduled run retries it within one schedule period, and holding the
 * message would block the credential's FIFO group (its operators' later edits) until the
 * visibility timeout (docs/decisions.md, issue 12).
 */
export function shouldRetry(recorded: boolean): boolean {
  return !recorded;
}

/** What retries a recorded failure: the schedule by itself, or nothing until an operator fixes data. */
function retriedBy(error: RunError | null): string {
  return error !== null && retryDisposition(error.kind) === 'terminal' ? 'an operator fix (terminal)' : 'the next scheduled run';
}

/** The operations the status item says were held before this run (only read when this run holds some). */
async function previouslyHeldOf(deps: WorkerDeps, result: ExecutionResult): Promise<BlockedOperation[]> {
  if (!result.plan.blocked.some((b) => b.guard !== 'wildcard-untouchable')) return [];
  try {
    return (await deps.state.readStatus(result.credential))?.blocked ?? [];
  } catch {
    // Unknown history: announce the holds again rather than miss one.
    return [];
  }
}

/**
 * Best effort: a change event that cannot be published is logged and counted, never a reason to
 * fail a run that has changed bunq. Returns the ChangeEventsFailed point (empty when none failed).
 */
async function publishChangeEvents(deps: WorkerDeps, credential: string, events: ChangeEvent[]): Promise<MetricPoint[]> {
  if (deps.events === undefined || events.length === 0) return [];
  let failed = events.length;
  let error: string | undefined;
  try {
    const report = await deps.events.publish(events);
    failed = report.failed;
    error = report.error;
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  if (failed === 0) return [];
  deps.logger.error('change events not published', {
    credential,
    failed,
    of: events.length,
    error,
    events: events.map((e) => ({ detailType: e.detailType, ip: e.detail.ip, action: e.detail.action })),
  });
  return [{ name: MetricName.ChangeEventsFailed, unit: 'Count', value: failed, scope: 'service' }];
}

/**
 * bunq's whitelist of one configured credential, through a client on its stored context. Refuses a
 * context of another bunq user, and stores every session the client opens. The worker and the CLI's
 * `plan` both read bunq through this.
 */
export async function credentialPort(
  deps: Pick<WorkerDeps, 'contexts' | 'clock' | 'logger' | 'bunqOptions'>,
  config: CredentialConfig,
): Promise<WhitelistPort & WriteReceipts> {
  return portOnContext(deps, config, await loadCredentialContext(deps, config));
}

/** The config's stored context; refuses a context of another bunq user. */
export async function loadCredentialContext(deps: Pick<WorkerDeps, 'contexts'>, config: CredentialConfig): Promise<LoadedContext> {
  const loaded = await deps.contexts.load(config.secretName);
  if (loaded.context.userId !== config.userId) {
    throw new ContextMismatchError(config.credential, config.userId, loaded.context.userId, config.secretName);
  }
  return loaded;
}

/** bunq's whitelist of the config's credential through a client on a loaded context. */
export function portOnContext(
  deps: Pick<WorkerDeps, 'contexts' | 'clock' | 'logger' | 'bunqOptions'>,
  config: CredentialConfig,
  loaded: LoadedContext,
): WhitelistPort & WriteReceipts {
  const client = new BunqClient({
    ...deps.bunqOptions,
    clock: deps.clock,
    logger: deps.logger,
    context: loaded.context,
    onSessionRefreshed: sessionPersister(deps, config.credential, loaded),
  });
  return whitelistPort(client, config.credentialPasswordIpId);
}

/** Persists every session the client opens, so the next run (any container) reuses it. */
function sessionPersister(
  deps: Pick<WorkerDeps, 'contexts' | 'logger'>,
  credential: string,
  loaded: LoadedContext,
): (context: BunqContext) => Promise<void> {
  let basis = loaded;
  return async (context) => {
    if (context.session === null) return;
    const written = await deps.contexts.saveSession(basis, context.session);
    basis = written.current;
    deps.logger.info('bunq session stored', { credential, secretName: loaded.secretName, outcome: written.outcome });
  };
}

async function recordFailure(
  deps: WorkerDeps,
  credential: string,
  runContext: { reason: RunRecord['reason']; requestedAt: string | null },
  started: number,
  err: unknown,
  secretName: string | undefined,
  callerIps: readonly string[] | undefined,
): Promise<RunReport> {
  const finished = deps.clock.now();
  const error = nameCaller(runErrorOf(err), callerIps);
  // The secret may be fixed by the time the queue retries: read it afresh then.
  if (secretName !== undefined) deps.contexts.invalidate(secretName);
  const record = runRecordFromFailure(
    credential,
    runContext,
    { startedAt: new Date(started).toISOString(), finishedAt: new Date(finished).toISOString(), durationMs: finished - started },
    error,
  );
  const recorded = await writeRecord(deps, record);
  deps.metrics.publish(credential, metricsForFailure(error.kind));
  deps.logger.error('reconcile run failed', { credential, reason: runContext.reason, outcome: 'failed', errorKind: error.kind, error, retriedBy: retriedBy(error) });
  return { credential, ok: false, retry: shouldRetry(recorded), outcome: 'failed', error };
}

/** A state-table outage must not hide the run's own outcome: log it, and say it failed. */
async function writeRecord(deps: WorkerDeps, record: RunRecord): Promise<boolean> {
  try {
    await deps.state.recordRun(record);
    return true;
  } catch (err) {
    deps.logger.error('could not write run status/history', {
      credential: record.credential,
      outcome: record.outcome,
      error: runErrorOf(err),
    });
    return false;
  }
}
