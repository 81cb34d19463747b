/**
 * The reconciler's view of one credential's whitelist (core WhitelistPort), backed by the bunq client.
 */
import type { ActualEntry, EntryStatus, WhitelistPort } from '../core/types';
import type { BunqClient } from './client';
import { summaryFor } from './error-mapping';
import { BunqError } from './errors';
import { NO_PERMITTED_IP_ID, type PermittedIpAsRead } from './types';

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
      refuseIdlessList(entries, credentialId);
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

/**
 * One entry without an id is an oddity the core reports and leaves alone. A list in which no entry
 * has one is bunq's shape (profile `no-entry-ids`): nothing could ever be changed, and a run that
 * goes on would only POST IPs it cannot see. The run stops here, before any change, saying why.
 */
function refuseIdlessList(entries: readonly PermittedIpAsRead[], credentialId: number): void {
  if (entries.length === 0 || entries.some((e) => e.id !== NO_PERMITTED_IP_ID)) return;
  const operation = `GET /v1/user/{id}/credential-password-ip/${credentialId}/ip`;
  throw new BunqError(`${operation}: ${summaryFor('entry-ids-missing')} (${entries.length} entries, none with an id)`, {
    kind: 'entry-ids-missing',
    operation,
  });
}
