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
