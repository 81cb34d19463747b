import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { awsClients } from '../aws/clients';
import { EventBridgeChangeEvents } from '../aws/events';
import { ContextStore } from '../aws/context-store';
import { CredentialOwners } from '../aws/credential-owner';
import { DesiredStore } from '../aws/desired-store';
import { egressIpsFrom, historyTtlDaysFrom, requireEnv, secretPrefixFrom } from '../aws/env';
import { logger } from '../aws/logger';
import { createRunMetrics, createServiceMetrics } from '../aws/metrics';
import { ReconcileQueue } from '../aws/queue';
import { StateStore } from '../aws/state-store';
import { RateLimiter } from '../bunq';
import type { Logger } from '../shared/logger';
import { EnvName } from '../shared/metric-names';
import { systemClock } from '../shared/clock';
import type { FanOutDeps } from './fan-out';
import type { WorkerDeps } from '../service/reconcile-credential';
import type { StreamDeps } from './stream-trigger';

/**
 * Wires the handlers to AWS from the environment the stack sets. Built on first use and kept for
 * the life of the container: SDK clients, the context cache and the bunq rate limiter (every run in
 * this container calls bunq from the same IP) are shared across invocations.
 */

/** @deprecated the one name is Logger (lambdas/shared/logger.ts); kept until fan-out.ts and stream-trigger.ts import it (HANDLERS). */
export type HandlerLogger = Logger;

/** Powertools' Logger behind the plain (message, attributes) shape the rest of the code uses. */
export const handlerLogger: Logger = {
  debug: (message, attributes) => logger.debug(message, attributes ?? {}),
  info: (message, attributes) => logger.info(message, attributes ?? {}),
  warn: (message, attributes) => logger.warn(message, attributes ?? {}),
  error: (message, attributes) => logger.error(message, attributes ?? {}),
};

type Env = Readonly<Record<string, string | undefined>>;

let worker: WorkerDeps | undefined;
let fanOut: FanOutDeps | undefined;
let stream: StreamDeps | undefined;

export function workerDeps(env: Env = process.env): WorkerDeps {
  worker ??= (() => {
    const clients = awsClients();
    return {
      desired: new DesiredStore(clients.dynamo, requireEnv(env, EnvName.DesiredTable)),
      state: new StateStore(clients.dynamo, requireEnv(env, EnvName.StateTable), historyTtlDaysFrom(env)),
      contexts: new ContextStore(clients.secrets, { secretPrefix: secretPrefixFrom(env) }),
      metrics: createRunMetrics(),
      logger: handlerLogger,
      clock: systemClock,
      owners: new CredentialOwners(clients.dynamo, {
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

export function fanOutDeps(env: Env = process.env): FanOutDeps {
  fanOut ??= (() => {
    const clients = awsClients();
    return {
      desired: new DesiredStore(clients.dynamo, requireEnv(env, EnvName.DesiredTable)),
      queue: new ReconcileQueue(clients.sqs, requireEnv(env, EnvName.QueueUrl)),
      clock: systemClock,
      logger: handlerLogger,
      metrics: createServiceMetrics(),
    };
  })();
  return fanOut;
}

export function streamDeps(env: Env = process.env): StreamDeps {
  stream ??= {
    queue: new ReconcileQueue(awsClients().sqs, requireEnv(env, EnvName.QueueUrl)),
    clock: systemClock,
    logger: handlerLogger,
    metrics: createServiceMetrics(),
  };
  return stream;
}

/** Forget the wiring (tests that change the environment between cases). */
export function resetHandlerRuntime(): void {
  worker = undefined;
  fanOut = undefined;
  stream = undefined;
}
