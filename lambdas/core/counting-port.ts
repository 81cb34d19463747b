/**
 * Counts the bunq calls a run makes through a WhitelistPort. When the port can report its own call
 * counts (each list page is one read), those are used; otherwise each method call counts as one.
 */
import type { ActualEntry, EntryStatus, WhitelistPort } from './types';

export interface CallCounts {
  reads: number;
  writes: number;
}

export class CountingPort implements WhitelistPort {
  private readonly inner: WhitelistPort;
  private readonly baseline: CallCounts | undefined;
  private local: CallCounts = { reads: 0, writes: 0 };

  constructor(inner: WhitelistPort) {
    this.inner = inner;
    this.baseline = inner.callCounts?.();
  }

  async listEntries(): Promise<ActualEntry[]> {
    this.local.reads++;
    return this.inner.listEntries();
  }

  async addEntry(ip: string): Promise<number> {
    this.local.writes++;
    return this.inner.addEntry(ip);
  }

  async setStatus(entryId: number, status: EntryStatus): Promise<void> {
    this.local.writes++;
    return this.inner.setStatus(entryId, status);
  }

  callCounts(): CallCounts {
    const now = this.inner.callCounts?.();
    if (now === undefined || this.baseline === undefined) return { ...this.local };
    return { reads: now.reads - this.baseline.reads, writes: now.writes - this.baseline.writes };
  }
}
