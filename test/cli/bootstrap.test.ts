import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DesiredWriter } from '../../cli/adapters/desired-writer';
import { CredentialOwners, ownerPartition } from '../../lambdas/aws/credential-owner';
import { SecretsManagerContextSecrets } from '../../cli/adapters/secret-writer';
import { bootstrapCredential, BOOTSTRAP_DEFAULT_POLICY, type BootstrapDeps } from '../../cli/bootstrap-service';
import { CliError } from '../../cli/errors';
import { addCredential, createWorld, putConfig, RecordingLogger, SECRET_PREFIX, type World } from '../integration/harness';

/** bootstrap against moto and the bunq emulator, in-process. */

let world: World;

beforeAll(async () => {
  world = await createWorld();
});

afterAll(async () => {
  await world.close();
});

function deps(): BootstrapDeps {
  return {
    secrets: new SecretsManagerContextSecrets(world.aws.secrets),
    desired: world.desired,
    writer: new DesiredWriter(world.aws.dynamo, world.desiredTable),
    owners: new CredentialOwners(world.aws.dynamo, { stateTable: world.stateTable, desiredTable: world.desiredTable }),
    chooseCredential: () => Promise.reject(new Error('not asked in this test')),
    clock: world.clock,
    logger: new RecordingLogger(),
  };
}

