/**
 * What a run would do for one credential, without doing it: the same reads the worker makes (config
 * and desired items, the bunq context, a fresh list of bunq's entries) and the core's plan(). Any
 * session the client opens is stored back, so repeated CLI calls do not hammer session-server.
 */
import type { DesiredStore } from '../lambdas/aws/desired-store';
import type { CallOptions } from '../lambdas/bunq';
import type { BunqLogger } from '../lambdas/bunq/logger';
import { plan, type ActualEntry, type CredentialConfig, type Plan } from '../lambdas/core';
import { credentialPort } from '../lambdas/handlers/reconcile-credential';
import type { Clock } from '../lambdas/shared/clock';
import type { ContextStorePort } from '../lambdas/aws/context-store';

export interface PlanDeps {
  desired: DesiredStore;
  contexts: ContextStorePort;
  clock: Clock;
  logger: BunqLogger;
  bunqOptions?: Omit<CallOptions, 'clock' | 'logger'>;
  /** The IPs this process calls bunq from (never deactivated); absent = cannot tell (core caller-ip guard). */
  callerIps?: readonly string[];
}

export interface CredentialPlan {
  config: CredentialConfig;
  actual: ActualEntry[];
  plan: Plan;
  /** Items that are neither `config` nor `ip#…` (ignored by the reconciler). */
  unknownEntries: string[];
}

export async function planCredential(deps: PlanDeps, credential: string): Promise<CredentialPlan> {
  const state = await deps.desired.readCredential(credential);
  const config = deps.desired.configOf(state);
  const actual = await (await credentialPort(deps, config)).listEntries();
  return { config, actual, plan: plan(state.desired, actual, config, deps.clock.now(), deps.callerIps), unknownEntries: state.unknownEntries };
}
