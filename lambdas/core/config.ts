/**
 * Parses the operator's credential config item (entry = "config") into a CredentialConfig. Every
 * problem is collected, not just the first, so one edit can fix them all. Defaults lean towards
 * doing less: a config without `mode` only observes.
 */
import type { CredentialConfig, Mode } from './types';
import { describeValue, validateIpv4 } from '../shared/validate-ip';

export const DEFAULT_MODE: Mode = 'observe';
export const DEFAULT_MAX_DEACTIVATIONS_PER_RUN = 5;
/** A larger blast radius than this is a typo, not a policy. */
export const MAX_DEACTIVATIONS_LIMIT = 1000;

const MODES: readonly Mode[] = ['enforce', 'additive', 'observe'];

export interface ConfigIssue {
  field: string;
  message: string;
}

export type ConfigParseResult =
  | { ok: true; config: CredentialConfig; notes: string[] }
  | { ok: false; errors: ConfigIssue[] };

export class CredentialConfigError extends Error {
  readonly errors: readonly ConfigIssue[];

  constructor(credential: string, errors: readonly ConfigIssue[]) {
    super(
      `invalid config for credential ${credential}: ` + errors.map((e) => `${e.field}: ${e.message}`).join('; '),
    );
    this.name = 'CredentialConfigError';
    this.errors = errors;
  }
}

function positiveId(raw: unknown, field: string, errors: ConfigIssue[]): number {
  // DynamoDB numbers typed as strings in the console are common; accept plain decimal digits only.
  const value = typeof raw === 'string' && /^[1-9][0-9]*$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    errors.push({ field, message: `must be a positive integer, got ${describeValue(raw)}` });
    return 0;
  }
  return value;
}

function nonEmptyString(raw: unknown, field: string, errors: ConfigIssue[]): string {
  if (typeof raw !== 'string' || raw.trim() === '') {
    errors.push({ field, message: `must be a non-empty string, got ${describeValue(raw)}` });
    return '';
  }
  return raw.trim();
}

function listOf(raw: unknown): unknown[] | undefined {
  if (Array.isArray(raw)) return raw;
  // The DynamoDB document client returns a string set (SS) as a Set.
  if (raw instanceof Set) return [...(raw as Set<unknown>)];
  return undefined;
}

export function parseCredentialConfig(raw: unknown): ConfigParseResult {
  const errors: ConfigIssue[] = [];
  const notes: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, errors: [{ field: '(config)', message: `must be an object, got ${describeValue(raw)}` }] };
  }
  const r = raw as Record<string, unknown>;

  const credential = nonEmptyString(r.credential, 'credential', errors);
  const userId = positiveId(r.userId, 'userId', errors);
  const credentialPasswordIpId = positiveId(r.credentialPasswordIpId, 'credentialPasswordIpId', errors);
  const secretName = nonEmptyString(r.secretName, 'secretName', errors);

  let mode: Mode = DEFAULT_MODE;
  if (r.mode === undefined || r.mode === null) {
    notes.push(`mode not set: defaulting to "${DEFAULT_MODE}" (reports drift, changes nothing)`);
  } else if (typeof r.mode === 'string' && (MODES as readonly string[]).includes(r.mode)) {
    mode = r.mode as Mode;
  } else {
    errors.push({ field: 'mode', message: `must be one of ${MODES.join(', ')}, got ${describeValue(r.mode)}` });
  }

  let maxDeactivationsPerRun = DEFAULT_MAX_DEACTIVATIONS_PER_RUN;
  if (r.maxDeactivationsPerRun === undefined || r.maxDeactivationsPerRun === null) {
    notes.push(`maxDeactivationsPerRun not set: defaulting to ${DEFAULT_MAX_DEACTIVATIONS_PER_RUN}`);
  } else {
    const v = r.maxDeactivationsPerRun;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_DEACTIVATIONS_LIMIT) {
      errors.push({
        field: 'maxDeactivationsPerRun',
        message: `must be an integer from 0 to ${MAX_DEACTIVATIONS_LIMIT}, got ${describeValue(v)}`,
      });
    } else {
      maxDeactivationsPerRun = v;
    }
  }

  const protectedIps: string[] = [];
  if (r.protectedIps !== undefined && r.protectedIps !== null) {
    const list = listOf(r.protectedIps);
    if (list === undefined) {
      errors.push({
        field: 'protectedIps',
        message: `must be a list of IPv4 addresses, got ${describeValue(r.protectedIps)}`,
      });
    } else {
      list.forEach((item, i) => {
        const checked = validateIpv4(item);
        if (!checked.ok) {
          errors.push({ field: `protectedIps[${i}]`, message: `${describeValue(item)}: ${checked.reason}` });
        } else if (!protectedIps.includes(checked.ip)) {
          protectedIps.push(checked.ip);
        }
      });
    }
  }

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    config: { credential, userId, credentialPasswordIpId, secretName, mode, maxDeactivationsPerRun, protectedIps },
    notes,
  };
}

/** parseCredentialConfig for callers that want an exception (handlers, CLI). */
export function credentialConfigOrThrow(raw: unknown): CredentialConfig {
  const parsed = parseCredentialConfig(raw);
  if (parsed.ok) return parsed.config;
  const name =
    typeof raw === 'object' && raw !== null && typeof (raw as { credential?: unknown }).credential === 'string'
      ? (raw as { credential: string }).credential
      : '(unknown)';
  throw new CredentialConfigError(name, parsed.errors);
}
