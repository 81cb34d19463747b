import type { ActualEntry, CredentialConfig, EntryStatus } from '../../lambdas/core/types';

export const NOW = Date.UTC(2026, 0, 1);

/**
 * The IPs the unit tests' runs call bunq from (two egress IPs, as behind a NAT per zone). Without
 * caller IPs a run holds every deactivation (caller-ip guard); the tests of that pass none on purpose.
 * A claimed caller must be ACTIVE at bunq (a read succeeded, so bunq let the caller in), else the
 * run counts its caller as unknown: most tests list 1.1.1.1, and those that deactivate it list the
 * caller's own entry (CALLER_ENTRY, declared desired).
 */
export const CALLER = '9.9.9.9';
export const CALLERS: readonly string[] = ['1.1.1.1', CALLER];
/** The caller's own ACTIVE entry (id 99), for tests whose world does not list 1.1.1.1 as ACTIVE. */
export const CALLER_ENTRY: ActualEntry = { id: 99, ip: CALLER, status: 'ACTIVE', created: '2025-06-01 00:00:00.000000' };

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
