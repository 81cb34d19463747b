/**
 * What a run would do for one credential, without doing it: the same reads the worker makes (config
 * and desired items, the bunq context, a fresh list of bunq's entries) and the core's plan(). Any
 * session the client opens is stored back, so repeated CLI calls do not hammer session-server.
 */
import { refusalOf, retirementOf, type CredentialOwners } from '../lambdas/aws/credential-owner';
import { resolveBaseUrl } from '../lambdas/bunq/call-environment';
import { isBunqError } from '../lambdas/bunq/errors';
import { plan, type ActualEntry, type CredentialConfig, type Plan } from '../lambdas/core';
import { callerSentence, CREDENTIALS_REJECTED } from '../lambdas/service/caller-note';
import { loadCredentialContext, portOnContext, withRecordedWorkerIps, type WorkerDeps } from '../lambdas/service/reconcile-credential';
import type { StateStore } from '../lambdas/aws/state-store';
import { callerOrigin, type CallerIps, type CallerResolver } from './caller-ips';
import { CliError } from './errors';

/**
 * The worker's dependencies a plan needs, read-only where the worker writes: a plan claims no owner
 * record (it only refuses a config the worker would refuse), and it reads the worker's recorded
 * caller IPs from the status item, kept like this machine's own as `apply --local` keeps them.
 */
export type PlanDeps = Pick<WorkerDeps, 'desired' | 'contexts' | 'clock' | 'logger' | 'bunqOptions'> & {
  owners: Pick<CredentialOwners, 'verdict'>;
  state?: Pick<StateStore, 'readStatus'>;
};

export interface CredentialPlan {
  config: CredentialConfig;
  actual: ActualEntry[];
  plan: Plan;
  /** Items that are neither `config` nor `ip#…` (ignored by the reconciler). */
  unknownEntries: string[];
  /** This machine's caller IPs, judged from the base URL the run calls (the stored context's). */
  caller: CallerIps;
  /** The worker's recorded egress IPs, kept by this plan as `apply --local` keeps them. */
  workerCallerIps: string[];
}

/** The unknown caller the demo and tests get when they do not say (the core then holds deactivations). */
const UNKNOWN: CallerIps = { ips: [], source: 'unknown', detail: 'not resolved' };

/**
 * @param callerOrResolver this machine's caller IPs, or how to learn them from the base URL the run
 *   calls: only the loaded context says which bunq that is (BUNQ_BASE_URL may be a leftover).
 */
export async function planCredential(
  deps: PlanDeps,
  credential: string,
  callerOrResolver: CallerIps | CallerResolver = UNKNOWN,
): Promise<CredentialPlan> {
  const state = await deps.desired.readCredential(credential);
  const retired = retirementOf(state.configItem);
  if (retired !== null) {
    throw new CliError(
      `credential ${credential} was retired at ${retired.retiredAt} in favour of "${retired.retiredInFavourOf}" (bootstrap --force): ` +
        `it is not reconciled; use "${retired.retiredInFavourOf}", or take it back with: bunq-ip bootstrap ${credential} --force`,
    );
  }
  const config = deps.desired.configOf(state);
  const loaded = await loadCredentialContext(deps, config);
  const key = { environment: loaded.context.environment, userId: config.userId, credentialPasswordIpId: config.credentialPasswordIpId };
  const refusal = refusalOf(credential, key, await deps.owners.verdict(credential, key));
  if (refusal !== null) throw new CliError(refusal.message);
  const caller =
    typeof callerOrResolver === 'function'
      ? await callerOrResolver(resolveBaseUrl(loaded.context.environment, loaded.context.baseUrl))
      : callerOrResolver;
  let actual: ActualEntry[];
  try {
    actual = await portOnContext(deps, config, loaded).listEntries();
  } catch (err) {
    throw namingCaller(err, caller, config);
  }
  // The worker's recorded IPs are kept, but judged apart from this run's own claim (as the run
  // itself does): an ACTIVE worker IP must not make a wrong claim of ours look confirmed.
  const withWorker = deps.state === undefined ? caller.ips : await withRecordedWorkerIps(deps.state, credential, caller.ips);
  const workerCallerIps = withWorker.filter((ip) => !caller.ips.includes(ip));
  return {
    config,
    actual,
    plan: plan(state.desired, actual, config, deps.clock.now(), caller.ips, workerCallerIps),
    unknownEntries: state.unknownEntries,
    caller,
    workerCallerIps,
  };
}

/** bunq refused the caller: say which IP we called from, so the operator knows what to whitelist. */
export function namingCaller(err: unknown, caller: CallerIps, config?: CredentialConfig): unknown {
  if (!isBunqError(err) || err.kind !== CREDENTIALS_REJECTED) return err;
  const which = config === undefined ? '' : `credential ${config.credential}: `;
  return new CliError(`bunq: ${err.message}; ${which}${callerSentence(caller.ips, callerOrigin(caller))}`, 1, [
    `kind: ${err.kind}`,
    ...(err.responseId ? [`bunq response id (for bunq support): ${err.responseId}`] : []),
  ]);
}
