/**
 * Plain data the bunq client reads and returns. Everything here is JSON-serialisable: the context is
 * stored as a Secrets Manager secret and the entities end up in status items and CLI output.
 */

export type BunqEnvironment = 'PRODUCTION' | 'SANDBOX';

export const BUNQ_BASE_URLS: Readonly<Record<BunqEnvironment, string>> = {
  PRODUCTION: 'https://api.bunq.com',
  SANDBOX: 'https://public-api.sandbox.bunq.com',
};

export interface BunqSession {
  /** Id of the session-server object (used for DELETE /session/{id}). */
  id: number;
  token: string;
  /** ISO-8601 time after which bunq no longer accepts the token (created + session_timeout). */
  expiresAt: string;
  /** bunq's session_timeout in seconds, as reported by the user object at session creation. */
  timeoutSeconds: number;
}

/**
 * Everything needed to call bunq on behalf of one API key. Written once by the CLI's bootstrap
 * (installation + device registration are never redone automatically); `session` is refreshed by
 * the reconciler.
 */
export interface BunqContext {
  /** Schema version of this object, so a future change can migrate stored secrets. */
  version: 1;
  environment: BunqEnvironment;
  /** Overrides the environment's base URL (the emulator, a proxy). No trailing slash, no /v1. */
  baseUrl?: string;
  apiKey: string;
  /** PKCS#8 PEM of the client's RSA-2048 private key. */
  clientPrivateKeyPem: string;
  /** SPKI PEM ("BEGIN PUBLIC KEY") of the client's public key, as sent to POST /installation. */
  clientPublicKeyPem: string;
  installationId: number;
  installationToken: string;
  /** bunq's server public key (SPKI PEM) from the installation reply; verifies response signatures. */
  serverPublicKeyPem: string;
  deviceServerId: number;
  /** The bunq user the API key belongs to (from the session-server reply). */
  userId: number;
  session: BunqSession | null;
}

export type PermittedIpStatus = 'ACTIVE' | 'INACTIVE';

/**
 * The id a listed entry gets when bunq sent none we can use (missing, not a positive integer). bunq's
 * ids are positive, so it never names a real entry; the core never changes such an entry.
 */
export const NO_PERMITTED_IP_ID = 0;

/** One whitelist entry of a CredentialPasswordIp (bunq object type `PermittedIp`), well formed. */
export interface PermittedIp {
  id: number;
  /** Dotted-quad IPv4, or `*` for the wildcard that only the bunq app can manage. */
  ip: string;
  status: PermittedIpStatus;
  created: string | null;
  updated: string | null;
}

/**
 * A PermittedIp as the client reads it from bunq: leniently, so one odd entry cannot make a whole
 * list unreadable. A field we cannot use is marked instead of rejected; the core classifies such an
 * entry as unrecognised and never changes it.
 */
export interface PermittedIpAsRead {
  /** bunq's id, or NO_PERMITTED_IP_ID when the entry came without a usable one. */
  id: number;
  /** As bunq sent it; '' if it sent no string. */
  ip: string;
  /**
   * ACTIVE or INACTIVE, or any other value bunq sent, kept as given ('' if not a string): an entry
   * with another status is reported, never counted as ACTIVE, never changed.
   */
  // `string & {}` keeps the two known values visible to completion while allowing any string.
  status: PermittedIpStatus | (string & {});
  /** null when bunq omitted it or sent something other than a string. */
  created: string | null;
  updated: string | null;
}

/** bunq object type `CredentialPasswordIp`. */
export interface CredentialPasswordIp {
  id: number;
  created: string | null;
  updated: string | null;
  /** `ACTIVE`, `PENDING_FIRST_USE` or another value bunq may add; kept as given. */
  status: string;
  expiryTime: string | null;
  permittedDevice: { description: string | null; ip: string | null } | null;
}

/** The user object of a session-server reply, reduced to what we need. */
export interface BunqUser {
  kind: 'UserPerson' | 'UserCompany' | 'UserApiKey' | 'UserPaymentServiceProvider';
  id: number;
  displayName: string | null;
  sessionTimeoutSeconds: number;
}
