import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { dynamoClient, secretsClient } from '../aws/clients';
import { EventBridgeChangeEvents } from '../aws/events';
import { ContextStore } from '../aws/context-store';
import { CredentialOwners } from '../aws/credential-owner';
import { DesiredStore } from '../aws/desired-store';
import { egressIpsFrom, historyTtlDaysFrom, requireEnv, secretPrefixFrom, type Env } from '../aws/env';
import { createRunMetrics } from '../aws/metrics';
import { StateStore } from '../aws/state-store';
import { RateLimiter } from '../bunq';
import { EnvName } from '../shared/env-names';
import { systemClock } from '../shared/clock';
import type { WorkerDeps } from '../service/reconcile-credential';
import { handlerLogger } from './handler-logger';

/**
 * The worker's wiring, from the environment the stack sets. Built on first use and kept for the
 * life of the container: SDK clients, the context cache and the bunq rate limiter (every run in
 * this container calls bunq from the same IP) are shared across invocations. Only the worker's
 * module imports Secrets Manager, EventBridge and the bunq client, so only its bundle carries them.
 */

let worker: WorkerDeps | undefined;

export function workerDeps(env: Env = process.env): WorkerDeps {
  worker ??= (() => {
    const dynamo = dynamoClient();
    return {
      desired: new DesiredStore(dynamo, requireEnv(env, EnvName.DesiredTable)),
      state: new StateStore(dynamo, requireEnv(env, EnvName.StateTable), historyTtlDaysFrom(env)),
      contexts: new ContextStore(secretsClient(), { secretPrefix: secretPrefixFrom(env) }),
      metrics: createRunMetrics(),
      logger: handlerLogger,
      clock: systemClock,
      owners: new CredentialOwners(dynamo, {
        stateTable: requireEnv(env, EnvName.StateTable),
        desiredTable: requireEnv(env, EnvName.DesiredTable),
      }),
      bunqOptions: { limiter: new RateLimiter({ clock: systemClock }) },
      egress: egressIpsFrom(env),
      // The default bus only (the worker's IAM allows no other); rules route the events onwards.
      events: new EventBridgeChangeEvents(new EventBridgeClient({}), 'default'),
    };
  })();
  return worker;
}

/** Forget the wiring (tests that change the environment between cases). */
export function resetWorkerDeps(): void {
  worker = undefined;
}
