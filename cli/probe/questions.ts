/**
 * The questions `bunq-ip probe` settles (bunq-api.md §10), each with the emulator profile that plays
 * the non-default answer, and what that answer means for the reconciler. The ids and profile names
 * are a contract: issue reports, the emulator and test/profiles/ use the same strings.
 */
import type { EmulatorProfile } from '../../emulator/profiles';

export type CheckId =
  | 'standard-key-add'
  | 'wildcard-listing'
  | 'entry-ids'
  | 'reactivation'
  | 'duplicate-post'
  | 'error-signing'
  | 'rate-limit'
  | 'session-expiry';

export interface Question {
  id: CheckId;
  question: string;
  /** The profile that plays the non-default answer. */
  profile: EmulatorProfile;
  /** What bunq answering with `profile` means for the reconciler (README, text output). */
  meaning: string;
}

export const QUESTIONS: readonly Question[] = [
  {
    id: 'standard-key-add',
    question: 'a key registered without "*" (bound to the calling IP): does POST .../ip of a new IP work?',
    profile: 'standard-key-cannot-add-ips',
    meaning:
      'additions on a standard key fail with error kind ip-add-not-permitted (terminal, names the remedy: a wildcard ' +
      'key, then "*" switched off in the bunq app); re-activations and deactivations still work',
  },
  {
    id: 'wildcard-listing',
    question: 'after device-server with ["<ip>","*"]: is "*" listed as an entry of the credential?',
    profile: 'wildcard-unlisted',
    meaning:
      'the reconciler cannot see an app-managed "*"; it never relied on it (never-empty counts concrete IPs only), ' +
      'but the ActiveWildcard alarm cannot see it either, and runs must know their caller IPs for deactivations to proceed',
  },
  {
    id: 'entry-ids',
    question: 'do PermittedIp list and read replies carry id (and created, updated)?',
    profile: 'no-entry-ids',
    meaning:
      'no entry can be changed (a PUT needs the id): runs stop before any change with error kind entry-ids-missing',
  },
  {
    id: 'reactivation',
    question: 'does PUT turn an INACTIVE entry ACTIVE again?',
    profile: 'reactivation-refused',
    meaning:
      're-activation falls back to a re-read and a new POST; if bunq also refuses that duplicate, the IP can only ' +
      'come back through the bunq app and the run reports it',
  },
  {
    id: 'duplicate-post',
    question: 'POST of an IP the credential already has: is it refused?',
    profile: 'duplicate-post-accepted',
    meaning:
      'bunq keeps duplicates: the reconciler never POSTs a listed IP, never POSTs twice after an unknown outcome, ' +
      'and deactivates duplicates it finds',
  },
  {
    id: 'error-signing',
    question: 'are 4xx error replies signed (X-Bunq-Server-Signature)?',
    profile: 'errors-unsigned',
    meaning:
      'an unsigned 4xx is classified by status and text and marked "not signed by bunq" (never acted on beyond ' +
      'doing less); a present-but-wrong signature is still refused',
  },
  {
    id: 'rate-limit',
    question: "exceeding a method's rate limit: a 429 (body, headers), or slowed replies? (at most 20 calls)",
    profile: 'slow-instead-of-429',
    meaning:
      'replies get slow instead of refused: the client-side limiter keeps us under the table, per-request timeouts ' +
      'and the run deadline keep runs within their time',
  },
  {
    id: 'session-expiry',
    question: 'does each call extend the session? (--long: waits about session_timeout)',
    profile: 'fixed-session-expiry',
    meaning: 'sessions end at creation + session_timeout: the client already refreshes before that, never assuming extension',
  },
];

export type ObservationId =
  | 'post-without-status'
  | 'post-ipv6'
  | 'post-wildcard'
  | 'post-cidr'
  | 'session-server-missing-signature'
  | 'session-server-invalid-signature'
  | 'request-id-reuse'
  | 'delete-session'
  | 'session-timeout';

/** Questions without a profile: the probe reports what bunq said, for bunq-api.md and the client. */
export const OBSERVATIONS: Readonly<Record<ObservationId, string>> = {
  'post-without-status': 'POST .../ip without status: accepted, and which status does the entry get?',
  'post-ipv6': 'POST .../ip of an IPv6 address: status and text',
  'post-wildcard': 'POST .../ip of "*": status and text',
  'post-cidr': 'POST .../ip of a CIDR range: status and text',
  'session-server-missing-signature': 'POST /session-server without X-Bunq-Client-Signature: status and text',
  'session-server-invalid-signature': 'POST /session-server with a signature that does not verify: status and text',
  'request-id-reuse': 'the same X-Bunq-Client-Request-Id twice: status and text of the second call',
  'delete-session': 'DELETE /session/{id}: status and reply body',
  'session-timeout': 'session_timeout of a fresh sandbox user (seconds)',
};
