import { BunqError, type BunqErrorKind } from '../../lambdas/bunq/errors';
import type { ActualEntry, EntryStatus, WhitelistPort } from '../../lambdas/core/types';

type Method = 'list' | 'add' | 'put';

interface ScriptedFailure {
  method: Method;
  kind: BunqErrorKind;
  /** Apply the change, then fail (bunq wrote it but the reply was lost). */
  applyFirst?: boolean;
  retryable?: boolean;
}

/**
 * An in-memory whitelist for executor unit tests: the same rules as bunq's list (ids, immutable ip,
 * status via PUT) with failures scripted per call. Property tests use the real emulator instead.
 */
export class MemoryPort implements WhitelistPort {
  entries: ActualEntry[];
  calls: string[] = [];
  private nextId = 1000;
  private failures: ScriptedFailure[] = [];
  refuseReactivation = false;
  /** Entries the next add silently drops (bunq says OK but the entry never shows up). */
  loseNextAdd = false;
  /** Called when an add arrives, before anything else: someone else changing the whitelist meanwhile. */
  beforeAdd: ((port: MemoryPort) => void) | undefined;
  /** Called when a PUT arrives, before anything else (e.g. to let time pass on a ManualClock). */
  beforePut: ((port: MemoryPort) => void) | undefined;
  /** Called after each successful list, to simulate someone else changing the whitelist. */
  afterList: ((port: MemoryPort) => void) | undefined;

  constructor(entries: ActualEntry[]) {
    this.entries = entries.map((e) => ({ ...e }));
  }

  failNext(f: ScriptedFailure): this {
    this.failures.push(f);
    return this;
  }

  private take(method: Method): ScriptedFailure | undefined {
    const i = this.failures.findIndex((f) => f.method === method);
    return i === -1 ? undefined : this.failures.splice(i, 1)[0];
  }

  private error(f: ScriptedFailure): BunqError {
    return new BunqError(`scripted ${f.kind}`, { kind: f.kind, retryable: f.retryable ?? false });
  }

  async listEntries(): Promise<ActualEntry[]> {
    this.calls.push('list');
    const f = this.take('list');
    if (f) throw this.error(f);
    const out = this.entries.map((e) => ({ ...e }));
    this.afterList?.(this);
    return out;
  }

  async addEntry(ip: string): Promise<number> {
    this.calls.push(`add ${ip}`);
    this.beforeAdd?.(this);
    const f = this.take('add');
    if (f && !f.applyFirst) throw this.error(f);
    const id = this.nextId++;
    if (!this.loseNextAdd) this.entries.push({ id, ip, status: 'ACTIVE', created: new Date(Date.UTC(2026, 1, 1) + id).toISOString() });
    this.loseNextAdd = false;
    if (f) throw this.error(f);
    return id;
  }

  async setStatus(entryId: number, status: EntryStatus): Promise<void> {
    this.calls.push(`put ${entryId} ${status}`);
    this.beforePut?.(this);
    const f = this.take('put');
    if (f && !f.applyFirst) throw this.error(f);
    const e = this.entries.find((x) => x.id === entryId);
    if (!e) throw new BunqError('no such entry', { kind: 'not-found' });
    if (this.refuseReactivation && e.status === 'INACTIVE' && status === 'ACTIVE') {
      throw new BunqError('re-activation refused', { kind: 'bad-request', status: 400 });
    }
    e.status = status;
    if (f) throw this.error(f);
  }

  active(): string[] {
    return this.entries.filter((e) => e.status === 'ACTIVE').map((e) => e.ip).sort();
  }
}
