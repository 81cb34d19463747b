import { validateIpv4List } from '../shared/validate-ip';
import { EnvName } from '../shared/env-names';

/** The handlers' configuration, from the environment the stack sets (lambdas/shared/env-names.ts). */

export const DEFAULT_SECRET_PREFIX = 'bunq-ip-reconciler/';
export const DEFAULT_HISTORY_TTL_DAYS = 90;

export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

export function requireEnv(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigurationError(`environment variable ${name} is not set`);
  return value;
}

export function secretPrefixFrom(env: Env): string {
  const value = env[EnvName.SecretPrefix]?.trim();
  return value ? value : DEFAULT_SECRET_PREFIX;
}

export function historyTtlDaysFrom(env: Env): number {
  const raw = env[EnvName.HistoryTtlDays]?.trim();
  if (!raw) return DEFAULT_HISTORY_TTL_DAYS;
  const days = Number(raw);
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new ConfigurationError(`${EnvName.HistoryTtlDays} must be a whole number of days from 1 to 3650, got ${JSON.stringify(raw)}`);
  }
  return days;
}

export interface EgressIps {
  /** Canonical IPv4 addresses, sorted; empty when unset or malformed (the run cannot tell its IP). */
  ips: string[];
  /** Set when the variable is malformed: a configuration error to log on every run. */
  problem?: string;
}

/**
 * The worker's own IPs from EGRESS_IPS. Unset or blank: no fixed egress, the worker cannot tell
 * which IP it calls bunq from. Malformed: a configuration error, and the worker also counts as not
 * knowing its IP (every deactivation held) — never as "nothing to protect". One bad item spoils the
 * whole list: a typo may hide the real address.
 */
export function egressIpsFrom(env: Env): EgressIps {
  const raw = env[EnvName.EgressIps];
  if (raw === undefined || raw.trim() === '') return { ips: [] };
  const checked = validateIpv4List(raw.split(','));
  if (checked.ok) return { ips: checked.ips };
  const problems = checked.problems.map((p) => `item ${p.index + 1} ${JSON.stringify(p.value)}: ${p.reason}`);
  return {
    ips: [],
    problem:
      `${EnvName.EgressIps} ${JSON.stringify(raw)} is not a comma-separated list of IPv4 addresses (${problems.join('; ')}); ` +
      'runs treat their caller IP as unknown and hold every deactivation until it is fixed',
  };
}
