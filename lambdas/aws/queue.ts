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

/** Sends reconcile requests to the FIFO queue; reports per credential what could not be sent. */
export class ReconcileQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
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
    let sent = 0;
    for (let start = 0; start < sendable.length; start += SQS_BATCH_LIMIT) {
      const chunk = sendable.slice(start, start + SQS_BATCH_LIMIT);
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
        sent += reply.Successful?.length ?? 0;
        for (const f of reply.Failed ?? []) {
          const item = chunk[Number(f.Id)];
          failed.push({
            credential: item?.request.credential ?? `entry ${String(f.Id)}`,
            reason: `${f.Code ?? 'error'}: ${f.Message ?? 'SQS refused the message'}`,
          });
        }
      } catch (err) {
        const reason = `SendMessageBatch failed: ${(err as Error).name}: ${(err as Error).message}`;
        for (const item of chunk) failed.push({ credential: item.request.credential, reason });
      }
    }
    return { sent, failed, refused };
  }
}
