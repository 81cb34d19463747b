import { createHash } from 'node:crypto';

/**
 * The reconcile queue's message contract: `{ credential, reason, requestedAt }`, one FIFO message
 * group per credential so runs for one credential never overlap.
 */

export type ReconcileReason = 'schedule' | 'stream' | 'cli';

export interface ReconcileRequest {
  credential: string;
  reason: ReconcileReason;
  /** ISO-8601 time the run was asked for. */
  requestedAt: string;
}

const REASONS: ReadonlySet<string> = new Set<ReconcileReason>(['schedule', 'stream', 'cli']);

/** SQS allows 128 characters of alphanumerics and punctuation in a message group id. */
const GROUP_ID = /^[\x21-\x7e]{1,128}$/;

export class InvalidReconcileRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidReconcileRequestError';
  }
}

export function assertCredentialName(credential: string): void {
  if (!GROUP_ID.test(credential)) {
    throw new InvalidReconcileRequestError(
      `credential name ${JSON.stringify(credential.slice(0, 140))} cannot be a queue message group: ` +
        'use 1-128 printable ASCII characters without spaces',
    );
  }
}

export function parseReconcileRequest(body: string): ReconcileRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new InvalidReconcileRequestError('reconcile message body is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidReconcileRequestError('reconcile message body is not a JSON object');
  }
  const { credential, reason, requestedAt } = raw as Record<string, unknown>;
  if (typeof credential !== 'string' || credential === '') {
    throw new InvalidReconcileRequestError('reconcile message has no "credential" string');
  }
  if (typeof reason !== 'string' || !REASONS.has(reason)) {
    throw new InvalidReconcileRequestError(
      `reconcile message for ${credential} has reason ${JSON.stringify(reason)}; expected schedule, stream or cli`,
    );
  }
  if (typeof requestedAt !== 'string' || Number.isNaN(Date.parse(requestedAt))) {
    throw new InvalidReconcileRequestError(`reconcile message for ${credential} has no valid ISO "requestedAt"`);
  }
  return { credential, reason: reason as ReconcileReason, requestedAt };
}

/**
 * A FIFO deduplication id from its identifying parts. Hashed because a credential name may use
 * characters or a length the 128-character id does not allow, and so parts cannot run together.
 */
export function deduplicationId(...parts: string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** Redelivering the same scheduler tick to the fan-out enqueues nothing new. */
export function scheduleDeduplicationId(credential: string, scheduledTime: string): string {
  return deduplicationId('schedule', credential, scheduledTime);
}

/** A redelivered stream batch yields the same highest sequence number, hence the same id. */
export function streamDeduplicationId(credential: string, highestSequenceNumber: string): string {
  return deduplicationId('stream', credential, highestSequenceNumber);
}
