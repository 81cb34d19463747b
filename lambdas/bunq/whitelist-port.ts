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
export function whitelistPort(client: BunqClient, credentialId: number): WhitelistPort {
  const counts = { reads: 0, writes: 0 };
  return {
    listEntries: async () => {
      const { entries, pages } = await client.listIpPages(credentialId);
      counts.reads += pages;
      return entries.map(toActualEntry);
    },
    addEntry: (ip: string) => {
      counts.writes++;
      return client.addIp(credentialId, ip, 'ACTIVE');
    },
    setStatus: async (entryId: number, status: EntryStatus) => {
      counts.writes++;
      await client.updateIpStatus(credentialId, entryId, status);
    },
    callCounts: () => ({ ...counts }),
  };
}
