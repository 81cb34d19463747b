import { dynamoClient, sqsClient } from '../aws/clients';
import { DesiredStore } from '../aws/desired-store';
import { requireEnv, type Env } from '../aws/env';
import { createServiceMetrics, type ServiceMetrics } from '../aws/metrics';
import { ReconcileQueue } from '../aws/queue';
import { EnvName } from '../shared/env-names';
import { systemClock, type Clock } from '../shared/clock';
import { handlerLogger } from './handler-logger';
import type { Logger } from '../shared/logger';

/** What the fan-out needs, and its wiring from the environment (kept for the container's life). */

export interface FanOutDeps {
  desired: DesiredStore;
  queue: ReconcileQueue;
  clock: Clock;
  logger: Logger;
  /** Counts skipped credentials (the Lambda runtime always sets it); without it they are only logged. */
  metrics?: ServiceMetrics;
}

let fanOut: FanOutDeps | undefined;

export function fanOutDeps(env: Env = process.env): FanOutDeps {
  fanOut ??= {
    desired: new DesiredStore(dynamoClient(), requireEnv(env, EnvName.DesiredTable)),
    queue: new ReconcileQueue(sqsClient(), requireEnv(env, EnvName.QueueUrl)),
    clock: systemClock,
    logger: handlerLogger,
    metrics: createServiceMetrics(),
  };
  return fanOut;
}

/** Forget the wiring (tests that change the environment between cases). */
export function resetFanOutDeps(): void {
  fanOut = undefined;
}
