import type { ActualEntry, CredentialConfig, EntryStatus } from '../../lambdas/core/types';

export const NOW = Date.UTC(2026, 0, 1);

/**
 * The IP the unit tests' runs call bunq from: one none of them deactivates. Without caller IPs a run
 * holds every deactivation (caller-ip guard); the tests of that pass none on purpose.
 */
export const CALLERS: readonly string[] = ['9.9.9.9'];

export function config(patch: Partial<CredentialConfig> = {}): CredentialConfig {
  return {
    credential: 'prod',
    userId: 1,
    credentialPasswordIpId: 2,
    secretName: 'bunq/prod',
    mode: 'enforce',
    maxDeactivationsPerRun: 5,
    protectedIps: [],
    ...patch,
  };
}

/** An entry created `id` seconds after NOW, so a lower id is older unless `created` says otherwise. */
export function entry(id: number, ip: string, status: EntryStatus = 'ACTIVE', created?: string | null): ActualEntry {
  return {
    id,
    ip,
    status,
    created: created === undefined ? new Date(NOW + id * 1000).toISOString().replace('T', ' ').replace('Z', '') : created,
  };
}

export const desiredItem = (ip: unknown, expiresAt?: number) => ({
  entry: `ip#${String(ip)}`,
  ip,
  ...(expiresAt === undefined ? {} : { expiresAt }),
});
