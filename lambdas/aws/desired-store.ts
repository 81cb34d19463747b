import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateQuery, paginateScan } from '@aws-sdk/lib-dynamodb';
import { credentialConfigOrThrow } from '../core/config';
import type { CredentialConfig, DesiredItem } from '../core/types';
import { CONFIG_ENTRY, IP_ENTRY_PREFIX, PARTITION_KEY, RETIRED_AT, SORT_KEY } from '../shared/table-keys';

/**
 * The DesiredIps table, read-only: per credential the `ip#<ip>` items and the `config` item the
 * operators write (often by hand in the AWS console, so attribute types vary).
 *
 * What may be coerced safely is coerced here (a number typed as a string, a string set instead of
 * a list); what cannot is passed on unchanged so the core rejects it with a reason. An item is
 * never dropped: a dropped item would silently mean "no longer desired" and get its IP deactivated.
 * That includes items under any sort key other than `config` (`IP#1.2.3.4`, a bare address,
 * `ip 1.2.3.4`): they go to the core as desired items, which reports them invalid
 * (`entry-malformed`), and an invalid item freezes deactivations.
 */

/** The sort-key spellings, re-exported for the adapters that read them from here. */
export { CONFIG_ENTRY, IP_ENTRY_PREFIX };

export class MissingConfigError extends Error {
  constructor(credential: string, tableName: string) {
    super(
      `credential ${JSON.stringify(credential)} has no config item (entry = "config") in table ${tableName}; ` +
        'nothing is reconciled without one',
    );
    this.name = 'MissingConfigError';
  }
}

export interface CredentialDesiredState {
  credential: string;
  /** The config item's attributes (keys removed, numbers coerced), or null when there is none. */
  configItem: Record<string, unknown> | null;
  /** Every item other than `config`, well-formed `ip#<ipv4>` or not (the core judges them). */
  desired: DesiredItem[];
  /**
   * Always empty since issue 10: an item that is neither `config` nor `ip#…` is no longer ignored but
   * passed on in `desired`, where the core rejects it. Kept so the CLI's JSON keeps its shape.
   * @deprecated read the core's `invalid` list instead.
   */
  unknownEntries: string[];
}

/** Numeric fields operators may type as strings in the console. */
const CONFIG_NUMBER_FIELDS = ['userId', 'credentialPasswordIpId', 'maxDeactivationsPerRun'] as const;

/** "42" → 42, " 7 " → 7; anything else unchanged, so the validator names the bad value. */
export function coerceNumber(value: unknown): unknown {
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) {
    const n = Number(value.trim());
    if (Number.isFinite(n)) return n;
  }
  return value;
}

/**
 * DynamoDB numbers become JS numbers only when that is exact; otherwise they stay strings so the
 * validator rejects them by value instead of the whole read throwing.
 */
export function unwrapNumber(text: string): number | string {
  const n = Number(text);
  return Number.isFinite(n) && Math.abs(n) <= Number.MAX_SAFE_INTEGER ? n : text;
}

export function configAttributes(item: Record<string, unknown>): Record<string, unknown> {
  const { entry: _entry, ...rest } = item;
  for (const field of CONFIG_NUMBER_FIELDS) {
    if (field in rest) rest[field] = coerceNumber(rest[field]);
  }
  return rest;
}

/**
 * A desired item as the core's validator wants it. `expiresAt` is passed on even when it is not a
 * number (the core reports "invalid-expiry" and freezes deactivations).
 */
export function desiredItemFrom(item: Record<string, unknown>): DesiredItem {
  const entry = String(item.entry);
  const out: DesiredItem = { entry, ip: item.ip };
  if (typeof item.note === 'string') out.note = item.note;
  if (item.expiresAt !== undefined && item.expiresAt !== null && item.expiresAt !== '') {
    out.expiresAt = coerceNumber(item.expiresAt);
  }
  return out;
}

export class DesiredStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
    /** Items per page; DynamoDB's 1 MB pages when unset. Small values exercise pagination. */
    private readonly pageSize?: number,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { unmarshallOptions: { wrapNumbers: unwrapNumber } });
  }

  /** All items of one credential, strongly consistent so a run sees the edit that triggered it. */
  async readCredential(credential: string): Promise<CredentialDesiredState> {
    const state: CredentialDesiredState = { credential, configItem: null, desired: [], unknownEntries: [] };
    const pages = paginateQuery(
      { client: this.doc, pageSize: this.pageSize },
      {
        TableName: this.tableName,
        KeyConditionExpression: '#c = :c',
        ExpressionAttributeNames: { '#c': PARTITION_KEY },
        ExpressionAttributeValues: { ':c': credential },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const entry = item[SORT_KEY];
        if (entry === CONFIG_ENTRY) state.configItem = configAttributes(item);
        else state.desired.push(desiredItemFrom(item));
      }
    }
    return state;
  }

  /** The validated config; a missing or invalid config item is an error, never a run with defaults. */
  configOf(state: CredentialDesiredState): CredentialConfig {
    if (state.configItem === null) throw new MissingConfigError(state.credential, this.tableName);
    const config = credentialConfigOrThrow({ ...state.configItem, credential: state.credential });
    return config;
  }

  /**
   * Every credential that has a live config item (a keys-only paginated scan; no index needed). A
   * config retired by `bootstrap --force` (attribute `retiredAt`) is left out: its bunq credential
   * belongs to another config now (credential-owner.ts).
   */
  async listCredentials(): Promise<string[]> {
    const credentials = new Set<string>();
    const pages = paginateScan(
      { client: this.doc, pageSize: this.pageSize },
      {
        TableName: this.tableName,
        ProjectionExpression: '#c, #e',
        FilterExpression: '#e = :config AND attribute_not_exists(#r)',
        ExpressionAttributeNames: { '#c': PARTITION_KEY, '#e': SORT_KEY, '#r': RETIRED_AT },
        ExpressionAttributeValues: { ':config': CONFIG_ENTRY },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const credential: unknown = item[PARTITION_KEY];
        if (typeof credential === 'string') credentials.add(credential);
      }
    }
    return [...credentials].sort();
  }
}
