/**
 * The reconcile domain as plain data. Pure functions in lambdas/core take and return these; adapters
 * (DynamoDB, bunq, CLI) translate to and from them. Everything serialises to JSON.
 */
import type { ErrorInfo } from './errors';

export type EntryStatus = 'ACTIVE' | 'INACTIVE';

/**
 * A status as bunq reported it: ACTIVE, INACTIVE, or a value bunq may add that we do not know
 * (kept as given so it can be reported; such an entry is never acted on and never counts as ACTIVE).
 */
// `string & {}` keeps the two known values visible to the type checker's completion.
export type ReportedEntryStatus = EntryStatus | (string & {});

/**
 * The id of an entry bunq listed without a usable id (missing, not a positive integer). bunq's ids
 * are positive, so this never names a real entry; such an entry is unrecognised and never changed.
 */
export const NO_ENTRY_ID = 0;

/** One IP entry as bunq holds it (a PermittedIp), reduced to what planning needs. */
export interface ActualEntry {
  /** bunq's id, or NO_ENTRY_ID when bunq gave none we can use. */
  id: number;
  /** Dotted quad, or `*` (the app-only wildcard), exactly as bunq returned it ('' if it sent no string). */
  ip: string;
  status: ReportedEntryStatus;
  /** bunq's creation time, used to keep the oldest of duplicates; may be null if bunq omits it. */
  created: string | null;
}

/**
 * A desired-IP item as read from the DesiredIps table (entry = "ip#..."), before validation. `ip`
 * is unknown because an operator may have typed anything in the console.
 */
export interface DesiredItem {
  /** The item's sort key, e.g. "ip#203.0.113.7" — identifies the item in reports. */
  entry: string;
  ip: unknown;
  note?: string;
  /**
   * Epoch seconds after which the entry is no longer desired (temporary access). Unknown like `ip`:
   * the core validates it, and an unusable value makes the item invalid (never silently permanent).
   */
  expiresAt?: unknown;
}

export type Mode = 'enforce' | 'additive' | 'observe';

export interface CredentialConfig {
  /** The operator's name for the credential, e.g. "prod" (the DesiredIps partition key). */
  credential: string;
  /** bunq user id the credential belongs to. */
  userId: number;
  /** bunq CredentialPasswordIp id. */
  credentialPasswordIpId: number;
  /** Secrets Manager secret that holds the BunqContext. */
  secretName: string;
  mode: Mode;
  maxDeactivationsPerRun: number;
  /** IPs never deactivated (the reconciler's own egress IPs). */
  protectedIps: string[];
}

export type Operation =
  | { kind: 'add'; ip: string }
  | { kind: 'reactivate'; ip: string; entryId: number }
  | { kind: 'deactivate'; ip: string; entryId: number; reason: 'undesired' | 'duplicate' };

export type GuardId =
  | 'wildcard-untouchable'
  | 'caller-ip'
  | 'invalid-desired-freezes-deactivations'
  | 'never-empty'
  | 'protected-ip'
  | 'max-deactivations'
  | 'mode-additive'
  | 'mode-observe';

export interface BlockedOperation {
  operation: Operation;
  guard: GuardId;
  reason: string;
}

export interface InvalidDesired {
  entry: string;
  /** The raw value, stringified for display (never trusted further). */
  value: string;
  reason: string;
  /**
   * Machine-readable reason (e.g. `leading-zero`, `cidr`, `invalid-expiry`, `entry-ip-mismatch`: the
   * item's sort key `ip#X` names another IP than its `ip` attribute), for tests and metrics.
   */
  code?: string;
}

export type Drift =
  | { kind: 'missing'; ip: string }
  | { kind: 'inactive'; ip: string; entryId: number }
  | { kind: 'undesired-active'; ip: string; entryId: number }
  | { kind: 'duplicate-active'; ip: string; entryId: number }
  /**
   * An ACTIVE entry we do not understand (no usable id, or an IP that is neither IPv4 nor `*`) whose
   * IP is not desired: drift the reconciler cannot fix (it never changes such an entry); only the
   * bunq app can. `entryId` is NO_ENTRY_ID when bunq gave none.
   */
  | { kind: 'unrecognised-active'; ip: string; entryId: number };

export interface Warning {
  /**
   * Codes: active-wildcard, expired-desired, invalid-desired, guard-blocked,
   * unrecognised-entry (bunq returned an entry with an IP that is neither IPv4 nor `*`, an unknown
   * status, or no usable id; never touched),
   * read-failed (bunq could not be read; the plan holds the desired side only),
   * caller-ips-invalid (a caller IP given to plan() is not canonical IPv4: the run treats its caller
   * as unknown), caller-ips-unconfirmed (none of the caller IPs is ACTIVE at bunq and no ACTIVE `*`
   * covers the run, so the claim cannot be right: the caller counts as unknown),
   * egress-ips-invalid (the worker's EGRESS_IPS is malformed; added to the run record by the worker).
   */
  code: WarningCode;
  message: string;
}

