/**
 * The reconciler's view of one credential's whitelist (core WhitelistPort), backed by the bunq client.
 */
import type { ActualEntry, EntryStatus, WhitelistPort } from '../core/types';
import type { BunqClient } from './client';
import type { PermittedIpAsRead } from './types';

/** Field for field; an unusable id stays 0 (NO_PERMITTED_IP_ID = the core's NO_ENTRY_ID), never acted on. */
export function toActualEntry(ip: PermittedIpAsRead): ActualEntry {
  return { id: ip.id, ip: ip.ip, status: ip.status, created: ip.created };
}

/**
 * Counts reads as pages of the entry list and writes as POST/PUT calls made through this port, which
 * is the unit the minimality contract is stated in (a 1,000-entry list is 5 reads, not 1).
 */
export function whitelistPort(client: BunqClient, credentialId: number): WhitelistPort & WriteReceipts {
  const counts = { reads: 0, writes: 0 };
  const receipts: WriteReceiptRecord[] = [];
  return {
    listEntries: async () => {
      const { entries, pages } = await client.listIpPages(credentialId);
      counts.reads += pages;
      return entries.map(toActualEntry);
    },
    addEntry: async (ip: string) => {
      counts.writes++;
      const r = await client.addIpWithReceipt(credentialId, ip, 'ACTIVE');
      receipts.push({ write: 'add', ip, entryId: r.id, responseId: r.responseId });
      return r.id;
    },
    setStatus: async (entryId: number, status: EntryStatus) => {
      counts.writes++;
      const r = await client.updateIpStatusWithReceipt(credentialId, entryId, status);
      receipts.push({ write: 'status', status, entryId, responseId: r.responseId });
    },
    callCounts: () => ({ ...counts }),
    writeReceipts: () => receipts.map((r) => ({ ...r })),
  };
}

/** One write bunq confirmed, with its response id (the change events cite it). */
export type WriteReceiptRecord =
  | { write: 'add'; ip: string; entryId: number; responseId: string | null }
  | { write: 'status'; status: EntryStatus; entryId: number; responseId: string | null };

/**
 * The writes a port made so far, beside the core's WhitelistPort (the core has no use for bunq's
 * response ids; the change events do).
 */
export interface WriteReceipts {
  writeReceipts(): WriteReceiptRecord[];
}