describe('bootstrap refusing a re-point', () => {
  it('names the device-server it had to register, and stores nothing', async () => {
    const existing = await addCredential(world, 'taken');
    await putConfig(world, existing);
    const other = world.emulator.createUser({ displayName: 'someone else' });
    const secretName = `${SECRET_PREFIX}taken-by-other`;
    const attempt = bootstrapCredential(deps(), {
      credential: 'taken', apiKey: other.apiKey, environment: 'SANDBOX', baseUrl: world.emulator.url,
      secretPrefix: SECRET_PREFIX, secretName, permittedIps: [], allowAllIps: false, policy: {}, force: false,
    });
    await expect(attempt).rejects.toThrow(CliError);
    const message = await attempt.then(() => '', (err: Error) => err.message);
    expect(message).toMatch(
      new RegExp(`configured for bunq user ${existing.userId}, but this API key belongs to user ${other.userId}; use another credential name, or --force to re-point it\\.`),
    );
    const registered = /registered device-server (\d+) \("bunq-ip-reconciler taken"\) for the key at bunq and stored nothing; remove that device in the bunq app/.exec(message);
    expect(registered).not.toBeNull();
    const deviceServers = world.emulator.requests.filter((r) => r.method === 'POST' && r.route === '/v1/device-server');
    expect(deviceServers.length).toBeGreaterThan(0);
    expect(message).not.toContain(other.apiKey);
    await expect(world.aws.secrets.send(new GetSecretValueCommand({ SecretId: secretName }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect((await world.desired.readCredential('taken')).configItem?.userId).toBe(existing.userId);
    expect(BOOTSTRAP_DEFAULT_POLICY.mode).toBe('observe');
  });
});

describe('bootstrap and ownership (moto + emulator, in process)', () => {
  function options(credential: string, apiKey: string, force = false) {
    return {
      credential, apiKey, environment: 'SANDBOX' as const, baseUrl: world.emulator.url, secretPrefix: SECRET_PREFIX,
      permittedIps: [], allowAllIps: false, policy: {}, force,
    };
  }

  it('--force moves ownership without changing bunq: notes and expiries are taken over, the old config retired', async () => {
    const user = world.emulator.createUser({ displayName: 'mover' });
    const first = await bootstrapCredential(deps(), options('mover-old', user.apiKey));
    expect(first).toMatchObject({ owner: { outcome: 'claimed' }, boundIps: ['127.0.0.1'], protectedIps: ['127.0.0.1'] });
    const expiresAt = Math.floor(world.clock.now() / 1000) + 3600;
    await new DesiredWriter(world.aws.dynamo, world.desiredTable).putIp('mover-old', { ip: '203.0.113.70', note: 'contractor', expiresAt }, 'now');

    const moved = await bootstrapCredential(deps(), options('mover-new', user.apiKey, true));
    expect(moved.owner).toEqual({ outcome: 'moved', previousOwner: 'mover-old' });
    const taken = (await world.desired.readCredential('mover-new')).desired.find((d) => d.ip === '203.0.113.70');
    expect(taken).toMatchObject({ expiresAt, note: 'contractor; taken over from "mover-old" at bootstrap 2026-01-01' });
    expect(moved.protectedIps).toEqual(['127.0.0.1']);
    const old = (await world.desired.readCredential('mover-old')).configItem;
    expect(old).toMatchObject({ retiredInFavourOf: 'mover-new', retiredAt: new Date(world.clock.now()).toISOString() });

    // A claim whose owner config was deleted is stale: the next bootstrap takes it over without --force.
    await world.aws.dynamo.send(new DeleteItemCommand({ TableName: world.desiredTable, Key: { credential: { S: 'mover-new' }, entry: { S: 'config' } } }));
    const third = await bootstrapCredential(deps(), options('mover-third', user.apiKey));
    expect(third.owner).toEqual({ outcome: 'took-over', previousOwner: 'mover-new' });
  });

  it('--force refuses while the old config has invalid desired items (their freeze would be lost), and writes nothing', async () => {
    const user = world.emulator.createUser({ displayName: 'frozen' });
    expect((await bootstrapCredential(deps(), options('frozen-old', user.apiKey))).owner).toEqual({ outcome: 'claimed' });
    // A console typo: the item means 203.0.113.2, its ip attribute has a trailing dot. It freezes
    // deactivations of frozen-old, so 203.0.113.2 (a live server, ACTIVE) is never switched off.
    const typo = { credential: { S: 'frozen-old' }, entry: { S: 'ip#203.0.113.2' }, ip: { S: '203.0.113.2.' } };
    await world.aws.dynamo.send(new PutItemCommand({ TableName: world.desiredTable, Item: typo }));
    // And one whose key names another IP than its attribute.
    const mismatch = { credential: { S: 'frozen-old' }, entry: { S: 'ip#203.0.113.3' }, ip: { S: '203.0.113.4' } };
    await world.aws.dynamo.send(new PutItemCommand({ TableName: world.desiredTable, Item: mismatch }));

    const attempt = bootstrapCredential(deps(), options('frozen-new', user.apiKey, true));
    await expect(attempt).rejects.toThrow(CliError);
    await expect(attempt).rejects.toThrow(
      /not moving ownership from "frozen-old" to "frozen-new": "frozen-old" has 2 invalid desired item\(s\), which freeze its deactivations and cannot be carried over: .*ip#203\.0\.113\.2 .*ip#203\.0\.113\.3 .*Fix or delete them/,
    );
    expect((await world.desired.readCredential('frozen-new')).configItem).toBeNull();
    expect((await world.desired.readCredential('frozen-new')).desired).toEqual([]);
    expect((await world.desired.readCredential('frozen-old')).configItem?.retiredAt).toBeUndefined();

    // Fixed in the old config, the move goes ahead and changes nothing at bunq.
    for (const item of [typo, mismatch]) {
      await world.aws.dynamo.send(new DeleteItemCommand({ TableName: world.desiredTable, Key: { credential: item.credential, entry: item.entry } }));
    }
    expect((await bootstrapCredential(deps(), options('frozen-new', user.apiKey, true))).owner).toEqual({ outcome: 'moved', previousOwner: 'frozen-old' });
  });

  it('an owner record that cannot be read (edited by hand) is refused, named, and replaced only by --force', async () => {
    const user = world.emulator.createUser({ displayName: 'scribbled' });
    const first = await bootstrapCredential(deps(), options('scribbled', user.apiKey));
    const key = { credential: { S: ownerPartition({ environment: 'SANDBOX', userId: first.userId, credentialPasswordIpId: first.credentialPasswordIpId }) }, entry: { S: 'owner' } };
    // Someone "fixed" the record in the console: the owner attribute is gone.
    await world.aws.dynamo.send(new PutItemCommand({ TableName: world.stateTable, Item: { ...key, note: { S: 'do not use' } } }));

    for (const name of ['scribbled', 'scribbled-2']) {
      const attempt = bootstrapCredential(deps(), options(name, user.apiKey));
      await expect(attempt).rejects.toThrow(/the owner record of bunq user \d+'s CredentialPasswordIp \d+ \(sandbox\) cannot be read \(it has no "owner" attribute; edited by hand\?\).*re-run with --force/);
      await expect(attempt).rejects.not.toThrow(/another bootstrap/);
    }
    expect((await world.desired.readCredential('scribbled-2')).configItem).toBeNull();

    const forced = await bootstrapCredential(deps(), options('scribbled-2', user.apiKey, true));
    expect(forced.owner).toEqual({ outcome: 'took-over' });
    expect(forced.notes.join('\n')).toMatch(/replaced the unreadable owner record .* by --force/);
    const stored = await world.aws.dynamo.send(new GetItemCommand({ TableName: world.stateTable, Key: key }));
    expect(stored.Item).toMatchObject({ owner: { S: 'scribbled-2' }, claimedBy: { S: 'bootstrap' } });
  });

  it('an owner record deleted by hand leaves the credential contested: no name claims it by itself; --force picks one, keeps every IP and retires the rest', async () => {
    const user = world.emulator.createUser({ displayName: 'orphaned' });
    const first = await bootstrapCredential(deps(), options('orphan-a', user.apiKey));
    await new DesiredWriter(world.aws.dynamo, world.desiredTable).putIp('orphan-a', { ip: '203.0.113.71', note: 'office' }, 'now');
    const ownerKey = { environment: 'SANDBOX', userId: first.userId, credentialPasswordIpId: first.credentialPasswordIpId };
    const recordKey = { credential: { S: ownerPartition(ownerKey) }, entry: { S: 'owner' } };
    await world.aws.dynamo.send(new DeleteItemCommand({ TableName: world.stateTable, Key: recordKey }));

    // Without the record, a second name for the same key is refused by name, and writes nothing.
    const attempt = bootstrapCredential(deps(), options('orphan-b', user.apiKey));
    await expect(attempt).rejects.toThrow(/is also governed by live config\(s\) "orphan-a", and no owner record says which config reconciles it.*--force/);
    expect((await world.desired.readCredential('orphan-b')).configItem).toBeNull();
    // Alone, orphan-a is not contested: its next run would claim the record back.
    const owners = new CredentialOwners(world.aws.dynamo, { stateTable: world.stateTable, desiredTable: world.desiredTable });
    expect(await owners.verdict('orphan-a', ownerKey)).toEqual({ kind: 'unclaimed' });
    // With a hand-made twin beside it, neither is: both are refused until one is picked.
    await world.aws.dynamo.send(
      new PutItemCommand({
        TableName: world.desiredTable,
        Item: { credential: { S: 'orphan-c' }, entry: { S: 'config' }, userId: { N: String(first.userId) }, credentialPasswordIpId: { S: String(first.credentialPasswordIpId) }, secretName: { S: first.secretName } },
      }),
    );
    expect(await owners.verdict('orphan-a', ownerKey)).toEqual({ kind: 'contested', rivals: ['orphan-c'], record: null });
    // Both declare 203.0.113.72: orphan-a for another hour, orphan-c for good.
    const writer = new DesiredWriter(world.aws.dynamo, world.desiredTable);
    await writer.putIp('orphan-a', { ip: '203.0.113.72', note: 'until lunch', expiresAt: Math.floor(world.clock.now() / 1000) + 3600 }, 'now');
    await writer.putIp('orphan-c', { ip: '203.0.113.72', note: 'build server' }, 'now');
    await expect(owners.ensureOwner('orphan-c', ownerKey, 'now')).rejects.toThrow(/and so do live config\(s\) "orphan-a"; no owner record says which/);

    const forced = await bootstrapCredential(deps(), options('orphan-b', user.apiKey, true));
    expect(forced.owner).toEqual({ outcome: 'moved', previousOwner: 'orphan-a', previousOwners: ['orphan-a', 'orphan-c'] });
    const heir = (await world.desired.readCredential('orphan-b')).desired;
    expect(heir.map((d) => d.ip)).toEqual(expect.arrayContaining(['203.0.113.71', '203.0.113.72', '127.0.0.1']));
    // Kept as long as either kept it: no expiry, and both notes.
    const merged = heir.find((d) => d.ip === '203.0.113.72');
    expect(merged?.expiresAt).toBeUndefined();
    expect(merged?.note).toMatch(/until lunch; taken over from "orphan-a".*also build server; taken over from "orphan-c"/);
    for (const retired of ['orphan-a', 'orphan-c']) {
      expect((await world.desired.readCredential(retired)).configItem).toMatchObject({ retiredInFavourOf: 'orphan-b' });
    }
    const stored = await world.aws.dynamo.send(new GetItemCommand({ TableName: world.stateTable, Key: recordKey }));
    expect(stored.Item).toMatchObject({ owner: { S: 'orphan-b' }, claimedBy: { S: 'bootstrap' } });
  });

  it('--force on a contested credential writes nothing when a rival changes before the commit, and says so', async () => {
    const user = world.emulator.createUser({ displayName: 'shifting' });
    const first = await bootstrapCredential(deps(), options('shift-a', user.apiKey));
    const ownerKey = { environment: 'SANDBOX', userId: first.userId, credentialPasswordIpId: first.credentialPasswordIpId };
    await world.aws.dynamo.send(new DeleteItemCommand({ TableName: world.stateTable, Key: { credential: { S: ownerPartition(ownerKey) }, entry: { S: 'owner' } } }));
    const real = deps();
    const owners = new CredentialOwners(world.aws.dynamo, { stateTable: world.stateTable, desiredTable: world.desiredTable });
    const racing: BootstrapDeps = {
      ...real,
      owners: {
        verdict: (c, k) => owners.verdict(c, k),
        claimItem: (...a) => owners.claimItem(...a),
        retireItem: (...a) => owners.retireItem(...a),
        commit: async (items) => {
          // Between judging and committing, someone re-points shift-a at another bunq user.
          await world.aws.dynamo.send(
            new PutItemCommand({ TableName: world.desiredTable, Item: { credential: { S: 'shift-a' }, entry: { S: 'config' }, userId: { N: '1' }, credentialPasswordIpId: { N: '2' }, secretName: { S: first.secretName } } }),
          );
          return owners.commit(items);
        },
      },
    };
    const attempt = bootstrapCredential(racing, options('shift-b', user.apiKey, true));
    await expect(attempt).rejects.toThrow(/"shift-a" changed while this bootstrap ran, so none was retired and nothing was written/);
    expect((await world.desired.readCredential('shift-b')).configItem).toBeNull();
    expect((await world.desired.readCredential('shift-a')).configItem?.retiredAt).toBeUndefined();
  });
});
