import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import type {
  ActualEntry,
  BlockedOperation,
  Drift,
  ExecutionResult,
  InvalidDesired,
  Mode,
  OperationResult,
  RunOutcome,
  Warning,
} from '../core/types';
import type { ErrorInfo } from '../core/errors';
import { entriesAfterRun, isApplied, isSuccessfulOutcome, runVerdict } from '../core/outcome';
import type { ReconcileReason } from './reconcile-request';
import { secretRedactor } from '../shared/redact';
import { HISTORY_PREFIX, PARTITION_KEY, SORT_KEY, STATUS_ENTRY } from '../shared/table-keys';

/**
 * The ReconcileState table: per credential one `status` item (the latest run, overwritten) and one
 * `run#<ISO time>` history item per run that expires after the history TTL. The reconciler writes
 * here and nowhere in DesiredIps, so its own writes can never trigger a run.
 */

/** The sort-key spellings, re-exported for the adapters that read them from here. */
export { HISTORY_PREFIX, STATUS_ENTRY };

/** A run's error as recorded: a kind from the one list (lambdas/core/errors.ts), a redacted message. */
export type RunError = ErrorInfo;

/** What one run did, as stored (status and history) and read back by the CLI. */
export interface RunRecord {
  credential: string;
  reason: ReconcileReason | 'unknown';
  requestedAt: string | null;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  outcome: RunOutcome;
  mode: Mode | null;
  desiredIps: string[];
  drift: Drift[];
  /** Entries as last read from bunq this run; null when no read succeeded. */
  actual: ActualEntry[] | null;
  applied: OperationResult[];
  failed: OperationResult[];
  notAttempted: OperationResult[];
  blocked: BlockedOperation[];
  invalid: InvalidDesired[];
  warnings: Warning[];
  reads: number;
  writes: number;
  error: RunError | null;
  /** Set when lists were cut to keep the item under DynamoDB's 400 KB. */
  truncated?: boolean;
  /**
   * The IPs the deployed worker calls bunq from (its EGRESS_IPS), set only by worker runs that know
   * them. The status item keeps the last one across other runs, so a CLI-local run, which cannot
   * know the worker's IPs, never deactivates them either.
   */
  workerCallerIps?: string[];
}

/** The status item: the latest run plus what must survive a failed run. */
export interface StatusRecord extends RunRecord {
  lastRunAt: string;
  /** The last run that ended without error (absent until one did). */
  lastSuccessAt?: string;
  /** When `lastKnownActual` was read. */
  lastKnownActualAt?: string;
  /** Entries from the most recent successful read, kept across runs that could not read. */
  lastKnownActual?: ActualEntry[];
  /**
   * When the stored `drift` and `blocked` were planned. A run that could not read bunq leaves both
   * as the last run that could read left them (an empty list would claim "no drift"), so when
   * `actual` is null they are from the last successful read, at this time.
   */
  driftAsOf?: string;
  consecutiveFailures: number;
}

export interface RunContext {
  reason: ReconcileReason | 'unknown';
  requestedAt: string | null;
}

/** A run counts as a success when it ended well and recorded no error (lambdas/core/outcome.ts). */
export function isSuccessfulRun(record: RunRecord): boolean {
  return isSuccessfulOutcome(record.outcome) && record.error === null;
}

function safeError(err: RunError | undefined | null): RunError | null {
  if (!err) return null;
  return { kind: err.kind, message: secretRedactor.redactString(err.message) };
}

export function runRecordFromResult(result: ExecutionResult, context: RunContext): RunRecord {
  const byOutcome = (pred: (o: OperationResult) => boolean): OperationResult[] =>
    result.operations.filter(pred).map((o) => (o.error ? { ...o, error: safeError(o.error) ?? undefined } : o));
  return {
    credential: result.credential,
    reason: context.reason,
    requestedAt: context.requestedAt,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    durationMs: result.durationMs,
    outcome: result.outcome,
    mode: result.plan.mode,
    desiredIps: result.plan.desiredIps,
    drift: result.plan.drift,
    actual: entriesAfterRun(result),
    applied: byOutcome((o) => isApplied(o.outcome)),
    failed: byOutcome((o) => o.outcome === 'failed'),
    notAttempted: byOutcome((o) => o.outcome === 'not-attempted'),
    blocked: result.plan.blocked,
    invalid: result.plan.invalid,
    warnings: result.plan.warnings,
    reads: result.reads,
    writes: result.writes,
    error: safeError(runVerdict(result).error),
  };
}

/** A run that failed before the reconcile could start (secret, config, desired read, ...). */
export function runRecordFromFailure(
  credential: string,
  context: RunContext,
  times: { startedAt: string; finishedAt: string; durationMs: number },
  error: RunError,
): RunRecord {
  return {
    credential,
    ...context,
    ...times,
    outcome: 'failed',
    mode: null,
    desiredIps: [],
    drift: [],
    actual: null,
    applied: [],
    failed: [],
    notAttempted: [],
    blocked: [],
    invalid: [],
    warnings: [],
    reads: 0,
    writes: 0,
    error: safeError(error),
  };
}

