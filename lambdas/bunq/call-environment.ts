/**
 * Turns the options a caller passes (all optional but the base URL) into the CallEnvironment every
 * call uses, with our defaults. Shared by the client and the bootstrap so both behave alike.
 */
import { systemClock, type Clock } from '../shared/clock';
import { DEFAULT_TIMEOUT_MS, DEFAULT_USER_AGENT, emptyStats, newRequestId, type CallEnvironment } from './api-call';
import { silentLogger, type Logger } from '../shared/logger';
import { RateLimiter, type RateLimitRule } from './rate-limiter';
import { KeyCache } from './signing';
import { DEFAULT_RETRY, type RetryOptions } from './retry-policy';
import { nodeTransport, type Transport } from './transport';
import { BUNQ_BASE_URLS, type BunqEnvironment } from './types';

export interface CallOptions {
  clock?: Clock;
  /** Per-request deadline (connect + send + reply), default 10 s. */
  timeoutMs?: number;
  /** Client-side limits; ignored when `limiter` is given. Default: bunq's classic table. */
  rateLimits?: readonly RateLimitRule[];
  /** A limiter shared with other clients acting from the same IP. */
  limiter?: RateLimiter;
  retry?: Partial<RetryOptions>;
  /** Source address of our connections (tests act as 127.0.0.2, 127.0.0.3, …). */
  localAddress?: string;
  userAgent?: string;
  /** X-Bunq-Language / X-Bunq-Region; bunq's defaults apply when omitted. */
  language?: string;
  region?: string;
  logger?: Logger;
  /** [0, 1) source for backoff jitter. */
  random?: () => number;
  transport?: Transport;
  /** X-Bunq-Client-Request-Id generator (UUID v4 by default); must be unique per request. */
  requestId?: () => string;
  /**
   * Epoch ms on `clock` by which every call ends (the run's deadline): rate-limit waits, retries,
   * session refreshes and pages that would run past it fail fast with kind `deadline`.
   */
  deadline?: number;
}

const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/**
 * The base URL without trailing slash. Plain http is accepted only for loopback hosts (the
 * emulator): anywhere else it would send the API key and tokens in clear text.
 */
export function resolveBaseUrl(environment: BunqEnvironment, baseUrl: string | undefined): string {
  if (environment !== 'PRODUCTION' && environment !== 'SANDBOX') {
    throw new Error(`bunq environment must be PRODUCTION or SANDBOX, got ${JSON.stringify(environment)}`);
  }
  const raw = baseUrl ?? BUNQ_BASE_URLS[environment];
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`bunq base URL is not a valid URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.test(url.host.replace(/:\d+$/, '')))) {
    throw new Error(`bunq base URL must use https (plain http only for loopback): ${url.origin}`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new Error('bunq base URL must not carry credentials, a query or a fragment');
  }
  const path = url.pathname.replace(/\/+$/, '');
  if (path.endsWith('/v1')) throw new Error('bunq base URL must not include /v1 (paths add it)');
  return url.origin + path;
}

export function makeCallEnvironment(baseUrl: string, options: CallOptions, secrets: () => readonly string[]): CallEnvironment {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new Error('timeoutMs must be a positive number');
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...options.retry };
  if (!(Number.isInteger(retry.maxAttempts) && retry.maxAttempts >= 1)) {
    throw new Error('retry.maxAttempts must be an integer >= 1');
  }
  const env: CallEnvironment = {
    baseUrl,
    transport: options.transport ?? nodeTransport(),
    limiter: options.limiter ?? new RateLimiter({ clock, ...(options.rateLimits ? { rules: options.rateLimits } : {}) }),
    clock,
    retry,
    random: options.random ?? Math.random,
    timeoutMs,
    userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
    logger: options.logger ?? silentLogger,
    newRequestId: options.requestId ?? newRequestId,
    stats: emptyStats(),
    secrets,
    keys: new KeyCache(),
  };
  if (options.localAddress !== undefined) env.localAddress = options.localAddress;
  if (options.language !== undefined) env.language = options.language;
  if (options.region !== undefined) env.region = options.region;
  if (options.deadline !== undefined) env.deadline = options.deadline;
  return env;
}
