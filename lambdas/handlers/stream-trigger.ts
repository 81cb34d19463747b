import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { CONFIG_ENTRY, IP_ENTRY_PREFIX, PARTITION_KEY, SORT_KEY } from '../shared/table-keys';
import { reportSkippedCredentials } from '../aws/metrics';
import { streamDeduplicationId } from '../aws/reconcile-request';
import { streamDeps, type StreamDeps } from './stream-deps';
import { withRequestContext } from './handler-logger';

export type { StreamDeps };

/**
 * DynamoDB stream of DesiredIps → one reconcile request per credential touched. Only operator items
 * (`ip#...` and `config`) count; anything else in the table, should it ever appear, never wakes the
 * reconciler. The dedup id uses the highest sequence number per credential, so a redelivered batch
 * enqueues nothing new. Records of a credential whose name cannot be a message group are skipped
 * (logged, counted): reporting them failed would retry them until the stream's retention runs out.
 */

export function isOperatorEntry(entry: string): boolean {
  return entry === CONFIG_ENTRY || entry.startsWith(IP_ENTRY_PREFIX);
}

interface Touched {
  highest: bigint;
  highestText: string;
  sequenceNumbers: string[];
}

function compareSequence(text: string): bigint | undefined {
  return /^\d+$/.test(text) ? BigInt(text) : undefined;
}

/** Credentials touched by operator items, each with the records that touched it. */
export function touchedCredentials(records: readonly DynamoDBRecord[]): Map<string, Touched> {
  const touched = new Map<string, Touched>();
  for (const record of records) {
    const keys = record.dynamodb?.Keys;
    const credential = keys?.[PARTITION_KEY]?.S;
    const entry = keys?.[SORT_KEY]?.S;
    const seqText = record.dynamodb?.SequenceNumber;
    if (credential === undefined || entry === undefined || seqText === undefined) continue;
    if (!isOperatorEntry(entry)) continue;
    const seq = compareSequence(seqText) ?? 0n;
    const t = touched.get(credential);
    if (t === undefined) {
      touched.set(credential, { highest: seq, highestText: seqText, sequenceNumbers: [seqText] });
    } else {
      t.sequenceNumbers.push(seqText);
      if (seq > t.highest) {
        t.highest = seq;
        t.highestText = seqText;
      }
    }
  }
  return touched;
}

export function createStreamHandler(deps: StreamDeps): (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse> {
  return async (event) => {
    const touched = touchedCredentials(event.Records);
    if (touched.size === 0) return { batchItemFailures: [] };
    const requestedAt = new Date(deps.clock.now()).toISOString();
    const report = await deps.queue.send(
      [...touched].map(([credential, t]) => ({
        request: { credential, reason: 'stream' as const, requestedAt },
        deduplicationId: streamDeduplicationId(credential, t.highestText),
      })),
    );
    const failedCredentials = new Set(report.failed.map((f) => f.credential));
    for (const f of report.failed) {
      deps.logger.error('could not enqueue reconcile request', { credential: f.credential, reason: f.reason });
    }
    deps.logger.info('stream batch handled', {
      records: event.Records.length,
      credentials: [...touched.keys()],
      enqueued: report.sent,
      failed: report.failed.length,
      skipped: report.refused.length,
    });
    reportSkippedCredentials(report.refused, deps.metrics, deps.logger, 'stream');
    const failedSequenceNumbers = [...touched]
      .filter(([credential]) => failedCredentials.has(credential))
      .flatMap(([, t]) => t.sequenceNumbers);
    return { batchItemFailures: failedSequenceNumbers.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

export const handler: (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse> = withRequestContext(
  (event: DynamoDBStreamEvent) => createStreamHandler(streamDeps())(event),
);
