/**
 * The IPs a local run (plan, apply --local, bootstrap) calls bunq from, so the core never
 * deactivates them and a refusal by bunq names them. First match wins:
 *
 * 1. `--caller-ip IP` (repeatable): the operator knows (a VPN, a proxy).        source 'flag'
 * 2. `BUNQ_IP_CALLER_IPS` (comma separated): set once for a CI runner or a host. source 'env'
 * 3. detection:                                                                  source 'detected'
 *    - bunq's base URL is on this machine (the emulator): bunq sees 127.0.0.1;
 *    - otherwise a what-is-my-IP endpoint (`BUNQ_IP_CHECKIP_URL`, default AWS's checkip), with a
 *      short timeout: CI and tests often have no internet, and not knowing is not fatal.
 * 4. nothing worked: source 'unknown', `ips` empty. The core then holds every deactivation
 *    ("cannot tell which IP this run calls bunq from") unless an ACTIVE `*` covers the caller.
 *
 * A malformed flag or variable is an error (exit 64), never ignored: a typo would otherwise turn a
 * protected caller into an unprotected one. `BUNQ_IP_CHECKIP_URL=off` skips detection.
 *
 * For other commands (e.g. `doctor`): `resolveCallerIps` (pure of the CLI context), or
 * `callerIpsFor(ctx, values)` with `CALLER_IP_OPTION` as the command's `caller-ip` flag, and
 * `describeCallerIps` / `callerLine` to print the result.
 */
import { validateIpv4 } from '../lambdas/core';
import { list, type OptionDef, type OptionValues } from './args';
import type { CommandContext } from './context';
import { CliError, ExitCode, usageError } from './errors';
import type { Env } from './io';

export const CALLER_IPS_ENV = 'BUNQ_IP_CALLER_IPS';
export const CHECKIP_URL_ENV = 'BUNQ_IP_CHECKIP_URL';
export const DEFAULT_CHECKIP_URL = 'https://checkip.amazonaws.com';
export const CHECKIP_TIMEOUT_MS = 2000;

export type CallerIpSource = 'flag' | 'env' | 'detected' | 'unknown';

/** What a run knows about the IPs it calls bunq from. */
export interface CallerIps {
  /** Validated IPv4 addresses, deduplicated, in the order given; empty when `source` is 'unknown'. */
  ips: string[];
  source: CallerIpSource;
  /** How they were found, or why not (e.g. "checkip.amazonaws.com: timed out after 2000 ms"). */
  detail?: string;
}

export interface ResolveCallerIpsInput {
  /** The values of `--caller-ip`. */
  flags: readonly string[];
  env: Env;
  /** The bunq base URL this run calls (the emulator's in tests), when not bunq's own. */
  bunqBaseUrl?: string | undefined;
  /** The endpoint's text reply; injectable so unit tests need no server. Default: fetch. */
  fetchText?: (url: string, timeoutMs: number) => Promise<string>;
  timeoutMs?: number;
}

function validated(values: readonly string[], what: string, usage: boolean): string[] {
  const out: string[] = [];
  for (const raw of values) {
    const checked = validateIpv4(raw);
    if (!checked.ok) {
      const message = `${what} ${JSON.stringify(raw)}: ${checked.reason}`;
      throw usage ? usageError(message, 'give the public IPv4 address bunq sees this machine call from') : new CliError(message, ExitCode.Usage);
    }
    if (!out.includes(checked.ip)) out.push(checked.ip);
  }
  return out;
}

function isLoopbackHost(baseUrl: string | undefined): boolean {
  if (baseUrl === undefined) return false;
  try {
    const host = new URL(baseUrl).hostname;
    return host === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  } catch {
    return false;
  }
}

async function fetchWithTimeout(url: string, timeoutMs: number): Promise<string> {
  const reply = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  if (!reply.ok) throw new Error(`HTTP ${reply.status}`);
  return reply.text();
}

