/**
 * Publishes change events (change-events.ts) to the account's default EventBridge bus. Best effort
 * by contract: a run that changed bunq has done its job whether or not the world heard about it,
 * so publish() never throws; it reports how many events did not get through, and the caller logs
 * and counts them (ChangeEventsFailed).
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { ChangeEvent } from './change-events';

/** PutEvents accepts at most 10 entries per call. */
const ENTRIES_PER_CALL = 10;

export interface PublishReport {
  sent: number;
  failed: number;
  /** The first failure, for the log (an SDK error or EventBridge's per-entry error code). */
  error?: string;
}

export interface ChangeEventSink {
  publish(events: readonly ChangeEvent[]): Promise<PublishReport>;
}

export class EventBridgeChangeEvents implements ChangeEventSink {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName = 'default',
  ) {}

  async publish(events: readonly ChangeEvent[]): Promise<PublishReport> {
    const report: PublishReport = { sent: 0, failed: 0 };
    for (let i = 0; i < events.length; i += ENTRIES_PER_CALL) {
      const chunk = events.slice(i, i + ENTRIES_PER_CALL);
      const entries: PutEventsRequestEntry[] = chunk.map((e) => ({
        EventBusName: this.busName,
        Source: e.source,
        DetailType: e.detailType,
        Detail: JSON.stringify(e.detail),
      }));
      try {
        const out = await this.client.send(new PutEventsCommand({ Entries: entries }));
        const failed = out.FailedEntryCount ?? 0;
        report.failed += failed;
        report.sent += chunk.length - failed;
        const firstError = out.Entries?.find((x) => x.ErrorCode !== undefined);
        if (firstError !== undefined) report.error ??= `${firstError.ErrorCode}: ${firstError.ErrorMessage ?? ''}`;
      } catch (err) {
        report.failed += chunk.length;
        report.error ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
    }
    return report;
  }
}
