import { reportSkippedCredentials } from '../aws/metrics';
import { scheduleDeduplicationId } from '../aws/reconcile-request';
import type { Context } from 'aws-lambda';
import { fanOutDeps, type FanOutDeps } from './fan-out-deps';
import { withRequestContext } from './handler-logger';

export type { FanOutDeps };

/**
 * EventBridge Scheduler tick → one reconcile request per configured credential. The dedup id is
 * credential + tick, so a retried invocation of the same tick enqueues nothing twice. A credential
 * whose name cannot be a message group is logged, counted and skipped: failing the tick for it would
 * fail every tick forever and hold nothing back but the retries.
 */

export interface ScheduleEvent {
  scheduledTime?: string;
}

export interface FanOutReport {
  scheduledTime: string;
  credentials: number;
  enqueued: number;
  skipped: number;
}

export class FanOutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FanOutError';
  }
}

/** The tick this invocation stands for; without one (a manual invoke), the current minute. */
export function scheduledTimeOf(event: unknown, now: number): string {
  const raw = typeof event === 'object' && event !== null ? (event as ScheduleEvent).scheduledTime : undefined;
  if (raw === undefined || raw === null || raw === '') {
    // Truncated so that repeating a manual invoke within the minute deduplicates too.
    return new Date(Math.floor(now / 60_000) * 60_000).toISOString();
  }
  if (typeof raw !== 'string' || Number.isNaN(Date.parse(raw))) {
    throw new FanOutError(`scheduledTime must be an ISO-8601 time, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

export function createFanOutHandler(deps: FanOutDeps): (event: unknown) => Promise<FanOutReport> {
  return async (event) => {
    const scheduledTime = scheduledTimeOf(event, deps.clock.now());
    const credentials = await deps.desired.listCredentials();
    const requestedAt = new Date(deps.clock.now()).toISOString();
    const report = await deps.queue.send(
      credentials.map((credential) => ({
        request: { credential, reason: 'schedule' as const, requestedAt },
        deduplicationId: scheduleDeduplicationId(credential, scheduledTime),
      })),
    );
    deps.logger.info('schedule fan-out', {
      scheduledTime,
      credentials: credentials.length,
      enqueued: report.sent,
      failed: report.failed,
      skipped: report.refused.length,
    });
    reportSkippedCredentials(report.refused, deps.metrics, deps.logger, 'schedule');
    if (report.failed.length > 0) {
      // Failing the invocation makes the scheduler retry it; the dedup ids keep the retry from
      // enqueueing the credentials that did go through a second time.
      throw new FanOutError(
        `could not enqueue ${report.failed.length} of ${credentials.length} credentials: ` +
          report.failed.map((f) => `${f.credential} (${f.reason})`).join('; '),
      );
    }
    return { scheduledTime, credentials: credentials.length, enqueued: report.sent, skipped: report.refused.length };
  };
}

export const handler: (event: unknown, context: Context) => Promise<FanOutReport> = withRequestContext(
  (event: unknown) => createFanOutHandler(fanOutDeps())(event),
);
