import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { assertCredentialName, type ReconcileRequest } from './reconcile-request';

export interface OutgoingReconcileRequest {
  request: ReconcileRequest;
  deduplicationId: string;
}

export interface EnqueueFailure {
  credential: string;
  reason: string;
}

export interface EnqueueReport {
  sent: number;
  /** Could not be sent now (SQS refused or unreachable): worth retrying. */
  failed: EnqueueFailure[];
  /**
   * Never sendable: the credential name cannot be a FIFO message group. Retrying cannot help, so
   * callers skip these (log and count them) rather than fail their invocation.
   */
  refused: EnqueueFailure[];
}

const SQS_BATCH_LIMIT = 10;
/**
 * SendMessageBatch calls in flight at once. Against real SQS this is far inside the FIFO quotas
 * (without high-throughput mode: 300 calls/s per action, so 3,000 messages/s in batches of 10):
 * 8 calls in flight at ~20-50 ms each is at most a few hundred calls/s, and 1,000 credentials are
 * 100 calls, about a second. Ordering is per message group (one group per credential), and every
 * batch holds distinct credentials, so sending batches concurrently reorders nothing that matters.
 * On moto the bound buys little: moto serialises FIFO sends and each gets slower as the queue fills.
 */
export const SEND_CONCURRENCY = 8;

/** Sends reconcile requests to the FIFO queue; reports per credential what could not be sent. */
export class ReconcileQueue {
  constructor(
    private readonly sqs: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
    /** SendMessageBatch calls in flight at once (SQS FIFO's throughput limits are per group, not per call). */
    private readonly concurrency = SEND_CONCURRENCY,
  ) {}

  async send(items: readonly OutgoingReconcileRequest[]): Promise<EnqueueReport> {
    const failed: EnqueueFailure[] = [];
    const refused: EnqueueFailure[] = [];
    const sendable: OutgoingReconcileRequest[] = [];
    for (const item of items) {
      try {
        assertCredentialName(item.request.credential);
        sendable.push(item);
      } catch (err) {
        refused.push({ credential: item.request.credential, reason: (err as Error).message });
      }
    }
    const chunks: OutgoingReconcileRequest[][] = [];
    for (let start = 0; start < sendable.length; start += SQS_BATCH_LIMIT) chunks.push(sendable.slice(start, start + SQS_BATCH_LIMIT));
    let sent = 0;
    // Batches go out a few at a time: one after another, 1,000 credentials took 100 round trips in
    // series (43 s on moto). Each batch holds distinct credentials, so their order does not matter.
    let next = 0;
    const lane = async (): Promise<void> => {
      for (let i = next++; i < chunks.length; i = next++) {
        const outcome = await this.sendBatch(chunks[i] ?? []);
        sent += outcome.sent;
        failed.push(...outcome.failed);
      }
    };
    await Promise.all(Array.from({ length: Math.min(Math.max(1, this.concurrency), chunks.length) }, lane));
    return { sent, failed, refused };
  }

  private async sendBatch(chunk: readonly OutgoingReconcileRequest[]): Promise<{ sent: number; failed: EnqueueFailure[] }> {
    const failed: EnqueueFailure[] = [];
    try {
      const reply = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: chunk.map((item, i) => ({
            Id: String(i),
            MessageBody: JSON.stringify(item.request),
            MessageGroupId: item.request.credential,
            MessageDeduplicationId: item.deduplicationId,
          })),
        }),
      );
      for (const f of reply.Failed ?? []) {
        const item = chunk[Number(f.Id)];
        failed.push({
          credential: item?.request.credential ?? `entry ${String(f.Id)}`,
          reason: `${f.Code ?? 'error'}: ${f.Message ?? 'SQS refused the message'}`,
        });
      }
      return { sent: reply.Successful?.length ?? 0, failed };
    } catch (err) {
      const reason = `SendMessageBatch failed: ${(err as Error).name}: ${(err as Error).message}`;
      return { sent: 0, failed: chunk.map((item) => ({ credential: item.request.credential, reason })) };
    }
  }
}
