/**
 * What a run would do for one credential, without doing it: the same reads the worker makes (config
 * and desired items, the bunq context, a fresh list of bunq's entries) and the core's plan(). Any
 * session the client opens is stored back, so repeated CLI calls do not hammer session-server.
 */
import type { LoadedContext } from '../lambdas/aws/context-store';
import type { DesiredStore } from '../lambdas/aws/desired-store';
import { BunqClient, whitelistPort, type CallOptions } from '../lambdas/bunq';
import type { BunqLogger } from '../lambdas/bunq/logger';
import { plan, type ActualEntry, type CredentialConfig, type Plan } from '../lambdas/core';
import { ContextMismatchError } from '../lambdas/handlers/reconcile-credential';
import type { Clock } from '../lambdas/shared/clock';
import type { ContextStorePort } from './context-port';

export interface PlanDeps {
  desired: DesiredStore;
  contexts: ContextStorePort;
  clock: Clock;
  logger: BunqLogger;
  bunqOptions?: Omit<CallOptions, 'clock' | 'logger'>;
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
  const loaded = await deps.contexts.load(config.secretName);
  if (loaded.context.userId !== config.userId) {
    throw new ContextMismatchError(credential, config.userId, loaded.context.userId, config.secretName);
  }
  let basis: LoadedContext = loaded;
  const client = new BunqClient({
    ...deps.bunqOptions,
    clock: deps.clock,
    logger: deps.logger,
    context: loaded.context,
    onSessionRefreshed: async (context) => {
      if (context.session === null) return;
      basis = (await deps.contexts.saveSession(basis, context.session)).current;
    },
  });
  const actual = await whitelistPort(client, config.credentialPasswordIpId).listEntries();
  return { config, actual, plan: plan(state.desired, actual, config, deps.clock.now()), unknownEntries: state.unknownEntries };
}
