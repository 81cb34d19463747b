/**
 * The bunq client's error taxonomy. Every failure a caller can see is a BunqError with a `kind` an
 * operator can act on; each kind has its own metric name. Messages carry bunq's own descriptions and
 * the response id for bunq support, and never a secret (API key, private key, tokens).
 */

export type BunqErrorKind =
  /** 400 "User credentials are incorrect. Incorrect API key or IP address." — our IP or key refused. */
  | 'credentials-rejected'
  /** "Insufficient authorisation." / "Insufficient authentication." (any status, usually 401) — the session is gone. */
  | 'session-expired'
  /** 466 — bunq wanted a request signature we did not send. */
  | 'signature-required'
  /** 401 "The request signature is invalid" — bunq rejected our signature. */
  | 'signature-invalid'
  /** The reply's X-Bunq-Server-Signature is missing or does not verify: its content was not used. */
  | 'response-signature-invalid'
  /** 429 (or the sandbox's 409) after the retries allowed; an unsigned 429's text is never used. */
  | 'rate-limited'
  /** 491 or 503: bunq in maintenance or unavailable. */
  | 'maintenance'
  | 'not-found'
  /** 400/405/490 and other 4xx that are about the request itself (bad JSON, invalid IP, refused change). */
  | 'bad-request'
  /**
   * A 4xx saying this API key may not get new IPs: a standard key (registered without `*`) keeps
   * the IPs it was created with (bunq's device-registration page). Only a wildcard key can add IPs.
   */
  | 'ip-add-not-permitted'
  /**
   * bunq listed whitelist entries without ids (profile `no-entry-ids`): no entry can be changed, as
   * a PUT needs the id, and we never guess one.
   */
  | 'entry-ids-missing'
  | 'forbidden'
  /** 5xx after the retries allowed. */
  | 'server-error'
  /** A 2xx whose body is not the envelope we expect (not JSON, wrong wrapper, missing fields). */
  | 'malformed-reply'
  /** No reply within the per-request timeout for an idempotent call, after retries. */
  | 'timeout'
  /** Connection refused/reset before anything was sent, after retries. */
  | 'network'
  /**
   * A non-idempotent call (POST) may or may not have been applied: timeout or connection loss after
   * the request was sent. Never retried blindly; the caller re-reads state first.
   */
  | 'outcome-unknown';

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

export class BunqError extends Error {
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
