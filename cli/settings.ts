/**
 * Where the CLI finds things: table names, secret prefix, queue, region, endpoints. Flags win over
 * the environment; the environment names are the Lambdas' own (lambdas/shared/metric-names.ts), so
 * an operator can export the stack outputs once and every command follows.
 */
import { DEFAULT_SECRET_PREFIX } from '../lambdas/aws/env';
import { EnvName } from '../lambdas/shared/env-names';
import { CliError, ExitCode } from './errors';
import type { Env } from './io';

export const BUNQ_BASE_URL_ENV = 'BUNQ_BASE_URL';
export const DEFAULT_API_KEY_ENV = 'BUNQ_API_KEY';

export interface CliSettings {
  desiredTable: string | undefined;
  stateTable: string | undefined;
  secretPrefix: string;
  queueUrl: string | undefined;
  /** Passed to the SDK only when given; otherwise the SDK's own chain (AWS_REGION, profile). */
  region: string | undefined;
  /** Passed to the SDK only when given; the SDK also reads AWS_ENDPOINT_URL itself. */
  endpointUrl: string | undefined;
  bunqBaseUrl: string | undefined;
}

export interface SettingsFlags {
  'desired-table'?: string | undefined;
  'state-table'?: string | undefined;
  'secret-prefix'?: string | undefined;
  'queue-url'?: string | undefined;
  region?: string | undefined;
  'endpoint-url'?: string | undefined;
  'base-url'?: string | undefined;
}

function pick(flag: string | undefined, env: string | undefined): string | undefined {
  const value = (flag ?? env)?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function resolveSettings(flags: SettingsFlags, env: Env): CliSettings {
  return {
    desiredTable: pick(flags['desired-table'], env[EnvName.DesiredTable]),
    stateTable: pick(flags['state-table'], env[EnvName.StateTable]),
    secretPrefix: pick(flags['secret-prefix'], env[EnvName.SecretPrefix]) ?? DEFAULT_SECRET_PREFIX,
    queueUrl: pick(flags['queue-url'], env[EnvName.QueueUrl]),
    region: pick(flags.region, undefined),
    endpointUrl: pick(flags['endpoint-url'], undefined),
    bunqBaseUrl: pick(flags['base-url'], env[BUNQ_BASE_URL_ENV]),
  };
}

function missing(what: string, flag: string, env: string, output: string): CliError {
  return new CliError(
    `${what} is not set: pass --${flag} or set ${env} (the stack output ${output})`,
    ExitCode.Usage,
  );
}

export function requireDesiredTable(s: CliSettings): string {
  if (s.desiredTable === undefined) throw missing('the DesiredIps table', 'desired-table', EnvName.DesiredTable, 'DesiredTableName');
  return s.desiredTable;
}

export function requireStateTable(s: CliSettings): string {
  if (s.stateTable === undefined) throw missing('the ReconcileState table', 'state-table', EnvName.StateTable, 'StateTableName');
  return s.stateTable;
}

export function requireQueueUrl(s: CliSettings): string {
  if (s.queueUrl === undefined) throw missing('the reconcile queue', 'queue-url', EnvName.QueueUrl, 'ReconcileQueueUrl');
  return s.queueUrl;
}
