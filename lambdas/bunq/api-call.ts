/**
 * One logical bunq API call, end to end: wait for the rate limiter, build bunq's headers, sign the
 * body, send, verify the reply signature, turn error replies into BunqErrors, and retry what may be
 * retried (see retry-policy.ts). Session handling sits one level up, in the client.
 *
 * Signing decision: every request that carries an auth token is signed over its exact body bytes
 * (an empty body for GET/DELETE). bunq requires it only on device-server and session-server and
 * ignores it elsewhere (bunq-api.md §3.1), so signing more is harmless and keeps one code path.
 * POST /installation is never signed: bunq has no key of ours yet.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../shared/clock';
import { BunqError, type BunqErrorKind } from './errors';
import { describe, errorForReply, summaryFor } from './error-mapping';
import { EnvelopeError, parseJson, responseItems, errorDescriptions, type ResponseItem } from './envelope';
import type { Logger } from '../shared/logger';
import { SecretRedactor } from '../shared/redact';
import type { RateLimiter } from './rate-limiter';
import { backoffMs, verdictFor, type Failure, type RetryOptions } from './retry-policy';
import { signBody, verifyBody, type KeyCache } from './signing';
import { TransportError, type HttpMethod, type HttpRequest, type HttpResponse, type Transport } from './transport';

export const DEFAULT_USER_AGENT = 'bunq-ip-reconciler/0.1';
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Counters for tests and benchmarks; one object per client, mutated in place. */
export interface BunqStats {
  /** HTTP requests sent (every attempt, retries included). */
  requests: number;
  byMethod: Record<HttpMethod, number>;
  retries: number;
  /** Requests that had to wait for the client-side rate limiter. */
  rateLimitWaits: number;
  sessionRefreshes: number;
}

export function emptyStats(): BunqStats {
  return { requests: 0, byMethod: { GET: 0, POST: 0, PUT: 0, DELETE: 0 }, retries: 0, rateLimitWaits: 0, sessionRefreshes: 0 };
}

/** Everything a call needs that does not change from call to call. */
export interface CallEnvironment {
  baseUrl: string;
  transport: Transport;
  limiter: RateLimiter;
  clock: Clock;
  retry: RetryOptions;
  random: () => number;
  timeoutMs: number;
  localAddress?: string;
  userAgent: string;
  language?: string;
  region?: string;
  logger: Logger;
  newRequestId: () => string;
  stats: BunqStats;
  /** Secrets to scrub from any text that reaches an error or a log line. */
  secrets: () => readonly string[];
  /** Parsed client and server keys, so each call does not parse its PEMs again. */
  keys: KeyCache;
  /**
   * Epoch ms on `clock` by which every call has ended (the run's deadline): no rate-limit wait,
   * retry back-off or request runs past it; the call fails fast with kind `deadline` instead.
   */
  deadline?: number;
}

export interface CallSpec {
  method: HttpMethod;
  /** Path and query, starting with /v1/. */
  path: string;
  /** Route pattern with ids replaced, e.g. /v1/user/{id}/credential-password-ip (limiter key). */
  route: string;
  body?: unknown;
  /** The X-Bunq-Client-Authentication token; omitted only for POST /installation. */
  token?: string;
  /** Our private key, to sign the body. */
  privateKeyPem?: string;
  /** bunq's key; when given, every reply but a 429 (and an unsigned 5xx/491) must carry a valid signature. */
  serverPublicKeyPem?: string;
  /** Whether sending the call twice is harmless (see retry-policy.ts). */
  repeatable: boolean;
}

export interface CallResult {
  json: unknown;
  items: ResponseItem[];
  status: number;
  requestId: string;
  responseId: string | undefined;
}

/** Replaces numeric path segments with {id}: the rate-limit bucket and a stable metric label. */
export function routeOf(path: string): string {
  const pathOnly = path.split('?')[0] ?? path;
  return pathOnly.replace(/\/\d+(?=\/|$)/g, '/{id}');
}

export function newRequestId(): string {
  return randomUUID();
}

/**
 * bunq's request headers for one attempt: the fixed ones, the token, and the body signature when
 * the call carries a token and we have a key (see the signing decision above).
 */
export function bunqHeaders(
  env: CallEnvironment,
  spec: Pick<CallSpec, 'token' | 'privateKeyPem'>,
  requestId: string,
  bodyBytes: Buffer | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {
    'User-Agent': env.userAgent,
    'Cache-Control': 'no-cache',
    'X-Bunq-Client-Request-Id': requestId,
  };
  if (env.language !== undefined) headers['X-Bunq-Language'] = env.language;
  if (env.region !== undefined) headers['X-Bunq-Region'] = env.region;
  if (bodyBytes !== undefined) headers['Content-Type'] = 'application/json';
  if (spec.token !== undefined) headers['X-Bunq-Client-Authentication'] = spec.token;
  if (spec.token !== undefined && spec.privateKeyPem !== undefined) {
    headers['X-Bunq-Client-Signature'] = signBody(env.keys.privateKey(spec.privateKeyPem), bodyBytes ?? Buffer.alloc(0));
  }
  return headers;
}

