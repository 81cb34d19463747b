import type { PortError, PortErrorKind } from '../core/errors';

/**
 * The bunq client's error taxonomy. Every failure a caller can see is a BunqError with a `kind` an
 * operator can act on; each kind has its own metric name. Messages carry bunq's own descriptions and
 * the response id for bunq support, and never a secret (API key, private key, tokens).
 */

/**
 * The kinds are the core's port error kinds (lambdas/core/errors.ts, where each one's decision
 * lives): credentials-rejected (400 "User credentials are incorrect": our IP or key refused),
 * session-expired ("Insufficient authorisation/authentication", any status, usually 401),
 * signature-required (466), signature-invalid (401 "The request signature is invalid"),
 * response-signature-invalid (the reply's X-Bunq-Server-Signature missing or wrong: its content
 * was not used), rate-limited (429, or the sandbox's 409, after the retries allowed; an unsigned
 * 429's text is never used), maintenance (491/503), not-found, bad-request (400/405/490 and other
 * 4xx about the request itself), ip-add-not-permitted (a standard key, registered without `*`,
 * keeps the IPs it was created with), entry-ids-missing (profile `no-entry-ids`: no entry can be
 * changed, we never guess an id), forbidden, server-error (5xx after the retries allowed),
 * malformed-reply (a 2xx whose body is not the envelope we expect), timeout (no reply in time for
 * an idempotent call, after retries), network (connection refused/reset before anything was sent,
 * after retries), outcome-unknown (a POST that may or may not have been applied: never retried
 * blindly, the caller re-reads first), deadline (the run's deadline came before the call could
 * start, wait or retry: not applied).
 */
export type BunqErrorKind = PortErrorKind;

export interface BunqErrorDetails {
  kind: BunqErrorKind;
  /** HTTP status, when a reply arrived. */
  status?: number;
  /** bunq's `error_description` values, in order. */
  descriptions?: string[];
  /** X-Bunq-Client-Response-Id of the reply, for bunq support. */
  responseId?: string;
  /** Our X-Bunq-Client-Request-Id. */
  requestId?: string;
  /** "GET /v1/user/{id}/credential-password-ip" style label; ids kept, no tokens ever. */
  operation?: string;
  /** Whether retrying the same call later is sensible (rate limit, maintenance, 5xx, network). */
  retryable?: boolean;
  cause?: unknown;
}

export class BunqError extends Error implements PortError {
  readonly kind: BunqErrorKind;
  readonly status: number | undefined;
  readonly descriptions: readonly string[];
  readonly responseId: string | undefined;
  readonly requestId: string | undefined;
  readonly operation: string | undefined;
  readonly retryable: boolean;

  constructor(message: string, details: BunqErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'BunqError';
    this.kind = details.kind;
    this.status = details.status;
    this.descriptions = details.descriptions ?? [];
    this.responseId = details.responseId;
    this.requestId = details.requestId;
    this.operation = details.operation;
    this.retryable = details.retryable ?? false;
  }

  /** A log-safe plain object (no stack, no cause chain that could hold request bodies). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      message: this.message,
      status: this.status,
      descriptions: this.descriptions,
      responseId: this.responseId,
      requestId: this.requestId,
      operation: this.operation,
      retryable: this.retryable,
    };
  }
}

export function isBunqError(err: unknown): err is BunqError {
  return err instanceof BunqError;
}

/** Metric name per kind, e.g. `BunqError_credentials-rejected` → `BunqErrorCredentialsRejected`. */
export function metricNameFor(kind: BunqErrorKind): string {
  return 'BunqError' + kind.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}
