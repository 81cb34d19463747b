/**
 * What to do about an ACTIVE `*` (which turns bunq's IP filtering off for the credential), given
 * bunq's entries and the deployed reconciler's egress IPs. Pure; `plan`, `status` and `doctor`
 * print it. Switching `*` off is only safe once every egress IP is ACTIVE: otherwise the reconciler
 * is locked out by the very change meant to secure it.
 */
import { WILDCARD } from '../../lambdas/core';

export type WildcardState =
  /** No ACTIVE `*`. */
  | 'closed'
  /** `*` ACTIVE and every egress IP ACTIVE: switch `*` off now. */
  | 'closable'
  /** `*` ACTIVE, some egress IP is not: make it ACTIVE first. */
  | 'egress-not-active'
  /** `*` ACTIVE, no egress IP known (egress=none, or not given). */
  | 'egress-unknown';

export interface WildcardAdvice {
  state: WildcardState;
  /** One sentence for the operator; empty when closed. */
  message: string;
  egressIps: string[];
  /** Egress IPs without an ACTIVE entry. */
  inactiveEgressIps: string[];
}

function list(ips: readonly string[]): string {
  return ips.length <= 1 ? (ips[0] ?? '') : `${ips.slice(0, -1).join(', ')} and ${ips[ips.length - 1]}`;
}

export function wildcardAdvice(
  entries: ReadonlyArray<{ ip: string; status: string }>,
  egressIps: readonly string[],
  credential: string,
): WildcardAdvice {
  const active = new Set(entries.filter((e) => e.status === 'ACTIVE').map((e) => e.ip));
  const inactive = egressIps.filter((ip) => !active.has(ip));
  const base = { egressIps: [...egressIps], inactiveEgressIps: inactive };
  if (!active.has(WILDCARD)) return { state: 'closed', message: '', ...base };
  if (egressIps.length === 0) {
    return {
      state: 'egress-unknown',
      message:
        '`*` is ACTIVE: bunq\'s IP filtering is off for this credential. With egress=none that is the set-up; ' +
        'with a fixed egress, pass --egress-ip <EgressIp> (or set EGRESS_IPS) to learn whether `*` can be switched off safely.',
      ...base,
    };
  }
  const verb = egressIps.length === 1 ? 'is' : 'are';
  if (inactive.length === 0) {
    return { state: 'closable', message: `switch \`*\` off in the bunq app; the reconciler calls from ${list(egressIps)}, which ${verb} ACTIVE`, ...base };
  }
  const adds = inactive.map((ip) => `\`bunq-ip desired add ${credential} ${ip} --note egress\``).join(', ');
  return {
    state: 'egress-not-active',
    message:
      `\`*\` is ACTIVE, but the reconciler calls from ${list(inactive)}, which ${inactive.length === 1 ? 'is' : 'are'} not ACTIVE: ` +
      `switching \`*\` off now would lock it out. First ${adds} and \`bunq-ip apply ${credential}\`, then switch \`*\` off in the bunq app.`,
    ...base,
  };
}
