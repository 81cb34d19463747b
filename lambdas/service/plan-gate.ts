import { plan as planOf, type ActualEntry, type CredentialConfig, type EntryStatus, type DesiredItem, type Operation, type Plan, type WhitelistPort } from '../core';
import type { Clock } from '../shared/clock';

/**
 * Holds a run to the operations an operator confirmed. The run's first successful read of bunq is
 * planned here exactly as the core will plan it; when that plan's operations differ from the
 * confirmed ones, the read fails instead of returning, so the run stops before any write. Later
 * reads (the executor's verification) pass through untouched.
 */

export class PlanChangedError extends Error {
  constructor(credential: string, confirmed: readonly Operation[], fresh: readonly Operation[]) {
    super(
      `the plan of ${credential} changed after it was confirmed (confirmed: ${describe(confirmed)}; now: ${describe(fresh)}); ` +
        'nothing was changed at bunq: run apply again to see and confirm the new plan',
    );
    this.name = 'PlanChangedError';
  }
}

function describe(operations: readonly Operation[]): string {
  if (operations.length === 0) return 'no changes';
  return operations
    .map((o) => (o.kind === 'add' ? `add ${o.ip}` : `${o.kind} ${o.ip} #${o.entryId}`))
    .join(', ');
}

/** Same operations in the same order: kind, IP, entry id and reason. */
export function sameOperations(a: readonly Operation[], b: readonly Operation[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((op, i) => {
    const other = b[i];
    if (other === undefined || other.kind !== op.kind || other.ip !== op.ip) return false;
    if (op.kind === 'add') return true;
    if (!('entryId' in other) || other.entryId !== op.entryId) return false;
    return op.kind !== 'deactivate' || (other.kind === 'deactivate' && other.reason === op.reason);
  });
}

export interface PlanGateInput {
  port: WhitelistPort;
  desired: readonly DesiredItem[];
  config: CredentialConfig;
  clock: Clock;
  confirmed: readonly Operation[];
  /** The run's caller IPs, so the fresh plan is made exactly as the core will make it. */
  callerIps?: readonly string[];
  /** The other reconciler IPs the run keeps (plan()'s keptIps). */
  keptIps?: readonly string[];
}

export class PlanGate implements WhitelistPort {
  private checked = false;
  /** Set when the fresh plan differed: the run was stopped for this reason. */
  refusal: PlanChangedError | undefined;

  /** Present only when the wrapped port counts its calls, so the core's own counting stays exact. */
  readonly callCounts?: () => { reads: number; writes: number };

  constructor(private readonly input: PlanGateInput) {
    const counts = input.port.callCounts?.bind(input.port);
    if (counts !== undefined) this.callCounts = counts;
  }

  async listEntries(): Promise<ActualEntry[]> {
    const entries = await this.input.port.listEntries();
    if (this.checked) return entries;
    this.checked = true;
    const fresh: Plan = planOf(this.input.desired, entries, this.input.config, this.input.clock.now(), this.input.callerIps, this.input.keptIps);
    if (!sameOperations(this.input.confirmed, fresh.operations)) {
      this.refusal = new PlanChangedError(this.input.config.credential, this.input.confirmed, fresh.operations);
      throw this.refusal;
    }
    return entries;
  }

  addEntry(ip: string): Promise<number> {
    return this.input.port.addEntry(ip);
  }

  setStatus(entryId: number, status: EntryStatus): Promise<void> {
    return this.input.port.setStatus(entryId, status);
  }
}
