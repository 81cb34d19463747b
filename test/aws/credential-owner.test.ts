import { GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { retryDisposition } from '../../lambdas/core/errors';
import { errorKindOf } from '../../lambdas/service/reconcile-credential';
import {
  CredentialClaimedTwiceError,
  CredentialOwners,
  OwnerRecordUnreadableError,
  ownerPartition,
  retirementOf,
  type BunqCredentialKey,
} from '../../lambdas/aws/credential-owner';
import { DesiredStore } from '../../lambdas/aws/desired-store';
import { createTable, motoClients, uniqueName } from './moto-helpers';
import { startLocalDynamo } from '../../demo/local-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** The owner records and retirements on moto: conditional writes decide, not reads. */

const { dynamo } = motoClients();
const desiredTable = uniqueName('owner-desired');
const stateTable = uniqueName('owner-state');
const owners = new CredentialOwners(dynamo, { stateTable, desiredTable });
const NOW = '2026-12-01T10:00:00.000Z';
const S = (s: string): AttributeValue => ({ S: s });
const N = (n: number): AttributeValue => ({ N: String(n) });

let nextUser = 1000;
function freshKey(): BunqCredentialKey {
  nextUser += 1;
  return { environment: 'SANDBOX', userId: nextUser, credentialPasswordIpId: nextUser + 50_000 };
}

async function putConfig(credential: string, key: BunqCredentialKey, extra: Record<string, AttributeValue> = {}, client: DynamoDBClient = dynamo): Promise<void> {
  await client.send(
    new PutItemCommand({
      TableName: desiredTable,
      Item: {
        credential: S(credential), entry: S('config'), userId: N(key.userId),
        // typed as a string, as operators do in the console: still the same credential
        credentialPasswordIpId: S(String(key.credentialPasswordIpId)), secretName: S(`bunq-ip-reconciler/${credential}`),
        ...extra,
      },
    }),
  );
}

beforeAll(async () => {
  await createTable(dynamo, desiredTable);
  await createTable(dynamo, stateTable);
});

describe('credential owner records (DynamoDB on moto)', () => {
  it('the first config claims an unclaimed credential; later runs find it their own', async () => {
    const key = freshKey();
    await putConfig('prod', key);
    expect(await owners.ensureOwner('prod', key, NOW)).toBe('claimed');
    expect(await owners.ensureOwner('prod', key, NOW)).toBe('owner');
    const stored = await dynamo.send(new GetItemCommand({ TableName: stateTable, Key: { credential: S(ownerPartition(key)), entry: S('owner') } }));
    expect(stored.Item).toMatchObject({ owner: S('prod'), claimedBy: S('worker'), environment: S('SANDBOX'), userId: N(key.userId) });
    expect(ownerPartition(key)).toBe(`owner#SANDBOX#${key.userId}#${key.credentialPasswordIpId}`);
  });

  it('refuses a second live config of the same bunq credential, naming the owner', async () => {
    const key = freshKey();
    await putConfig('prod', key);
    await owners.ensureOwner('prod', key, NOW);
    await putConfig('prod-copy', key);
    const refused = owners.ensureOwner('prod-copy', key, NOW);
    await expect(refused).rejects.toBeInstanceOf(CredentialClaimedTwiceError);
    await expect(refused).rejects.toThrow(/already reconciles|"prod" already reconciles/);
    expect((await owners.read(key))?.owner).toBe('prod');
    // The same ids in the other environment are another bunq credential, with a record of its own;
    // but config items do not say their environment, so an unclaimed one beside live configs with
    // those ids is contested: in doubt, nobody claims by itself (bootstrap --force does).
    const production = { ...key, environment: 'PRODUCTION' };
    expect(ownerPartition(production)).not.toBe(ownerPartition(key));
    await putConfig('prod-live', { ...key });
    // "prod" owns the sandbox record, so it is known to be sandbox's and no rival; "prod-copy" is unknown.
    await expect(owners.ensureOwner('prod-live', production, NOW)).rejects.toThrow(/and so do live config\(s\) "prod-copy"; no owner record/);
    expect(await owners.commit([owners.claimItem('prod-live', production, null, 'bootstrap', NOW)])).toBe(true);
    expect(await owners.ensureOwner('prod-live', production, NOW)).toBe('owner');
  });

  // On dynalite, not moto: moto's threaded server does not make a transaction's conditions atomic
  // against a concurrent request (both twins won once in CI); DynamoDB does, and dynalite serialises.
  it('two twins without an owner record are contested: neither claims, each names the other', async () => {
    const key = freshKey();
    await putConfig('twin-a', key);
    await putConfig('twin-b', key);
    const results = await Promise.allSettled([owners.ensureOwner('twin-a', key, NOW), owners.ensureOwner('twin-b', key, NOW)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const reasons = results.map((r) => (r as PromiseRejectedResult).reason as CredentialClaimedTwiceError);
    expect(reasons.map((e) => e.contested)).toEqual([['twin-b'], ['twin-a']]);
    expect(reasons[0]).toBeInstanceOf(CredentialClaimedTwiceError);
    expect(errorKindOf(reasons[0])).toBe('credential-claimed-twice');
    expect(await owners.read(key)).toBeNull();
    // A retired twin is no rival.
    await putConfig('twin-b', key, { retiredAt: S(NOW), retiredInFavourOf: S('twin-a') });
    expect(await owners.ensureOwner('twin-a', key, NOW)).toBe('claimed');
  });

  it('a config that owns the same ids in the other environment is no rival', async () => {
    const sandbox = freshKey();
    const production = { ...sandbox, environment: 'PRODUCTION' };
    await putConfig('sb', sandbox);
    expect(await owners.ensureOwner('sb', sandbox, NOW)).toBe('claimed');
    await putConfig('pr', sandbox); // same ids, typed in by hand: config items do not say their environment
    expect(await owners.ensureOwner('pr', production, NOW)).toBe('claimed');
    // In its own environment the same copy is a twin of the owner.
    await expect(owners.ensureOwner('pr', sandbox, NOW)).rejects.toThrow(/"sb" already reconciles/);
  });

  it('loses a claim race to a config written and claimed between its judgement and its write, and refuses', async () => {
    const key = freshKey();
    await putConfig('slow', key);
    const racing = motoClients().dynamo;
    let slipped = false;
    racing.middlewareStack.add(
      (next, context) => async (args) => {
        if (!slipped && (context as { commandName?: string }).commandName === 'PutItemCommand') {
          slipped = true;
          // The other config appears and claims first, as a concurrent bootstrap would.
          await putConfig('fast', key);
          expect(await owners.commit([owners.claimItem('fast', key, null, 'bootstrap', NOW)])).toBe(true);
        }
        return next(args);
      },
      { step: 'initialize', name: 'slipInAClaim' },
    );
    const slowOwners = new CredentialOwners(racing, { stateTable, desiredTable });
    await expect(slowOwners.ensureOwner('slow', key, NOW)).rejects.toThrow(/"fast" already reconciles/);
    expect(slipped).toBe(true);
    expect((await owners.read(key))?.owner).toBe('fast');
  });

  it('retires a rival only while it still names the credential and is live', async () => {
    const key = freshKey();
    await putConfig('keep', key);
    await putConfig('moved-away', freshKey());
    expect(await owners.commit([owners.claimItem('keep', key, null, 'bootstrap', NOW), owners.retireItem('moved-away', 'keep', key, NOW)])).toBe(false);
    expect(await owners.read(key)).toBeNull();
    await putConfig('already-retired', key, { retiredAt: S('2026-11-01T00:00:00.000Z'), retiredInFavourOf: S('x') });
    expect(await owners.commit([owners.claimItem('keep', key, null, 'bootstrap', NOW), owners.retireItem('already-retired', 'keep', key, NOW)])).toBe(false);
    await putConfig('rival', key);
    expect(await owners.commit([owners.claimItem('keep', key, null, 'bootstrap', NOW), owners.retireItem('rival', 'keep', key, NOW)])).toBe(true);
  });

  it('a stale record with a live rival beside the claimer is contested too', async () => {
    const key = freshKey();
    await owners.ensureOwner('gone', key, NOW); // its config never existed: the record is stale
    await putConfig('heir-1', key);
    await putConfig('heir-2', key);
    expect(await owners.verdict('heir-1', key)).toMatchObject({ kind: 'contested', rivals: ['heir-2'], record: { owner: 'gone' } });
    await expect(owners.ensureOwner('heir-1', key, NOW)).rejects.toBeInstanceOf(CredentialClaimedTwiceError);
    expect((await owners.read(key))?.owner).toBe('gone');
  });

  // On dynalite, not moto: moto's threaded server does not make a transaction's conditions atomic
  // against a concurrent request (both claims won once in CI); DynamoDB does, and dynalite serialises.
  it('of two claims of an unclaimed credential at once (two bootstraps), exactly one commits', async () => {
    const local = await startLocalDynamo([desiredTable, stateTable]);
    // dynalite has no TransactWriteItems: commit() writes each item with its own condition.
    const twinOwners = new CredentialOwners(local.client, { stateTable, desiredTable }, false);
    try {
      for (let round = 0; round < 5; round++) {
        const key = freshKey();
        const results = await Promise.all([
          twinOwners.commit([twinOwners.claimItem('a', key, null, 'bootstrap', NOW)]),
          twinOwners.commit([twinOwners.claimItem('b', key, null, 'bootstrap', NOW)]),
        ]);
        expect(results.filter(Boolean)).toHaveLength(1);
      }
    } finally {
      await local.close();
    }
  });

  it('takes over a stale claim: owner config gone, retired, or re-pointed', async () => {
    const gone = freshKey();
    await owners.ensureOwner('old', gone, NOW); // old never had a config item (deleted since)
    await putConfig('new', gone);
    expect(await owners.ensureOwner('new', gone, NOW)).toBe('took-over');
    expect(await owners.read(gone)).toMatchObject({ owner: 'new', previousOwner: 'old' });

    const retired = freshKey();
    await putConfig('old2', retired);
    await owners.ensureOwner('old2', retired, NOW);
    await putConfig('old2', retired, { retiredAt: S(NOW), retiredInFavourOf: S('new2') });
    await putConfig('new2', retired);
    expect((await owners.verdict('new2', retired)).kind).toBe('stale');

    const moved = freshKey();
    await putConfig('old3', moved);
    await owners.ensureOwner('old3', moved, NOW);
    await putConfig('old3', freshKey()); // re-pointed at another bunq user
    await putConfig('new3', moved);
    expect(await owners.verdict('new3', moved)).toMatchObject({ kind: 'stale', why: expect.stringMatching(/another bunq credential/) });
    expect(await owners.ensureOwner('new3', moved, NOW)).toBe('took-over');
  });

  it('commits claim and retirement in one transaction, refused as a whole when the owner changed', async () => {
    const key = freshKey();
    await putConfig('first', key);
    await owners.ensureOwner('first', key, NOW);
    const judged = await owners.verdict('second', key);
    expect(judged.kind).toBe('claimed');
    const record = judged.kind === 'claimed' ? judged.record : null;
    // Someone else moves the credential meanwhile: the judged transaction must write nothing.
    await putConfig('third', key);
    expect(await owners.commit([owners.claimItem('third', key, record, 'bootstrap', NOW), owners.retireItem('first', 'third', key, NOW)])).toBe(true);
    expect(await owners.commit([owners.claimItem('second', key, record, 'bootstrap', NOW), owners.retireItem('third', 'second', key, NOW)])).toBe(false);
    expect((await owners.read(key))?.owner).toBe('third');
    const store = new DesiredStore(dynamo, desiredTable);
    expect(retirementOf((await store.readCredential('third')).configItem)).toBeNull();
    expect(retirementOf((await store.readCredential('first')).configItem)).toEqual({ retiredAt: NOW, retiredInFavourOf: 'third' });
    // Retiring a config that does not exist fails the whole transaction too.
    const fresh = await owners.verdict('fourth', key);
    const freshRecord = fresh.kind === 'claimed' ? fresh.record : null;
    expect(await owners.commit([owners.claimItem('fourth', key, freshRecord, 'bootstrap', NOW), owners.retireItem('no-such', 'fourth', key, NOW)])).toBe(false);
    expect((await owners.read(key))?.owner).toBe('third');
  });

  it('the fan-out lists no retired config', async () => {
    const key = freshKey();
    const live = uniqueName('live');
    const retired = uniqueName('retired');
    await putConfig(live, key);
    await putConfig(retired, key, { retiredAt: S(NOW), retiredInFavourOf: S(live) });
    const listed = await new DesiredStore(dynamo, desiredTable).listCredentials();
    expect(listed).toContain(live);
    expect(listed).not.toContain(retired);
  });

  it('a half-edited retirement still counts as retired', () => {
    expect(retirementOf({ retiredAt: 0 })).toEqual({ retiredAt: '0', retiredInFavourOf: '(not recorded)' });
    expect(retirementOf({ retiredAt: '' })).toBeNull();
    expect(retirementOf(null)).toBeNull();
  });

  it('an owner record edited by hand (no text owner) is unreadable: the worker refuses at once, terminally, and only --force-style claims replace it', async () => {
    for (const owner of [undefined, N(7), S('')]) {
      const key = freshKey();
      await putConfig('hand', key);
      const item: Record<string, AttributeValue> = { credential: S(ownerPartition(key)), entry: S('owner'), claimedAt: S(NOW) };
      if (owner !== undefined) item.owner = owner;
      await dynamo.send(new PutItemCommand({ TableName: stateTable, Item: item }));
      expect(await owners.read(key)).toBeNull();
      expect(await owners.verdict('hand', key)).toMatchObject({ kind: 'unreadable' });
      const refused = owners.ensureOwner('hand', key, NOW);
      await expect(refused).rejects.toBeInstanceOf(OwnerRecordUnreadableError);
      await expect(refused).rejects.toThrow(/cannot be read .*not calling bunq for hand: the record may name another config/);
      const err = await refused.catch((e: unknown) => e);
      expect(errorKindOf(err)).toBe('owner-record-unreadable');
      expect(retryDisposition(errorKindOf(err))).toBe('terminal');
      // The record is left as it was: nothing guessed.
      const stored = await dynamo.send(new GetItemCommand({ TableName: stateTable, Key: { credential: S(ownerPartition(key)), entry: S('owner') } }));
      expect(stored.Item?.owner).toEqual(owner);

      // A claim conditioned on "still unreadable" replaces it; one conditioned on "absent" does not.
      expect(await owners.commit([owners.claimItem('hand', key, null, 'bootstrap', NOW)])).toBe(false);
      expect(await owners.commit([owners.claimItem('hand', key, 'unreadable', 'bootstrap', NOW)])).toBe(true);
      expect(await owners.ensureOwner('hand', key, NOW)).toBe('owner');
      // Once readable, the "still unreadable" condition fails.
      expect(await owners.commit([owners.claimItem('other', key, 'unreadable', 'bootstrap', NOW)])).toBe(false);
    }
  });
});