/** The HTTP request for one attempt: the environment's base URL, deadline and source address. */
export function httpRequest(
  env: CallEnvironment,
  spec: Pick<CallSpec, 'method' | 'path'>,
  headers: Record<string, string>,
  bodyBytes: Buffer | undefined,
  timeoutMs: number = env.timeoutMs,
): HttpRequest {
  return {
    method: spec.method,
    url: env.baseUrl + spec.path,
    headers,
    ...(bodyBytes !== undefined ? { body: bodyBytes } : {}),
    timeoutMs,
    ...(env.localAddress !== undefined ? { localAddress: env.localAddress } : {}),
  };
}

/** One attempt that did not succeed: why, as the retry policy and the caller see it. */
interface FailedAttempt {
  failure: Failure;
  error: BunqError;
  /** For the log and outcome-unknown's message: "HTTP 503", "no reply within 10000 ms", … */
  reason: string;
  /** An unsigned 429's texts: they only feed the capped wait, never the error. */
  rateText: string[];
}

/** What every attempt of one call shares. */
interface CallContext {
  operation: string;
  bodyBytes: Buffer | undefined;
  clean: (text: string) => string;
}

/**
 * One logical call: attempts until one succeeds, the retry policy says stop, or the next wait would
 * cross the run deadline (then kind `deadline`: nothing more was sent and no earlier attempt may
 * have been applied; else `outcome-unknown`). This is the one layer that retries a bunq call
 * (docs/decisions.md, issue 13).
 */
export async function callBunq(env: CallEnvironment, spec: CallSpec): Promise<CallResult> {
  const ctx: CallContext = {
    operation: `${spec.method} ${spec.path.split('?')[0] ?? spec.path}`,
    bodyBytes: spec.body === undefined ? undefined : Buffer.from(JSON.stringify(spec.body), 'utf8'),
    clean: (text) => new SecretRedactor(env.secrets()).redactString(text),
  };
  let last: FailedAttempt | undefined;
  // A repeatable write (PUT, POST session-server) is retried after an attempt that may have reached
  // bunq. If the deadline then stops the retries, "not applied" would be a lie: the caller must
  // hear outcome-unknown and re-read, as it does for a POST that is never repeated.
  let mayHaveApplied = false;
  for (let attempt = 1; ; attempt++) {
    try {
      await waitForRateLimit(env, spec, ctx, last);
      const outcome = await attemptOnce(env, spec, ctx, attempt);
      if (!('failure' in outcome)) return outcome;
      last = outcome;
      if (spec.method !== 'GET' && verdictFor(outcome.failure, false) === 'outcome-unknown') mayHaveApplied = true;
      const verdict = verdictFor(outcome.failure, spec.repeatable);
      if (verdict === 'outcome-unknown') throw outcomeUnknown(outcome, ctx.operation);
      if (verdict === 'fail' || attempt >= env.retry.maxAttempts) throw outcome.error;
      await waitToRetry(env, spec, ctx, attempt, outcome);
    } catch (err) {
      if (mayHaveApplied && last !== undefined && err instanceof BunqError && err.kind === 'deadline') throw outcomeUnknown(last, ctx.operation);
      throw err;
    }
  }
}

/** The client-side limiter's slot, unless it starts at or after the deadline. */
async function waitForRateLimit(env: CallEnvironment, spec: CallSpec, ctx: CallContext, last: FailedAttempt | undefined): Promise<void> {
  const waited = await env.limiter.acquireBefore(spec.method, spec.route, env.deadline ?? Number.POSITIVE_INFINITY);
  if (waited === null) throw deadlineError(env, ctx.operation, 'waiting for the rate limit', last?.error);
  if (waited > 0) env.stats.rateLimitWaits++;
}

