/**
 * The reconciler's view of one credential's whitelist (core WhitelistPort), backed by the bunq client.
 */
import type { ActualEntry, EntryStatus, WhitelistPort } from '../core/types';
import type { BunqClient } from './client';
import type { PermittedIp } from './types';

export function toActualEntry(ip: PermittedIp): ActualEntry {
  return { id: ip.id, ip: ip.ip, status: ip.status, created: ip.created };
}

export function whitelistPort(client: BunqClient, credentialId: number): WhitelistPort {
  return {
    listEntries: async () => (await client.listIps(credentialId)).map(toActualEntry),
    addEntry: (ip: string) => client.addIp(credentialId, ip, 'ACTIVE'),
    setStatus: async (entryId: number, status: EntryStatus) => {
      await client.updateIpStatus(credentialId, entryId, status);
    },
  };
}
