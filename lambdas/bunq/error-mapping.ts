/**
 * Pure mapping from a bunq error reply (status + error_description texts) to a BunqError kind
 * (bunq-api.md §6). Texts are matched loosely (case-insensitive substrings) because bunq words the
 * same condition in more than one way.
 */
import { BunqError, type BunqErrorKind } from './errors';

export interface ErrorReply {
  status: number;
  /** bunq's error_description values, already stripped of any secret. */
  descriptions: readonly string[];
  responseId?: string;
  requestId?: string;
  operation: string;
  /** The reply carried no server signature (a 4xx under bunq's `errors-unsigned` answer). */
  unsigned?: boolean;
}

const CREDENTIALS_TEXT = 'user credentials are incorrect';
const SESSION_TEXTS = ['insufficient authorisation', 'insufficient authentication'];
const SIGNATURE_TEXT = 'signature';
// bunq's own words (device-registration page: "You won't be able to add new IP addresses later")
// and the emulator's; the probe shows the sandbox's real text, so this can be tightened to it.
const IP_ADD_REFUSED = /(cannot|can't|can not|won't be able to|unable to|not (?:be )?(?:allowed|possible|permitted) to) add(?:ing)? new ip/;

export function kindForReply(status: number, descriptions: readonly string[]): BunqErrorKind {
  // bunq does not sign 429s, so their text is nobody's word: the status alone decides.
  if (status === 429) return 'rate-limited';
  // The sandbox answers bursts with 409 (JORTT treats it as TooManyRequests). As rate-limited it is
  // retried after a back-off; as a 4xx refusal it could set off the re-activation fallback POST.
  if (status === 409) return 'rate-limited';
  const text = descriptions.join(' ').toLowerCase();
  if (text.includes(CREDENTIALS_TEXT)) return 'credentials-rejected';
  if (status >= 400 && status < 500 && IP_ADD_REFUSED.test(text)) return 'ip-add-not-permitted';
  // bunq's session texts come with more than one status (a 500 "Insufficient authentication." is
  // reported), and a fresh session is the cure whatever the status.
  if (SESSION_TEXTS.some((t) => text.includes(t))) return 'session-expired';
  if (status === 466) return 'signature-required';
  if (status === 401) {
    if (text.includes(SIGNATURE_TEXT)) return 'signature-invalid';
    // An unexplained 401 is most likely a token bunq no longer knows; a refresh is the cure.
    return 'session-expired';
  }
  if (status === 491 || status === 503) return 'maintenance';
  if (status === 404) return 'not-found';
  if (status === 403) return 'forbidden';
  if (status >= 400 && status < 500) return 'bad-request';
  if (status >= 500 && status < 600) return 'server-error';
  // 1xx/3xx (bunq documents a "399 NOT MODIFIED") are never a valid answer to our calls.
  return 'malformed-reply';
}

const RETRYABLE: ReadonlySet<BunqErrorKind> = new Set(['rate-limited', 'maintenance', 'server-error']);

const SUMMARY: Record<BunqErrorKind, string> = {
  'credentials-rejected': 'bunq rejected the API key or the calling IP',
  'session-expired': 'the bunq session is no longer valid',
  'signature-required': 'bunq requires a request signature',
  'signature-invalid': 'bunq rejected our request signature',
  'response-signature-invalid': 'the reply signature did not verify',
  'rate-limited': 'bunq rate limit hit',
  maintenance: 'bunq is in maintenance or unavailable',
  'not-found': 'bunq object not found',
  'bad-request': 'bunq refused the request',
  'ip-add-not-permitted':
    'bunq does not let this API key add IPs: it was registered without "*", and a standard key keeps the IPs it was ' +
    'created with. Remedy: create a wildcard API key (bunq-ip bootstrap --allow-all-ips, registering "*"), then switch ' +
    '"*" off in the bunq app',
  'entry-ids-missing':
    'bunq lists the whitelist entries without ids, so no entry can be changed safely (a PUT needs the id, and we never ' +
    'guess one); nothing was changed. Run `bunq-ip probe` and report the result',
  forbidden: 'bunq forbids this call',
  'server-error': 'bunq server error',
  'malformed-reply': 'bunq reply not understood',
  timeout: 'no reply from bunq in time',
  network: 'could not reach bunq',
  'outcome-unknown': 'the outcome of the call is unknown',
  deadline: 'the run deadline came before the call could go on; not sent again',
};

export function summaryFor(kind: BunqErrorKind): string {
  return SUMMARY[kind];
}

export function errorForReply(reply: ErrorReply): BunqError {
  const kind = kindForReply(reply.status, reply.descriptions);
  const summary = summaryFor(kind) + (reply.unsigned === true ? ' (reply not signed by bunq)' : '');
  return new BunqError(describe(reply.operation, summary, reply.status, reply.descriptions, reply.responseId), {
    kind,
    status: reply.status,
    descriptions: [...reply.descriptions],
    responseId: reply.responseId,
    requestId: reply.requestId,
    operation: reply.operation,
    retryable: RETRYABLE.has(kind),
  });
}

/** "POST /v1/…: bunq refused the request (HTTP 400): <bunq text> [response id …]" */
export function describe(
  operation: string,
  summary: string,
  status: number | undefined,
  descriptions: readonly string[],
  responseId: string | undefined,
): string {
  let msg = `${operation}: ${summary}`;
  if (status !== undefined) msg += ` (HTTP ${status})`;
  if (descriptions.length > 0) msg += `: ${descriptions.join(' ')}`;
  if (responseId !== undefined) msg += ` [response id ${responseId}]`;
  return msg;
}