/** Sends one attempt: the reply parsed on success, else what failed and why. */
async function attemptOnce(env: CallEnvironment, spec: CallSpec, ctx: CallContext, attempt: number): Promise<CallResult | FailedAttempt> {
  const { operation, bodyBytes } = ctx;
  const requestId = env.newRequestId();
  const headers = bunqHeaders(env, spec, requestId, bodyBytes);
  const timeoutMs = requestTimeout(env);
  if (timeoutMs <= 0) throw deadlineError(env, operation, 'sending');
  env.stats.requests++;
  env.stats.byMethod[spec.method]++;
  const started = env.clock.now();
  let response: HttpResponse;
  try {
    response = await env.transport(httpRequest(env, spec, headers, bodyBytes, timeoutMs));
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    env.logger.debug('bunq call failed in transport', { operation, requestId, attempt, code: err.code, phase: err.phase });
    const kind: BunqErrorKind = err.code === 'TIMEOUT' ? 'timeout' : 'network';
    return {
      failure: { type: 'transport', phase: err.phase },
      reason: err.code === 'TIMEOUT' ? `no reply within ${timeoutMs} ms` : err.code,
      rateText: [],
      error: new BunqError(`${operation}: ${summaryFor(kind)} (${err.code})`, {
        kind, requestId, operation, retryable: true, cause: new Error(ctx.clean(err.message)),
      }),
    };
  }
  const responseId = response.headers['x-bunq-client-response-id'];
  env.logger.debug('bunq call', { operation, status: response.status, requestId, responseId, attempt, durationMs: env.clock.now() - started });
  return judgeReply(env, spec, ctx, response, requestId);
}

/** The per-request timeout, cut to what is left before the deadline: no request outlives it. */
function requestTimeout(env: CallEnvironment): number {
  if (env.deadline === undefined) return env.timeoutMs;
  return Math.min(env.timeoutMs, env.deadline - env.clock.now());
}

/** A reply: its signature checked, then parsed (2xx) or classified as a failed attempt. */
function judgeReply(env: CallEnvironment, spec: CallSpec, ctx: CallContext, response: HttpResponse, requestId: string): CallResult | FailedAttempt {
  const { operation } = ctx;
  const responseId = response.headers['x-bunq-client-response-id'];
  const unsignedGatewayError = isUnsignedGatewayError(spec, response);
  const unsignedRefusal = isUnsignedRefusal(spec, response);
  if (!unsignedGatewayError && !unsignedRefusal) checkSignature(env, spec, response, operation, requestId);
  if (response.status >= 200 && response.status < 300) return parseSuccess(response, operation, requestId, responseId);
  // An unsigned body is not bunq's word: classify by status alone and use none of its text. bunq
  // never signs a 429, so its text only feeds the capped wait, never the error.
  const unsigned = unsignedGatewayError || response.status === 429;
  const texts = errorDescriptions(response.body).map(ctx.clean);
  const error = errorForReply({
    status: response.status,
    descriptions: unsigned ? [] : texts,
    operation,
    requestId,
    ...(unsignedRefusal ? { unsigned: true } : {}),
    ...(responseId !== undefined ? { responseId } : {}),
  });
  return { failure: { type: 'reply', kind: error.kind }, error, reason: `HTTP ${response.status}`, rateText: response.status === 429 ? texts : [] };
}

/** The call may have been applied: the caller must re-read before anything else. */
function outcomeUnknown(failed: FailedAttempt, operation: string): BunqError {
  const e = failed.error;
  return new BunqError(
    describe(operation, `${summaryFor('outcome-unknown')} (${failed.reason}); re-read before retrying`, undefined, e.descriptions, e.responseId),
    {
      kind: 'outcome-unknown',
      ...(e.status !== undefined ? { status: e.status } : {}),
      descriptions: [...e.descriptions],
      ...(e.responseId !== undefined ? { responseId: e.responseId } : {}),
      ...(e.requestId !== undefined ? { requestId: e.requestId } : {}),
      operation,
      retryable: false,
      cause: e,
    },
  );
}

/** The back-off before the next attempt; a wait that would end at or after the deadline is not started. */
async function waitToRetry(env: CallEnvironment, spec: CallSpec, ctx: CallContext, attempt: number, failed: FailedAttempt): Promise<void> {
  const rateLimited = failed.failure.type === 'reply' && failed.failure.kind === 'rate-limited';
  let delay = backoffMs(attempt, rateLimited, env.retry, env.random);
  // A backoff shorter than the endpoint's window (30 s for session-server) would only hit the
  // limit again: wait at least the window bunq names in its 429 text, or our table's.
  if (rateLimited) delay = Math.max(delay, rateWindowMs(failed.rateText) ?? env.limiter.ruleFor(spec.method, spec.route)?.windowMs ?? 0);
  if (env.deadline !== undefined && env.clock.now() + delay >= env.deadline) {
    throw deadlineError(env, ctx.operation, `waiting ${delay} ms to retry`, failed.error);
  }
  env.stats.retries++;
  env.logger.warn('bunq call will be retried', {
    operation: ctx.operation, requestId: failed.error.requestId, attempt, reason: failed.error.kind, status: failed.error.status, delayMs: delay,
  });
  await env.clock.sleep(delay);
}

