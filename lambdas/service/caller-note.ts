/**
 * When bunq refuses the caller ("Incorrect API key or IP address", kind `credentials-rejected`),
 * the operator's next step is to whitelist an address in the bunq app: the error says which
 * address this run believed it called from, or that it could not tell. IPs are not secrets.
 */
import type { RunError } from '../aws/state-store';

export const CREDENTIALS_REJECTED = 'credentials-rejected';

/** e.g. "this run calls bunq from 203.0.113.7 (EGRESS_IPS)". */
export function describeCaller(ips: readonly string[] | undefined, origin?: string): string {
  const from = origin === undefined ? '' : ` (${origin})`;
  if (ips === undefined || ips.length === 0) return `this run could not tell which IP it calls bunq from${from}`;
  return `this run calls bunq from ${ips.join(', ')}${from}`;
}

/** The sentence appended to a credentials-rejected error. */
export function callerSentence(ips: readonly string[] | undefined, origin?: string): string {
  const hint =
    ips === undefined || ips.length === 0
      ? 'check which IP this machine or the reconciler calls from and that the API key is current'
      : `if the API key is current, that IP must be ACTIVE on the credential (bunq app: API keys)`;
  return `${describeCaller(ips, origin)}; ${hint}`;
}

/** The error with the caller named when bunq refused the caller; any other error unchanged. */
export function nameCaller(error: RunError, ips: readonly string[] | undefined, origin?: string): RunError {
  if (error.kind !== CREDENTIALS_REJECTED || error.message.includes('calls bunq from')) return error;
  return { kind: error.kind, message: `${error.message} (${callerSentence(ips, origin)})` };
}