function failureText(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `timed out after ${timeoutMs} ms`;
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err instanceof Error ? err.message : String(err)}${cause}`;
}

export async function resolveCallerIps(input: ResolveCallerIpsInput): Promise<CallerIps> {
  if (input.flags.length > 0) return { ips: validated(input.flags, '--caller-ip', true), source: 'flag', detail: '--caller-ip' };
  const fromEnv = input.env[CALLER_IPS_ENV]?.trim();
  if (fromEnv !== undefined && fromEnv !== '') {
    const parts = fromEnv.split(',').map((p) => p.trim());
    return { ips: validated(parts, CALLER_IPS_ENV, false), source: 'env', detail: CALLER_IPS_ENV };
  }
  if (isLoopbackHost(input.bunqBaseUrl)) {
    return { ips: ['127.0.0.1'], source: 'detected', detail: 'bunq\'s base URL is on this machine (loopback)' };
  }
  const configured = input.env[CHECKIP_URL_ENV]?.trim();
  if (configured === 'off') return { ips: [], source: 'unknown', detail: `detection switched off (${CHECKIP_URL_ENV}=off)` };
  const url = configured === undefined || configured === '' ? DEFAULT_CHECKIP_URL : configured;
  let host: string;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('not http(s)');
    host = parsed.host;
  } catch {
    throw new CliError(`${CHECKIP_URL_ENV} ${JSON.stringify(url)} is not an http(s) URL`, ExitCode.Usage);
  }
  const timeoutMs = input.timeoutMs ?? CHECKIP_TIMEOUT_MS;
  let text: string;
  try {
    text = await (input.fetchText ?? fetchWithTimeout)(url, timeoutMs);
  } catch (err) {
    return { ips: [], source: 'unknown', detail: `${host}: ${failureText(err, timeoutMs)}` };
  }
  const answer = text.trim();
  const checked = validateIpv4(answer);
  if (!checked.ok) {
    return { ips: [], source: 'unknown', detail: `${host} answered ${JSON.stringify(answer.slice(0, 40))}, not an IPv4 address` };
  }
  return { ips: [checked.ip], source: 'detected', detail: host };
}

/** Where the knowledge came from (or why there is none), e.g. "--caller-ip", "detected: checkip.amazonaws.com". */
export function callerOrigin(c: CallerIps): string {
  if (c.source === 'detected') return `detected: ${c.detail ?? 'checkip'}`;
  return c.detail ?? c.source;
}

/** One line for humans: which IPs, and where that knowledge came from. */
export function describeCallerIps(c: CallerIps): string {
  if (c.ips.length === 0) return `cannot tell which IP this run calls bunq from (${callerOrigin(c)})`;
  return `${c.ips.join(', ')} (${callerOrigin(c)})`;
}

/** `--caller-ip`, shared by every command that calls bunq from this machine. */
export const CALLER_IP_OPTION: OptionDef = {
  type: 'string',
  multiple: true,
  valueName: 'IP',
  description: `the public IPv4 this machine calls bunq from; never deactivated (default: $${CALLER_IPS_ENV}, else detected)`,
};

export function callerIpsFor(ctx: CommandContext, values: OptionValues): Promise<CallerIps> {
  return resolveCallerIps({ flags: list(values, 'caller-ip'), env: ctx.io.env, bunqBaseUrl: ctx.settings.bunqBaseUrl });
}

/** The line `plan` and `apply --local` print about the caller: kept, or why deactivations are held. */
export function callerLine(caller: CallerIps): string {
  if (caller.ips.length === 0) {
    return (
      `Caller: ${describeCallerIps(caller)}; every deactivation is held unless an ACTIVE "*" covers it. ` +
      `Pass --caller-ip or set ${CALLER_IPS_ENV}.`
    );
  }
  return `Caller: this run calls bunq from ${describeCallerIps(caller)}; ${caller.ips.length === 1 ? 'it is' : 'they are'} kept (never deactivated).`;
}