/** The run deadline stopped the call before `what`: nothing more was sent, so it was not applied. */
function deadlineError(env: CallEnvironment, operation: string, what: string, last?: BunqError): BunqError {
  const at = env.deadline === undefined ? '' : ` ${new Date(env.deadline).toISOString()}`;
  const lastText = last === undefined ? '' : `; last error: ${last.kind}: ${last.message}`;
  return new BunqError(`${operation}: ${summaryFor('deadline')} (run deadline${at} reached before ${what})${lastText}`, {
    kind: 'deadline',
    operation,
    retryable: false,
    ...(last !== undefined ? { cause: last } : {}),
  });
}

/** 429 replies are unsigned, so a window read from one is capped: a forged text cannot stall us long. */
export const MAX_RATE_WINDOW_MS = 60_000;

/** The window of bunq's "maximum of N calls per W second" 429 text, in ms. */
export function rateWindowMs(descriptions: readonly string[]): number | undefined {
  for (const text of descriptions) {
    const m = /maximum of \d+ calls? per (\d+(?:\.\d+)?) seconds?/i.exec(text);
    if (m?.[1] !== undefined) return Math.min(MAX_RATE_WINDOW_MS, Math.round(Number(m[1]) * 1000));
  }
  return undefined;
}

/**
 * A 5xx or 491 with no signature at all is what a load balancer or proxy in front of bunq sends when
 * bunq is down (an HTML 502, say). Treating it as a signature failure would hide an outage behind a
 * security alarm and stop retries; treating it as bunq-down is safe, because a failure only ever
 * makes us do less and its body is not used. A present-but-wrong signature is still rejected.
 */
function isUnsignedGatewayError(spec: CallSpec, response: HttpResponse): boolean {
  return (
    spec.serverPublicKeyPem !== undefined &&
    (response.status >= 500 || response.status === 491) &&
    response.headers['x-bunq-server-signature'] === undefined
  );
}

/**
 * A 4xx with no signature at all: bunq may not sign its error replies (open question, profile
 * `errors-unsigned`). Such a reply is still a refusal, and a refusal only ever makes us do less, so
 * it is classified (its text marked as unsigned) instead of being reported as a forgery; that keeps
 * a 401 refreshing the session. A 2xx must be signed, and a present-but-wrong signature is always
 * rejected.
 */
function isUnsignedRefusal(spec: CallSpec, response: HttpResponse): boolean {
  return (
    spec.serverPublicKeyPem !== undefined &&
    response.status >= 400 &&
    response.status < 500 &&
    response.status !== 429 &&
    response.headers['x-bunq-server-signature'] === undefined
  );
}

function checkSignature(env: CallEnvironment, spec: CallSpec, response: HttpResponse, operation: string, requestId: string): void {
  // bunq does not sign 429s; every other reply is signed once an installation exists.
  const serverKeyPem = spec.serverPublicKeyPem;
  if (serverKeyPem === undefined || response.status === 429) return;
  const signature = response.headers['x-bunq-server-signature'];
  if (verifyBody(() => env.keys.publicKey(serverKeyPem), response.body, signature)) return;
  const responseId = response.headers['x-bunq-client-response-id'];
  const why = signature === undefined ? 'missing X-Bunq-Server-Signature' : 'X-Bunq-Server-Signature does not match the body';
  throw new BunqError(describe(operation, `${summaryFor('response-signature-invalid')} (${why}); reply ignored`, response.status, [], responseId), {
    kind: 'response-signature-invalid',
    status: response.status,
    requestId,
    operation,
    ...(responseId !== undefined ? { responseId } : {}),
  });
}

function parseSuccess(response: HttpResponse, operation: string, requestId: string, responseId: string | undefined): CallResult {
  try {
    const json = parseJson(response.body);
    return { json, items: responseItems(json), status: response.status, requestId, responseId };
  } catch (err) {
    throw malformed(err, operation, requestId, response.status, responseId);
  }
}

/** Turns an EnvelopeError into the BunqError a caller sees. */
export function malformed(
  err: unknown,
  operation: string,
  requestId: string | undefined,
  status: number | undefined,
  responseId: string | undefined,
): BunqError {
  if (err instanceof BunqError) return err;
  const detail = err instanceof EnvelopeError ? err.message : 'unexpected reply';
  return new BunqError(describe(operation, `${summaryFor('malformed-reply')}: ${detail}`, status, [], responseId), {
    kind: 'malformed-reply',
    operation,
    ...(status !== undefined ? { status } : {}),
    ...(requestId !== undefined ? { requestId } : {}),
    ...(responseId !== undefined ? { responseId } : {}),
  });
}
