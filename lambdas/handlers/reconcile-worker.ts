import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { reconcileCredential, type WorkerDeps } from './reconcile-credential';
import { workerDeps } from './runtime';
import { processFifoBatch } from './sqs-batch';

/** SQS FIFO → one reconcile run per credential in the batch; failures go back to the queue. */
export function createWorkerHandler(deps: WorkerDeps): (event: SQSEvent) => Promise<SQSBatchResponse> {
  return (event) => processFifoBatch(event.Records, (request) => reconcileCredential(deps, request), deps.logger);
}

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => createWorkerHandler(workerDeps())(event);
