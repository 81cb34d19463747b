import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { reconcileCredential, type WorkerDeps } from '../service/reconcile-credential';
import { runDeadline } from './run-deadline';
import { workerDeps } from './worker-deps';
import { processFifoBatch } from './sqs-batch';
import { withRequestContext } from './handler-logger';

/**
 * The run-record warning of a malformed EGRESS_IPS (its message names the bad value): `status`
 * then says why the run cannot tell its IP while the variable is set.
 */
export const EGRESS_IPS_INVALID = 'egress-ips-invalid' as const;

/** The part of Lambda's context the worker reads. */
export type RemainingTime = Pick<Context, 'getRemainingTimeInMillis'>;

/**
 * SQS FIFO → one reconcile run per credential in the batch; transient failures go back to the
 * queue. Each run gets a deadline from the invocation's remaining time, taken when the run starts.
 */
export function createWorkerHandler(deps: WorkerDeps): (event: SQSEvent, context?: RemainingTime) => Promise<SQSBatchResponse> {
  // The worker's own egress IPs are protected whatever a config item says.
  const callerIps = deps.egress?.ips ?? [];
  const problem = deps.egress?.problem;
  const configWarnings = problem === undefined ? [] : [{ code: EGRESS_IPS_INVALID, message: problem }];
  return (event, context) => {
    if (deps.egress?.problem !== undefined) {
      deps.logger.error('configuration error: EGRESS_IPS is malformed; every deactivation is held', { problem: deps.egress.problem });
    }
    return processFifoBatch(
      event.Records,
      (request) =>
        reconcileCredential(deps, request, {
          callerIps,
          workerRun: true,
          configWarnings,
          ...(context === undefined
            ? {}
            : { deadline: runDeadline(deps.clock.now(), context.getRemainingTimeInMillis(), deps.deadlineMarginMs) }),
        }),
      deps.logger,
    );
  };
}

export const handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> = withRequestContext(
  (event: SQSEvent, context: Context) => createWorkerHandler(workerDeps())(event, context),
);
