/**
 * The key contract of both tables (DesiredIps and ReconcileState): partition key `credential`,
 * sort key `entry`, and the sort-key spellings every reader and writer agree on. lib/ declares the
 * tables from these names, the adapters read and write by them, and the stream trigger filters on
 * them; a spelling lives here only.
 */
export const PARTITION_KEY = 'credential';
export const SORT_KEY = 'entry';

/** DesiredIps: the operator's per-credential config item. */
export const CONFIG_ENTRY = 'config';
/** DesiredIps: one desired IP per item, `ip#<ipv4>`. */
export const IP_ENTRY_PREFIX = 'ip#';
/** DesiredIps: set on a config item retired by `bootstrap --force`; a retired config is not reconciled. */
export const RETIRED_AT = 'retiredAt';
/** DesiredIps: the successor's name on a retired config item. */
export const RETIRED_IN_FAVOUR_OF = 'retiredInFavourOf';

/** ReconcileState: per credential the latest run, overwritten each run. */
export const STATUS_ENTRY = 'status';
/** ReconcileState: one history item per run, `run#<ISO time>` (expires after the history TTL). */
export const HISTORY_PREFIX = 'run#';
/** ReconcileState: ownership records live under `owner#<environment>#<userId>#<credentialPasswordIpId>`. */
export const OWNER_PARTITION_PREFIX = 'owner#';
/** ReconcileState: the sort key of an ownership record. */
export const OWNER_ENTRY = 'owner';