export type WarningCode =
  | 'active-wildcard'
  | 'expired-desired'
  | 'invalid-desired'
  | 'guard-blocked'
  | 'unrecognised-entry'
  | 'read-failed'
  | 'caller-ips-invalid'
  | 'caller-ips-unconfirmed'
  | 'egress-ips-invalid';

/**
 * What the executor needs from bunq for one credential. Implemented over the bunq client by
 * lambdas/bunq/whitelist-port.ts; errors thrown are BunqError (lambdas/bunq/errors.ts).
 */
export interface WhitelistPort {
  /** Every entry of the credential (all pages), including `*` entries, in any order. */
  listEntries(): Promise<ActualEntry[]>;
  /**
   * POST a new ACTIVE entry; resolves to bunq's id for it. A failure that may have been applied
   * (timeout or lost connection after sending, a 5xx) must be thrown as kind `outcome-unknown`: the
   * executor then never POSTs that IP again in the run. Any other failure means "not applied".
   */
  addEntry(ip: string): Promise<number>;
  /** PUT the status of an existing entry. */
  setStatus(entryId: number, status: EntryStatus): Promise<void>;
  /**
   * Optional: cumulative bunq calls made through this port so far, each list page counted as one
   * read. When absent, the executor counts one read per listEntries() and one write per change.
   */
  callCounts?(): { reads: number; writes: number };
}

export interface ExpiredDesired {
  entry: string;
  ip: string;
  expiresAt: number;
}

/** The output of plan(): what a run would do, and why not more. Pure data. */
export interface Plan {
  credential: string;
  mode: Mode;
  /**
   * The IPs this run calls bunq from (validated, sorted), never deactivated. Empty when the run
   * cannot tell: then every deactivation is held unless an ACTIVE `*` covers the run. plan() always
   * sets it; a plan without it (built by hand) counts as "cannot tell".
   */
  callerIps?: string[];
  /** Valid, de-duplicated, unexpired desired IPs, sorted. */
  desiredIps: string[];
  invalid: InvalidDesired[];
  expired: ExpiredDesired[];
  drift: Drift[];
  /** In execution order: additions and re-activations first, then deactivations. */
  operations: Operation[];
  blocked: BlockedOperation[];
  warnings: Warning[];
}

export type OperationOutcome =
  /** bunq confirmed the change. */
  | 'applied'
  /** A re-activation bunq refused, carried out instead as a new ACTIVE entry. */
  | 'applied-as-add'
  /** After an unknown outcome, a re-read showed the change had been made. */
  | 'confirmed-after-reread'
  | 'failed'
  /** Not tried because an earlier step failed or the verifying read did not pass. */
  | 'not-attempted';

export interface OperationResult {
  operation: Operation;
  outcome: OperationOutcome;
  /** The entry id created or changed, when known. */
  entryId?: number;
  error?: ErrorInfo;
  /** Calls tried for this operation (retries included). */
  attempts?: number;
  durationMs?: number;
  /** Why a not-attempted operation was held back at run time, in words (with the run's detail). */
  skipReason?: string;
  /** The same, machine-readable: set whenever skipReason is. */
  skipCode?: SkipCode;
}

/** Why the executor held an operation back at run time (OperationResult.skipCode). */
export type SkipCode =
  /** The run deadline came before it could start. */
  | 'deadline'
  /** An earlier operation failed for the run. */
  | 'earlier-failure'
  /** The verifying read (or a re-read after a refused deactivation) failed. */
  | 'read-failed'
  /** An addition did not show up ACTIVE in the verifying read. */
  | 'addition-not-shown'
  /** It would leave no desired IP ACTIVE. */
  | 'never-empty'
  /** No ACTIVE entry covers the run's caller any more. */
  | 'caller-not-covered'
  /** bunq no longer lists the entry. */
  | 'entry-gone'
  /** The entry is already INACTIVE. */
  | 'already-inactive'
  /** A duplicate kept because the entry we keep is no longer ACTIVE. */
  | 'duplicate-keeper-gone';

export type RunOutcome =
  /** Nothing to do. */
  | 'in-sync'
  /** Every planned operation applied; nothing held back but a `*` entry (never ours to touch). */
  | 'converged'
  /**
   * Every operation the guards allowed was applied, but a guard held planned changes back
   * (plan.blocked): bunq still differs from the desired IPs on purpose. A success, not a failure.
   */
  | 'held'
  /** Some operations applied, then a failure stopped the run. */
  | 'partial'
  /** Nothing applied and the run failed (e.g. bunq unreachable on the first read). */
  | 'failed'
  /** observe mode: drift reported, nothing applied. */
  | 'observed';

/** What one reconcile run did. Handlers, the CLI and the metrics all read this. */
export interface ExecutionResult {
  credential: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  outcome: RunOutcome;
  plan: Plan;
  /** Entries read at the start of the run (empty if that read failed). */
  before: ActualEntry[];
  /** Entries read last (after writes), or null if never re-read. */
  after: ActualEntry[] | null;
  operations: OperationResult[];
  /** bunq reads (list calls, each page counted) and writes (POST/PUT) this run made. */
  reads: number;
  writes: number;
  error?: ErrorInfo;
}
