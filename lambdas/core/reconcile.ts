/**
 * One reconcile run for one credential: a fresh read of bunq's entries, plan, approve (when the run
 * carries an approver), execute. Every run starts from what bunq says now, never from what an
 * earlier run believed.
 */
import type { Clock } from '../shared/clock';
import type { Approver, Refusal } from './approval';
import { CountingPort } from './counting-port';
import { normaliseDesired } from './desired';
import { DeadlineReached, errorInfo, execute } from './executor';
import { normaliseCallerIps, plan, planAround } from './plan';
import type { ActualEntry, CredentialConfig, DesiredItem, ExecutionResult, Plan, WhitelistPort } from './types';

export interface ReconcileInput {
  desired: readonly DesiredItem[];
  config: CredentialConfig;
  port: WhitelistPort;
  clock: Clock;
  /** Epoch ms on `clock` at or after which nothing new starts (see ExecuteOptions.deadline). */
  deadline?: number;
  /**
   * The IPs this run calls bunq from (the worker's fixed egress IPs, the CLI's public IP): never
   * deactivated. Absent or empty = the run cannot tell, and every deactivation is held unless an
   * ACTIVE `*` covers the run.
   */
  callerIps?: readonly string[];
  /** Other reconciler IPs kept like caller IPs but no evidence of this run's caller (plan()'s keptIps). */
  keptIps?: readonly string[];
  /**
   * Decides on the plan made from this run's fresh read, before any write (CLI apply: the
   * operations the operator confirmed). Absent = approved (the worker's runs). A refusal ends the
   * run as a RefusedRun: nothing written, nothing failed.
   */
  approve?: Approver;
}

/** A run its approver refused: bunq was read and planned, and nothing was written. */
export interface RefusedRun {
  credential: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  outcome: 'refused';
  refusal: Refusal;
  /** The fresh plan the approver refused. */
  plan: Plan;
  before: ActualEntry[];
  reads: number;
  writes: number;
}

/** The plan we can still report when bunq could not be read: the desired side only, no operations. */
export function unreadPlan(
  desired: readonly DesiredItem[],
  config: CredentialConfig,
  now: number,
  callerIps?: readonly string[],
): Plan {
  const wanted = normaliseDesired(desired, now);
  return planAround(config, wanted, {
    callerIps: normaliseCallerIps(callerIps).ips,
    drift: [],
    operations: [],
    blocked: [],
    warnings: [
      ...wanted.warnings,
      { code: 'read-failed', message: 'bunq entries could not be read; nothing was planned or changed' },
    ],
  });
}

/** Without an approver every plan is executed, so the result is always an ExecutionResult. */
export function reconcile(input: ReconcileInput & { approve?: undefined }): Promise<ExecutionResult>;
export function reconcile(input: ReconcileInput): Promise<ExecutionResult | RefusedRun>;
export async function reconcile(input: ReconcileInput): Promise<ExecutionResult | RefusedRun> {
  const { desired, config, clock } = input;
  const startedAt = clock.now();
  const port = new CountingPort(input.port);

  // One read: the bunq client has already retried it as far as it may (the one retry layer).
  let before: ActualEntry[] | undefined;
  let readError: unknown;
  if (input.deadline !== undefined && clock.now() >= input.deadline) {
    readError = new DeadlineReached('the first read', input.deadline);
  } else {
    try {
      before = await port.listEntries();
    } catch (err) {
      readError = err;
    }
  }

  // What every result that ends before execute() shares: who, when, and the calls made.
  const ended = () => {
    const finishedAt = clock.now();
    const calls = port.callCounts();
    return {
      credential: config.credential,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(finishedAt).toISOString(),
      durationMs: finishedAt - startedAt,
      reads: calls.reads,
      writes: calls.writes,
    };
  };

  if (before === undefined) {
    return {
      ...ended(),
      outcome: 'failed',
      plan: unreadPlan(desired, config, clock.now(), input.callerIps),
      before: [],
      after: null,
      operations: [],
      error: errorInfo(readError),
    };
  }

  const thePlan = plan(desired, before, config, clock.now(), input.callerIps, input.keptIps);
  const approval = input.approve?.(thePlan);
  if (approval !== undefined && !approval.approved) {
    return {
      ...ended(),
      outcome: 'refused',
      refusal: { code: approval.code, reason: approval.reason },
      plan: thePlan,
      before,
    };
  }
  return execute(thePlan, input.port, {
    clock,
    before,
    startedAt,
    priorCalls: port.callCounts(),
    ...(input.deadline !== undefined ? { deadline: input.deadline } : {}),
  });
}
