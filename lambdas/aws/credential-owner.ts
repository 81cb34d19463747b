import { ConditionalCheckFailedException, TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  paginateScan,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  type PutCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { CONFIG_ENTRY, coerceNumber, unwrapNumber } from './desired-store';
import type { BunqEnvironment } from '../bunq/types';
import { OWNER_ENTRY, OWNER_PARTITION_PREFIX, PARTITION_KEY, RETIRED_AT, RETIRED_IN_FAVOUR_OF, SORT_KEY } from '../shared/table-keys';

/**
 * One owner per bunq credential. Two configs that govern the same bunq user + CredentialPasswordIp
 * undo each other: one's protected IP is the other's "not desired", and two runs in different FIFO
 * groups each pass their own never-empty check while together switching off every entry. So each
 * bunq credential has one owner record in ReconcileState, claimed with a conditional write:
 *
 *   credential = "owner#<environment>#<userId>#<credentialPasswordIpId>", entry = "owner",
 *   owner = <config name>, claimedAt, claimedBy ("bootstrap" | "worker"), previousOwner?
 *
 * Bootstrap claims it in the same transaction that writes the config item, so two concurrent
 * bootstraps cannot both win; the worker reads it (one GetItem) before every run and refuses a
 * config that another live config owns, which also catches a config copied by hand in the console.
 * A config that owns nothing yet (made by hand, or before owner records existed) claims on its first
 * run; a record whose owner config is gone, retired or re-pointed is stale and may be taken over.
 * Either claim first looks for other live configs of the same bunq credential (a scan of the config
 * items, only when a config could claim): with the record missing (deleted in the console, say) nothing says which
 * of them the operator meant, so none claims by itself (`contested`) until `bootstrap --force`
 * picks one.
 * ReconcileState has no stream and is written only by the reconciler and bootstrap, so these
 * records never trigger a run and operators do not edit them in the DesiredIps console.
 *
 * A config moved away from by `bootstrap --force` is retired, not deleted (its desired IPs stay as
 * the operator's record): its config item gets `retiredAt` (ISO time) and `retiredInFavourOf`
 * (the new owner's name); the fan-out skips it and the worker never calls bunq for it.
 */

/** The ownership record's key spellings, re-exported for the adapters that read them from here. */
export { OWNER_ENTRY, OWNER_PARTITION_PREFIX };

/** Which bunq credential a config governs. */
export interface BunqCredentialKey {
  /** The context's environment (SANDBOX / PRODUCTION): user ids of the two are unrelated. */
  environment: string;
  userId: number;
  credentialPasswordIpId: number;
}

export interface OwnerRecord extends BunqCredentialKey {
  owner: string;
  claimedAt: string;
  claimedBy: 'bootstrap' | 'worker';
  previousOwner?: string;
}

/** The config item fields of a config that `bootstrap --force` moved ownership away from. */
export interface Retirement {
  retiredAt: string;
  retiredInFavourOf: string;
}

/**
 * - `unclaimed`: no owner record yet.
 * - `ours`: the record names this config.
 * - `stale`: it names a config that no longer governs this bunq credential (gone, retired, re-pointed).
 * - `claimed`: another live config owns it.
 * - `contested`: no owner record names a live config (none, or a stale one) and other live configs
 *   govern the same bunq credential: claiming would pick one of them by who runs first. The worker
 *   refuses (terminal `credential-claimed-twice`) and only `bootstrap --force` settles it. Config
 *   items do not say their environment, so a config with the same ids counts unless it owns their
 *   record in the other environment: in doubt, nobody claims.
 * - `unreadable`: a record exists but names no owner we can read (edited by hand). It may have named
 *   another live config, so the worker refuses (terminal `owner-record-unreadable`) and only an
 *   explicit `bootstrap --force` replaces it, conditioned on the record still being unreadable.
 */
export type OwnerVerdict =
  | { kind: 'unclaimed' }
  | { kind: 'unreadable'; why: string }
  | { kind: 'ours'; record: OwnerRecord }
  | { kind: 'stale'; record: OwnerRecord; why: string }
  | { kind: 'claimed'; record: OwnerRecord }
  | { kind: 'contested'; rivals: string[]; record: OwnerRecord | null };

export function ownerPartition(key: BunqCredentialKey): string {
  return `${OWNER_PARTITION_PREFIX}${key.environment}#${key.userId}#${key.credentialPasswordIpId}`;
}

export function describeKey(key: BunqCredentialKey): string {
  return `bunq user ${key.userId}'s CredentialPasswordIp ${key.credentialPasswordIpId} (${key.environment.toLowerCase()})`;
}

/**
 * The retirement of a config item, or null when it is live. Any `retiredAt` counts: a half-edited
 * retirement must not bring a config back to calling bunq.
 */
export function retirementOf(configItem: Record<string, unknown> | null): Retirement | null {
  if (configItem === null) return null;
  const at = configItem.retiredAt;
  if (at === undefined || at === null || at === '') return null;
  const successor = configItem.retiredInFavourOf;
  return { retiredAt: String(at), retiredInFavourOf: typeof successor === 'string' && successor !== '' ? successor : '(not recorded)' };
}

/** The run error kind of CredentialClaimedTwiceError (terminal; metric CredentialClaimedTwice). */
export const CREDENTIAL_CLAIMED_TWICE_KIND = 'credential-claimed-twice';

/** The run error kind of OwnerRecordUnreadableError (terminal). */
export const OWNER_RECORD_UNREADABLE_KIND = 'owner-record-unreadable';

/**
 * The worker's terminal refusal when the owner record cannot be read: it may name another live
 * config, so running could make this config a twin. Not retried: a retry reads the same record.
 */
export class OwnerRecordUnreadableError extends Error {
  constructor(
    readonly credential: string,
    readonly key: BunqCredentialKey,
    why: string,
  ) {
    super(
      `the owner record of ${describeKey(key)} (ReconcileState item credential=${JSON.stringify(ownerPartition(key))}, entry="${OWNER_ENTRY}") ` +
        `cannot be read (${why}); not calling bunq for ${credential}: the record may name another config. ` +
        `Take ownership explicitly with: bunq-ip bootstrap ${credential} --force`,
    );
    this.name = 'OwnerRecordUnreadableError';
  }
}

/**
 * The worker's terminal refusal: error kind `credential-claimed-twice`. `owner` is the config the
 * owner record names, or for a contested credential (no record to go by) the other live configs,
 * listed (refusalOf builds both).
 */
export class CredentialClaimedTwiceError extends Error {
  constructor(
    readonly credential: string,
    readonly owner: string,
    readonly key: BunqCredentialKey,
    readonly contested: readonly string[] = [],
  ) {
    super(
      contested.length === 0
        ? `config of ${credential} governs ${describeKey(key)}, which credential "${owner}" already reconciles; ` +
            'not calling bunq for a second owner (two configs of one bunq credential can together switch off every IP). ' +
            `Remove one of the configs, or move ownership with: bunq-ip bootstrap ${credential} --force`
        : `config of ${credential} governs ${describeKey(key)}, and so do live config(s) ${contested.map((c) => `"${c}"`).join(', ')}; ` +
            'no owner record says which of them reconciles it (it was deleted, or never written), so none claims it by itself ' +
            '(two configs of one bunq credential can together switch off every IP). ' +
            `Remove the configs you do not want, or pick one with: bunq-ip bootstrap <credential> --force (the others are retired)`,
    );
    this.name = 'CredentialClaimedTwiceError';
  }
}

/** Why an existing owner item cannot be read as a record, or null when it can. */
function unreadableWhy(item: Record<string, unknown>): string | null {
  if (typeof item.owner !== 'string') return item.owner === undefined ? 'it has no "owner" attribute' : '"owner" is not text';
  if (item.owner.trim() === '') return '"owner" is empty';
  return null;
}

function ownerRecordFrom(item: Record<string, unknown>): OwnerRecord {
  const record: OwnerRecord = {
    owner: String(item.owner),
    environment: String(item.environment),
    userId: Number(item.userId),
    credentialPasswordIpId: Number(item.credentialPasswordIpId),
    claimedAt: String(item.claimedAt),
    claimedBy: item.claimedBy === 'worker' ? 'worker' : 'bootstrap',
  };
  if (typeof item.previousOwner === 'string') record.previousOwner = item.previousOwner;
  return record;
}

/**
 * Why config `credential` must not call bunq for `key`, given the verdict, or null when it may (it
 * owns the record, or could claim it). The one mapping the worker's claim and the CLI's plan share.
 */
export function refusalOf(credential: string, key: BunqCredentialKey, verdict: OwnerVerdict): CredentialClaimedTwiceError | OwnerRecordUnreadableError | null {
  switch (verdict.kind) {
    case 'claimed':
      return new CredentialClaimedTwiceError(credential, verdict.record.owner, key);
    case 'contested':
      return new CredentialClaimedTwiceError(credential, verdict.rivals.join(', '), key, verdict.rivals);
    case 'unreadable':
      return new OwnerRecordUnreadableError(credential, key, verdict.why);
    default:
      return null;
  }
}

const ENVIRONMENTS: readonly BunqEnvironment[] = ['PRODUCTION', 'SANDBOX'];

/** Whether a config item names `key`'s user and CredentialPasswordIp (numbers typed as text count). */
function governs(item: Record<string, unknown>, key: BunqCredentialKey): boolean {
  return coerceNumber(item.userId) === key.userId && coerceNumber(item.credentialPasswordIpId) === key.credentialPasswordIpId;
}

/** One item of a DynamoDB transaction (document client shape). */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export class CredentialOwners {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tables: { stateTable: string; desiredTable: string },
    /**
     * false only for a local DynamoDB without TransactWriteItems (the demo's dynalite): commit() then
     * writes the items one by one, each still conditional, but not atomically together.
     */
    private readonly transactions = true,
  ) {
    // Numbers as DesiredStore reads them: one hand-typed huge number in any config item must not
    // make the rival scan (and so every claim) throw.
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true }, unmarshallOptions: { wrapNumbers: unwrapNumber } });
  }

  /** The owner record, or null when there is none or it cannot be read (verdict() tells these apart). */
  async read(key: BunqCredentialKey): Promise<OwnerRecord | null> {
    const found = await this.lookup(key);
    return found === null || 'unreadable' in found ? null : found;
  }

  /** The owner record; `unreadable` when an item exists that names no owner (see OwnerVerdict). */
  private async lookup(key: BunqCredentialKey): Promise<OwnerRecord | null | { unreadable: string }> {
    const reply = await this.doc.send(
      new GetCommand({ TableName: this.tables.stateTable, Key: { credential: ownerPartition(key), entry: OWNER_ENTRY }, ConsistentRead: true }),
    );
    if (reply.Item === undefined) return null;
    const why = unreadableWhy(reply.Item);
    return why === null ? ownerRecordFrom(reply.Item) : { unreadable: why };
  }

  /**
   * Who owns `key` as seen by config `credential`; reads the owner's config item only when it is
   * another, and scans for rival configs only when `credential` could claim (unclaimed or stale).
   */
  async verdict(credential: string, key: BunqCredentialKey): Promise<OwnerVerdict> {
    const judged = await this.recordVerdict(credential, key);
    if (judged.kind !== 'unclaimed' && judged.kind !== 'stale') return judged;
    const rivals = await this.liveConfigsOf(key, credential);
    if (rivals.length === 0) return judged;
    return { kind: 'contested', rivals, record: judged.kind === 'stale' ? judged.record : null };
  }

  private async recordVerdict(credential: string, key: BunqCredentialKey): Promise<OwnerVerdict> {
    const record = await this.lookup(key);
    if (record === null) return { kind: 'unclaimed' };
    if ('unreadable' in record) return { kind: 'unreadable', why: record.unreadable };
    if (record.owner === credential) return { kind: 'ours', record };
    const reply = await this.doc.send(
      new GetCommand({ TableName: this.tables.desiredTable, Key: { credential: record.owner, entry: CONFIG_ENTRY }, ConsistentRead: true }),
    );
    const item = reply.Item;
    if (item === undefined) return { kind: 'stale', record, why: `the config of "${record.owner}" is gone` };
    const retired = retirementOf(item);
    if (retired !== null) return { kind: 'stale', record, why: `"${record.owner}" was retired at ${retired.retiredAt}` };
    if (!governs(item, key)) return { kind: 'stale', record, why: `"${record.owner}" now governs another bunq credential` };
    return { kind: 'claimed', record };
  }

  /**
   * The live (not retired) configs other than `except` that govern `key`'s user and
   * CredentialPasswordIp, sorted. A full scan of DesiredIps, so it runs only when a config could
   * claim. Config items do not say their environment; a config that owns the same ids' record in
   * the other environment is known to be that environment's and is no rival.
   */
  async liveConfigsOf(key: BunqCredentialKey, except: string): Promise<string[]> {
    const found: string[] = [];
    const pages = paginateScan(
      { client: this.doc },
      {
        TableName: this.tables.desiredTable,
        ProjectionExpression: '#c, #e, #u, #p, #r',
        FilterExpression: '#e = :config',
        ExpressionAttributeNames: { '#c': PARTITION_KEY, '#e': SORT_KEY, '#u': 'userId', '#p': 'credentialPasswordIpId', '#r': RETIRED_AT },
        ExpressionAttributeValues: { ':config': CONFIG_ENTRY },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const name: unknown = item[PARTITION_KEY];
        if (typeof name !== 'string' || name === except || retirementOf(item) !== null || !governs(item, key)) continue;
        found.push(name);
      }
    }
    if (found.length === 0) return found;
    const elsewhere = new Set<string>();
    for (const environment of ENVIRONMENTS.filter((e) => e !== key.environment)) {
      const record = await this.lookup({ ...key, environment });
      if (record !== null && !('unreadable' in record)) elsewhere.add(record.owner);
    }
    return found.filter((name) => !elsewhere.has(name)).sort();
  }

  /**
   * The worker's check before a run calls bunq: returns when `credential` owns `key` (claiming it
   * when unclaimed or stale), throws CredentialClaimedTwiceError when another live config does.
   * The claim is a conditional put on the record as judged, so of two twins racing, one wins.
   */
  async ensureOwner(credential: string, key: BunqCredentialKey, now: string): Promise<'owner' | 'claimed' | 'took-over'> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const verdict = await this.verdict(credential, key);
      if (verdict.kind === 'ours') return 'owner';
      const refusal = refusalOf(credential, key, verdict);
      if (refusal !== null) throw refusal;
      const expected = verdict.kind === 'stale' ? verdict.record : null;
      try {
        await this.doc.send(new PutCommand(this.claimPut(credential, key, expected, 'worker', now)));
        return expected === null ? 'claimed' : 'took-over';
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
        // Someone claimed it between our read and our write: judge again.
      }
    }
    throw new Error(`the owner record of ${describeKey(key)} kept changing while ${credential} tried to claim it; try again`);
  }

  /** A transaction item that makes `credential` the owner, only if the record is still `expected`. */
  claimItem(
    credential: string,
    key: BunqCredentialKey,
    expected: OwnerRecord | null | 'unreadable',
    claimedBy: OwnerRecord['claimedBy'],
    now: string,
  ): TransactItem {
    return { Put: this.claimPut(credential, key, expected, claimedBy, now) };
  }

  private claimPut(
    credential: string,
    key: BunqCredentialKey,
    expected: OwnerRecord | null | 'unreadable',
    claimedBy: OwnerRecord['claimedBy'],
    now: string,
  ): PutCommandInput & { Item: Record<string, unknown> } {
    const item: Record<string, unknown> = {
      credential: ownerPartition(key),
      entry: OWNER_ENTRY,
      owner: credential,
      environment: key.environment,
      userId: key.userId,
      credentialPasswordIpId: key.credentialPasswordIpId,
      claimedAt: now,
      claimedBy,
      previousOwner: expected !== null && expected !== 'unreadable' && expected.owner !== credential ? expected.owner : undefined,
    };
    return {
      TableName: this.tables.stateTable,
      Item: item,
      // Conditional on the record as judged: absent, still unreadable, or still naming the owner we saw.
      ...(expected === null
        ? { ConditionExpression: 'attribute_not_exists(#e)', ExpressionAttributeNames: { '#e': SORT_KEY } }
        : expected === 'unreadable'
          ? {
              ConditionExpression: 'attribute_exists(#e) AND (attribute_not_exists(#o) OR NOT attribute_type(#o, :s) OR #o = :empty)',
              ExpressionAttributeNames: { '#e': SORT_KEY, '#o': 'owner' },
              ExpressionAttributeValues: { ':s': 'S', ':empty': '' },
            }
          : { ConditionExpression: '#o = :o', ExpressionAttributeNames: { '#o': 'owner' }, ExpressionAttributeValues: { ':o': expected.owner } }),
    };
  }

  /**
   * A transaction item that retires config `credential` in favour of `successor`, only while it is
   * still live and still names `key`'s user and CredentialPasswordIp (as a number or as text): a
   * config re-pointed or retired since it was judged is left alone and the transaction fails.
   */
  retireItem(credential: string, successor: string, key: BunqCredentialKey, now: string): TransactItem {
    return {
      Update: {
        TableName: this.tables.desiredTable,
        Key: { credential, entry: CONFIG_ENTRY },
        UpdateExpression: 'SET #r = :r, #s = :s, #t = :r',
        ConditionExpression:
          'attribute_exists(#e) AND (attribute_not_exists(#r) OR #r = :empty) AND (#u = :un OR #u = :us) AND (#p = :pn OR #p = :ps)',
        ExpressionAttributeNames: { '#r': RETIRED_AT, '#s': RETIRED_IN_FAVOUR_OF, '#t': 'updatedAt', '#e': SORT_KEY, '#u': 'userId', '#p': 'credentialPasswordIpId' },
        ExpressionAttributeValues: {
          ':r': now, ':s': successor, ':empty': '',
          ':un': key.userId, ':us': String(key.userId), ':pn': key.credentialPasswordIpId, ':ps': String(key.credentialPasswordIpId),
        },
      },
    };
  }

  /**
   * Writes the items in one transaction. @returns false when a condition failed (the owner record
   * changed since it was judged), so nothing was written.
   */
  async commit(items: readonly TransactItem[]): Promise<boolean> {
    if (!this.transactions) return this.commitOneByOne(items);
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: [...items] }));
      return true;
    } catch (err) {
      if (err instanceof TransactionCanceledException && (err.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed')) return false;
      throw err;
    }
  }

  private async commitOneByOne(items: readonly TransactItem[]): Promise<boolean> {
    try {
      for (const item of items) {
        if (item.Put) await this.doc.send(new PutCommand(item.Put));
        else if (item.Update) await this.doc.send(new UpdateCommand(item.Update));
        else throw new Error('commitOneByOne writes only Put and Update items');
      }
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
}
