import { EnvName } from '../shared/metric-names';

/** The handlers' configuration, from the environment the stack sets (lambdas/shared/metric-names.ts). */

export const DEFAULT_SECRET_PREFIX = 'bunq-ip-reconciler/';
export const DEFAULT_HISTORY_TTL_DAYS = 90;

type Env = Readonly<Record<string, string | undefined>>;

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
