/**
 * The deployed reconciler's egress IPs (the stack output `EgressIp`), as the CLI learns them:
 * `--egress-ip IP` (repeatable) or `EGRESS_IPS` (comma separated: the worker's own variable, so an
 * operator exports the stack output once). The CLI has no CloudFormation client, so it never reads
 * the stack itself. Not the IPs this machine calls from (that is `--caller-ip`).
 * A malformed value is refused (exit 64), never ignored.
 */
import { egressIpsFrom } from '../lambdas/aws/env';
import { validateIpv4 } from '../lambdas/core';
import { EnvName } from '../lambdas/shared/env-names';
import type { OptionDef } from './args';
import { usageError } from './errors';
import type { Env } from './io';

export const EGRESS_IP_OPTION: OptionDef = {
  type: 'string',
  multiple: true,
  valueName: 'IP',
  description: `the deployed reconciler's egress IP, the stack output EgressIp (default: $${EnvName.EgressIps}, comma separated)`,
};

export interface EgressIps {
  /** Validated, deduplicated; empty when none was given (egress=none, or not told). */
  ips: string[];
  source: 'flag' | 'env' | 'none';
}

export function resolveEgressIps(flags: readonly string[], env: Env): EgressIps {
  if (flags.length === 0) {
    // The worker's own parser, so the CLI and the worker read the variable alike.
    const fromEnv = egressIpsFrom(env);
    if (fromEnv.problem !== undefined) throw usageError(fromEnv.problem, 'give the stack output EgressIp');
    return { ips: fromEnv.ips, source: fromEnv.ips.length > 0 ? 'env' : 'none' };
  }
  const ips: string[] = [];
  for (const value of flags) {
    const checked = validateIpv4(value);
    if (!checked.ok) throw usageError(`--egress-ip ${JSON.stringify(value)}: ${checked.reason}`, 'give the stack output EgressIp');
    if (!ips.includes(checked.ip)) ips.push(checked.ip);
  }
  return { ips, source: 'flag' };
}
