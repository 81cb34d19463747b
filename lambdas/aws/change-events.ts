/**
 * What a run tells the world (issue 12: "an event for every change"): one event per change bunq
 * confirmed and one per operation a guard started holding back. Pure: the EventBridge adapter
 * (events.ts) only sends what this returns.
 */
import type { WriteReceiptRecord } from '../bunq/whitelist-port';
import type { BlockedOperation, ExecutionResult, Mode, Operation, OperationResult } from '../core/types';
import { EVENT_SOURCE, EventDetailType } from '../shared/event-names';
import type { ReconcileReason } from './reconcile-request';
import { HISTORY_PREFIX } from './state-store';

export type ChangeDetailType = (typeof EventDetailType)[keyof typeof EventDetailType];

/**
 * `IP Activated` covers both ways an IP becomes ACTIVE (a new entry, or an INACTIVE one switched
 * back): a rule that routes "this IP can now call bunq" needs one type; `action` tells them apart.
 */
export type ChangeAction = 'added' | 'reactivated' | 'deactivated' | 'held';

export interface ChangeEventDetail {
  credential: string;
  ip: string;
  /** bunq's entry id (the new one for an addition); null when the run never learnt it. */
  entryId: number | null;
  /** bunq's X-Bunq-Client-Response-Id of the write; null when unknown (confirmed by a re-read, held). */
  bunqResponseId: string | null;
  /** The run's history key in ReconcileState (`run#<startedAt>`), as `bunq-ip history` lists it. */
  runId: string;
  mode: Mode;
  action: ChangeAction;
  /** Why: the drift this change resolved, or the guard's own reason for holding it back. */
  reason: string;
  /** For a held operation: the guard (e.g. max-deactivations). */
  guard?: string;
  /** What the operation would have done (held operations only). */
  operation?: Operation['kind'];
  /** What started the run: schedule, stream (an operator's edit) or cli. */
  trigger: ReconcileReason | 'unknown';
}

export interface ChangeEvent {
  source: typeof EVENT_SOURCE;
  detailType: ChangeDetailType;
  detail: ChangeEventDetail;
}

const DONE: ReadonlySet<OperationResult['outcome']> = new Set(['applied', 'applied-as-add', 'confirmed-after-reread']);

/** Same operation, same guard: a held operation already reported by the previous run. */
function heldKey(b: BlockedOperation): string {
  const id = 'entryId' in b.operation ? b.operation.entryId : '';
  return `${b.operation.kind}|${b.operation.ip}|${id}|${b.guard}`;
}

function changeReason(op: Operation, outcome: OperationResult['outcome']): string {
  if (op.kind === 'add') return 'desired but missing at bunq';
  if (op.kind === 'reactivate') {
    return outcome === 'applied-as-add' ? 'desired but INACTIVE; bunq refused re-activation, added as a new entry' : 'desired but INACTIVE';
  }
  return op.reason === 'duplicate' ? 'duplicate of an older ACTIVE entry of the same IP' : 'ACTIVE but not desired';
}

function responseIdFor(r: OperationResult, receipts: readonly WriteReceiptRecord[]): string | null {
  if (r.outcome === 'confirmed-after-reread') return null;
  const op = r.operation;
  const hit =
    op.kind === 'add' || r.outcome === 'applied-as-add'
      ? receipts.find((x) => x.write === 'add' && x.ip === op.ip)
      : receipts.find((x) => x.write === 'status' && x.entryId === op.entryId && x.status === (op.kind === 'deactivate' ? 'INACTIVE' : 'ACTIVE'));
  return hit?.responseId ?? null;
}

export interface ChangeEventContext {
  trigger: ReconcileReason | 'unknown';
  /** The writes bunq confirmed in this run (whitelist-port receipts). */
  receipts: readonly WriteReceiptRecord[];
  /**
   * What the previous run held back (the status item before this run): an operation still held
   * for the same guard is not announced again, so a standing hold is one event, not one per tick.
   */
  previouslyHeld: readonly BlockedOperation[];
}

export function changeEventsFor(result: ExecutionResult, context: ChangeEventContext): ChangeEvent[] {
  const base = { credential: result.credential, runId: `${HISTORY_PREFIX}${result.startedAt}`, mode: result.plan.mode, trigger: context.trigger };
  const events: ChangeEvent[] = [];
  for (const r of result.operations) {
    if (!DONE.has(r.outcome)) continue;
    const op = r.operation;
    const deactivated = op.kind === 'deactivate';
    events.push({
      source: EVENT_SOURCE,
      detailType: deactivated ? EventDetailType.IpDeactivated : EventDetailType.IpActivated,
      detail: {
        ...base,
        ip: op.ip,
        entryId: r.entryId ?? ('entryId' in op ? op.entryId : null),
        bunqResponseId: responseIdFor(r, context.receipts),
        action: deactivated ? 'deactivated' : op.kind === 'reactivate' && r.outcome !== 'applied-as-add' ? 'reactivated' : 'added',
        reason: changeReason(op, r.outcome),
      },
    });
  }
  const known = new Set(context.previouslyHeld.map(heldKey));
  for (const b of result.plan.blocked) {
    // A `*` entry is never ours to change: ActiveWildcard reports it, it is no held operation.
    if (b.guard === 'wildcard-untouchable' || known.has(heldKey(b))) continue;
    events.push({
      source: EVENT_SOURCE,
      detailType: EventDetailType.OperationHeld,
      detail: {
        ...base,
        ip: b.operation.ip,
        entryId: 'entryId' in b.operation ? b.operation.entryId : null,
        bunqResponseId: null,
        action: 'held',
        operation: b.operation.kind,
        guard: b.guard,
        reason: b.reason,
      },
    });
  }
  return events;
}
