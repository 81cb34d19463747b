/**
 * The IPs a local run (plan, apply --local, bootstrap) calls bunq from, so the core never
 * deactivates them and a refusal by bunq names them. First match wins:
 *
 * 1. `--caller-ip IP` (repeatable): the operator knows (a VPN, a proxy).        source 'flag'
 * 2. `BUNQ_IP_CALLER_IPS` (comma separated): set once for a CI runner or a host. source 'env'
 * 3. detection:                                                                  source 'detected'
 *    - bunq's base URL is on this machine (the emulator): bunq sees 127.0.0.1. The URL judged is
 *      the one the run calls: the stored context's, not BUNQ_BASE_URL (a leftover local value must
 *      not make a production run believe it calls from 127.0.0.1);
 *    - otherwise a what-is-my-IP endpoint (`BUNQ_IP_CHECKIP_URL`, default AWS's checkip), with a
 *      short timeout: CI and tests often have no internet, and not knowing is not fatal.
 * 4. nothing worked: source 'unknown', `ips` empty. The core then holds every deactivation
 *    ("cannot tell which IP this run calls bunq from") unless an ACTIVE `*` covers the caller.
 *
 * A malformed flag or variable is an error (exit 64), never ignored: a typo would otherwise turn a
 * protected caller into an unprotected one. `BUNQ_IP_CHECKIP_URL=off` skips detection.
 *
 * For other commands (e.g. `doctor`): `resolveCallerIps` (pure of the CLI context), or
 * `callerIpsFor(ctx, values, bunqBaseUrl)` / `callerResolverFor(ctx, values)` with `CALLER_IP_OPTION`
 * as the command's `caller-ip` flag, and `describeCallerIps` / `callerLine` to print the result.
 */
import { validateIpv4, validateIpv4List } from '../lambdas/core';
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

/** The core's rule (one bad item spoils all); here a bad list is a usage error, not "unknown". */
function validated(values: readonly string[], what: string, usage: boolean): string[] {
  const checked = validateIpv4List(values);
  if (checked.ok) return checked.ips;
  const message = `${what} ${checked.problems.map((p) => `${JSON.stringify(p.value)}: ${p.reason}`).join('; ')}`;
  throw usage ? usageError(message, 'give the public IPv4 address bunq sees this machine call from') : new CliError(message, ExitCode.Usage);
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

/**
 * @param bunqBaseUrl the base URL this run calls bunq at. Default: the settings' (BUNQ_BASE_URL /
 *   --base-url), right only for a run that calls exactly that (bootstrap); a run on a stored context
 *   uses `callerResolverFor`.
 */
export function callerIpsFor(ctx: CommandContext, values: OptionValues, bunqBaseUrl: string | undefined = ctx.settings.bunqBaseUrl): Promise<CallerIps> {
  return resolveCallerIps({ flags: list(values, 'caller-ip'), env: ctx.io.env, bunqBaseUrl });
}

/** Resolves the caller once the run knows the base URL it calls (the loaded context's). */
export type CallerResolver = (bunqBaseUrl: string) => Promise<CallerIps>;

export function callerResolverFor(ctx: CommandContext, values: OptionValues): CallerResolver {
  return (bunqBaseUrl) => callerIpsFor(ctx, values, bunqBaseUrl);
}

/**
 * The line `plan` and `apply --local` print about the caller: kept, or why deactivations are held.
 * @param workerIps the worker's recorded egress IPs, which a local run keeps as well.
 */
export function callerLine(caller: CallerIps, workerIps: readonly string[] = []): string {
  if (caller.ips.length === 0) {
    return (
      `Caller: ${describeCallerIps(caller)}; every deactivation is held unless an ACTIVE "*" covers it. ` +
      `Pass --caller-ip or set ${CALLER_IPS_ENV}.`
    );
  }
  const worker = workerIps.filter((ip) => !caller.ips.includes(ip));
  const alsoWorker = worker.length === 0 ? '' : ` The worker's recorded egress IP${worker.length === 1 ? '' : 's'} ${worker.join(', ')} ${worker.length === 1 ? 'is' : 'are'} kept too.`;
  return `Caller: this run calls bunq from ${describeCallerIps(caller)}; ${caller.ips.length === 1 ? 'it is' : 'they are'} kept (never deactivated).${alsoWorker}`;
}