/** DynamoDB's item limit is 400 KB; stay well below it whatever a credential holds. */
const MAX_ITEM_CHARS = 300_000;
const LIST_KEEP = 200;

export function fitToItemLimit(record: RunRecord): RunRecord {
  if (JSON.stringify(record).length <= MAX_ITEM_CHARS) return record;
  const cut = <T>(list: T[]): T[] => list.slice(0, LIST_KEEP);
  return {
    ...record,
    desiredIps: cut(record.desiredIps),
    drift: cut(record.drift),
    actual: record.actual === null ? null : cut(record.actual),
    applied: cut(record.applied),
    failed: cut(record.failed),
    notAttempted: cut(record.notAttempted),
    blocked: cut(record.blocked),
    invalid: cut(record.invalid),
    warnings: cut(record.warnings),
    truncated: true,
  };
}

export class StateStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly historyTtlDays: number,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** Writes the history item, then the status item (so status never points at a run with no history). */
  async recordRun(record: RunRecord): Promise<void> {
    const fitted = fitToItemLimit(record);
    await this.putHistory(fitted);
    await this.putStatus(fitted);
  }

  private async putHistory(record: RunRecord): Promise<void> {
    const ttl = Math.floor(Date.parse(record.finishedAt) / 1000) + this.historyTtlDays * 86_400;
    const base = `${HISTORY_PREFIX}${record.startedAt}`;
    // Two runs can share a start time (clock resolution, a test clock): never overwrite history.
    for (let attempt = 1; attempt <= 5; attempt++) {
      const entry = attempt === 1 ? base : `${base}#${attempt}`;
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...record, credential: record.credential, entry, ttl },
            ConditionExpression: 'attribute_not_exists(#e)',
            ExpressionAttributeNames: { '#e': SORT_KEY },
          }),
        );
        return;
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
    }
    throw new Error(`history item ${base} for ${record.credential} exists five times over; not written`);
  }

  private async putStatus(record: RunRecord): Promise<void> {
    const succeeded = isSuccessfulRun(record);
    const values: Record<string, unknown> = {};
    const names: Record<string, string> = {};
    const sets: string[] = [];
    const set = (attr: string, value: unknown): void => {
      names[`#${attr}`] = attr;
      values[`:${attr}`] = value;
      sets.push(`#${attr} = :${attr}`);
    };
    const readBunq = record.actual !== null;
    for (const [key, value] of Object.entries(record)) {
      if (key === PARTITION_KEY || value === undefined) continue;
      if (!readBunq && (key === 'drift' || key === 'blocked')) continue;
      set(key, value);
    }
    if (readBunq) set('driftAsOf', record.finishedAt);
    if (record.truncated !== true) {
      names['#truncated'] = 'truncated';
    }
    set('lastRunAt', record.finishedAt);
    if (record.actual !== null) {
      set('lastKnownActual', record.actual);
      set('lastKnownActualAt', record.finishedAt);
    }
    if (succeeded) {
      set('lastSuccessAt', record.finishedAt);
      set('consecutiveFailures', 0);
    } else {
      names['#consecutiveFailures'] = 'consecutiveFailures';
      values[':zero'] = 0;
      values[':one'] = 1;
      sets.push('#consecutiveFailures = if_not_exists(#consecutiveFailures, :zero) + :one');
    }
    const remove = record.truncated !== true ? ' REMOVE #truncated' : '';
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { credential: record.credential, entry: STATUS_ENTRY },
        UpdateExpression: `SET ${sets.join(', ')}${remove}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async readStatus(credential: string): Promise<StatusRecord | null> {
    const reply = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { credential, entry: STATUS_ENTRY },
        ConsistentRead: true,
      }),
    );
    if (!reply.Item) return null;
    const { entry: _entry, ...rest } = reply.Item;
    return rest as StatusRecord;
  }

  /** Newest first. */
  async listHistory(credential: string, limit = 20): Promise<RunRecord[]> {
    const records: RunRecord[] = [];
    // Pages of at most `limit` items, newest first; stop once `limit` records are read.
    const pages = paginateQuery(
      { client: this.doc, pageSize: limit },
      {
        TableName: this.tableName,
        KeyConditionExpression: '#c = :c AND begins_with(#e, :p)',
        ExpressionAttributeNames: { '#c': PARTITION_KEY, '#e': SORT_KEY },
        ExpressionAttributeValues: { ':c': credential, ':p': HISTORY_PREFIX },
        ScanIndexForward: false,
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        if (records.length >= limit) break;
        const { entry: _entry, ttl: _ttl, ...rest } = item;
        records.push(rest as RunRecord);
      }
      if (records.length >= limit) break;
    }
    return records;
  }
}
