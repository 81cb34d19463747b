import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { parseReconcileRequest, type ReconcileRequest } from '../aws/reconcile-request';
import type { Logger } from '../shared/logger';

/**
 * How a FIFO batch is worked through. Messages of one group (= one credential) keep their order: once
 * one fails, every later message of that group in the batch is reported failed too, unprocessed, so
 * SQS redelivers them in order. Several messages for the same credential in one batch share a
 * single run: every run reads the whole desired and actual state afresh, so the first run already
 * covers the edits behind the later messages (they were all enqueued before it started).
 * A run that failed but was recorded (any kind) is acknowledged like a success: the next scheduled
 * run retries it, and a message held for redelivery would block its whole group (the credential's
 * later edits) until the visibility timeout. Only unreadable messages, runs that threw and runs
 * that left no record go back to the queue (and, after MAX_RECEIVE_COUNT receives, to the DLQ).
 */

export interface BatchOutcome {
  ok: boolean;
  /**
   * For a failed run: false when the failure is recorded and the schedule retries it, so the
   * message is acknowledged and the group's later messages are not held back. Absent = redeliver.
   */
  retry?: boolean;
}


export async function processFifoBatch(
  records: readonly SQSRecord[],
  run: (request: ReconcileRequest) => Promise<BatchOutcome>,
  logger: Pick<Logger, 'warn' | 'error'>,
): Promise<SQSBatchResponse> {
  const failedGroups = new Set<string>();
  const ranCredentials = new Set<string>();
  const failures: string[] = [];
  for (const record of records) {
    let request: ReconcileRequest | undefined;
    let parseError: Error | undefined;
    try {
      request = parseReconcileRequest(record.body);
    } catch (err) {
      parseError = err as Error;
    }
    const group = record.attributes.MessageGroupId ?? request?.credential ?? record.messageId;
    if (failedGroups.has(group)) {
      failures.push(record.messageId);
      continue;
    }
    if (request === undefined) {
      // Retried until the redrive policy moves it to the DLQ, where an operator can look at it.
      logger.error('unreadable reconcile message', { messageId: record.messageId, group, error: parseError?.message });
      failures.push(record.messageId);
      failedGroups.add(group);
      continue;
    }
    if (ranCredentials.has(request.credential)) continue;
    ranCredentials.add(request.credential);
    let outcome: BatchOutcome = { ok: false };
    try {
      outcome = await run(request);
    } catch (err) {
      logger.error('reconcile run threw', { credential: request.credential, error: (err as Error).message });
    }
    if (!outcome.ok && outcome.retry === false) {
      logger.warn('run failed and was recorded; message acknowledged, the schedule retries', { credential: request.credential, messageId: record.messageId });
      continue;
    }
    if (!outcome.ok) {
      failures.push(record.messageId);
      failedGroups.add(group);
    }
  }
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
}
