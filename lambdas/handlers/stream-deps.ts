import { sqsClient } from '../aws/clients';
import { requireEnv, type Env } from '../aws/env';
import { createServiceMetrics, type ServiceMetrics } from '../aws/metrics';
import { ReconcileQueue } from '../aws/queue';
import { EnvName } from '../shared/env-names';
import { systemClock, type Clock } from '../shared/clock';
import { handlerLogger } from './handler-logger';
import type { Logger } from '../shared/logger';

/** What the stream trigger needs (the queue only), and its wiring from the environment. */

export interface StreamDeps {
  queue: ReconcileQueue;
  clock: Clock;
  logger: Logger;
  /** Counts skipped credentials (the Lambda runtime always sets it); without it they are only logged. */
  metrics?: ServiceMetrics;
}

let stream: StreamDeps | undefined;

export function streamDeps(env: Env = process.env): StreamDeps {
  stream ??= {
    queue: new ReconcileQueue(sqsClient(), requireEnv(env, EnvName.QueueUrl)),
    clock: systemClock,
    logger: handlerLogger,
    metrics: createServiceMetrics(),
  };
  return stream;
}

/** Forget the wiring (tests that change the environment between cases). */
export function resetStreamDeps(): void {
  stream = undefined;
}
