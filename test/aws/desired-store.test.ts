import { BatchWriteItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { CredentialConfigError } from '../../lambdas/core/config';
import { normaliseDesired } from '../../lambdas/core/desired';
import { DesiredStore, MissingConfigError } from '../../lambdas/aws/desired-store';
import { createTable, motoClients, uniqueName } from './moto-helpers';

const { dynamo } = motoClients();
const table = uniqueName('desired');

async function put(item: Record<string, AttributeValue>): Promise<void> {
  await dynamo.send(new PutItemCommand({ TableName: table, Item: item }));
}

const S = (s: string): AttributeValue => ({ S: s });
const N = (n: string): AttributeValue => ({ N: n });

beforeAll(async () => {
  await createTable(dynamo, table, { stream: true, ttlAttribute: 'expiresAt' });
});

describe('desired store (DynamoDB on moto)', () => {
  it('reads config and desired items of one credential across pages', async () => {
    const cred = uniqueName('paged');
    await put({
      credential: S(cred), entry: S('config'), userId: N('7'), credentialPasswordIpId: N('8'),
      secretName: S('bunq-ip-reconciler/x'), mode: S('enforce'), maxDeactivationsPerRun: N('2'),
      protectedIps: { L: [S('198.51.100.1')] },
    });
    for (let i = 1; i <= 12; i++) {
      await put({ credential: S(cred), entry: S(`ip#203.0.113.${i}`), ip: S(`203.0.113.${i}`), note: S(`n${i}`) });
    }
    await put({ credential: S(`${cred}-other`), entry: S('ip#203.0.113.99'), ip: S('203.0.113.99') });
    const store = new DesiredStore(dynamo, table, 5);
    const state = await store.readCredential(cred);
    expect(state.desired).toHaveLength(12);
    expect(state.desired.map((d) => d.ip)).toContain('203.0.113.12');
    expect(state.desired[0]?.note).toMatch(/^n\d+$/);
    expect(state.unknownEntries).toEqual([]);
    expect(store.configOf(state)).toEqual({
      credential: cred, userId: 7, credentialPasswordIpId: 8, secretName: 'bunq-ip-reconciler/x',
      mode: 'enforce', maxDeactivationsPerRun: 2, protectedIps: ['198.51.100.1'],
    });
  });

  it('accepts console-typed values where the meaning is unambiguous', async () => {
    const cred = uniqueName('console');
    await put({
      credential: S(cred), entry: S('config'), userId: S('7'), credentialPasswordIpId: S(' 8 '),
      secretName: S('bunq-ip-reconciler/x'), mode: S('additive'), maxDeactivationsPerRun: S('3'),
      protectedIps: { SS: ['198.51.100.2', '198.51.100.1'] },
    });
    await put({ credential: S(cred), entry: S('ip#203.0.113.5'), ip: S('203.0.113.5'), expiresAt: S('4102444800') });
    await put({ credential: S(cred), entry: S('ip#203.0.113.6'), ip: S('203.0.113.6'), expiresAt: N('4102444800') });
    const store = new DesiredStore(dynamo, table);
    const state = await store.readCredential(cred);
    const config = store.configOf(state);
    expect(config.userId).toBe(7);
    expect(config.credentialPasswordIpId).toBe(8);
    expect(config.maxDeactivationsPerRun).toBe(3);
    expect([...config.protectedIps].sort()).toEqual(['198.51.100.1', '198.51.100.2']);
    expect(state.desired.map((d) => d.expiresAt)).toEqual([4102444800, 4102444800]);
  });

  it('passes an item under any key but `config` on to the core, which rejects a malformed key (never dropped)', async () => {
    const cred = uniqueName('oddkeys');
    await put({ credential: S(cred), entry: S('ip#203.0.113.8'), ip: S('203.0.113.8') });
    await put({ credential: S(cred), entry: S('IP#203.0.113.9'), ip: S('203.0.113.9') });
    await put({ credential: S(cred), entry: S('203.0.113.10') });
    await put({ credential: S(cred), entry: S('ip 203.0.113.11'), ip: S('203.0.113.11') });
    await put({ credential: S(cred), entry: S('office'), ip: S('203.0.113.12') });
    await put({ credential: S(cred), entry: S('comment'), text: S('not an IP') });
    const state = await new DesiredStore(dynamo, table).readCredential(cred);
    expect(state.desired.map((d) => d.entry).sort()).toEqual(['203.0.113.10', 'IP#203.0.113.9', 'comment', 'ip 203.0.113.11', 'ip#203.0.113.8', 'office']);
    const result = normaliseDesired(state.desired, Date.UTC(2026, 0, 1));
    expect(result.ips).toEqual(['203.0.113.8']);
    expect(result.invalid.map((i) => [i.entry, i.code]).sort()).toEqual([
      ['203.0.113.10', 'entry-malformed'],
      ['IP#203.0.113.9', 'entry-malformed'],
      ['comment', 'entry-malformed'],
      ['ip 203.0.113.11', 'entry-malformed'],
      ['office', 'entry-malformed'],
    ]);
  });

  it('passes an expiresAt before 2020 on as it is; the core calls it invalid, not expired', async () => {
    const cred = uniqueName('oldexpiry');
    await put({ credential: S(cred), entry: S('ip#203.0.113.13'), ip: S('203.0.113.13'), expiresAt: N('20261231') });
    await put({ credential: S(cred), entry: S('ip#203.0.113.14'), ip: S('203.0.113.14'), expiresAt: S('28800') });
    const state = await new DesiredStore(dynamo, table).readCredential(cred);
    expect(state.desired.map((d) => d.expiresAt).sort()).toEqual([20261231, 28800]);
    const result = normaliseDesired(state.desired, Date.UTC(2026, 0, 1));
    expect(result.expired).toEqual([]);
    expect(result.invalid.map((i) => [i.entry, i.code]).sort()).toEqual([
      ['ip#203.0.113.13', 'invalid-expiry'],
      ['ip#203.0.113.14', 'invalid-expiry'],
    ]);
  });

  it('passes items it cannot trust on to the core as invalid, never drops them', async () => {
    const cred = uniqueName('bad');
    await put({ credential: S(cred), entry: S('ip#203.0.113.7'), ip: S('203.0.113.7'), expiresAt: S('tomorrow') });
    await put({ credential: S(cred), entry: S('ip#203.0.113.8'), ip: N('12345') });
    await put({ credential: S(cred), entry: S('ip#missing') });
    await put({ credential: S(cred), entry: S('ip#203.0.113.9'), ip: S('203.0.113.9'), expiresAt: N('123456789012345678901234') });
    const state = await new DesiredStore(dynamo, table).readCredential(cred);
    expect(state.desired).toHaveLength(4);
    const result = normaliseDesired(state.desired, Date.UTC(2026, 0, 1));
    expect(result.ips).toEqual([]);
    expect(result.invalid.map((i) => i.entry).sort()).toEqual(
      ['ip#203.0.113.7', 'ip#203.0.113.8', 'ip#203.0.113.9', 'ip#missing'],
    );
    expect(result.invalid.find((i) => i.entry === 'ip#203.0.113.7')?.value).toContain('tomorrow');
  });

  it('a missing config item is a clear error, never a run with defaults', async () => {
    const cred = uniqueName('noconfig');
    await put({ credential: S(cred), entry: S('ip#203.0.113.1'), ip: S('203.0.113.1') });
    const store = new DesiredStore(dynamo, table);
    const state = await store.readCredential(cred);
    expect(() => store.configOf(state)).toThrow(MissingConfigError);
    expect(() => store.configOf(state)).toThrow(new RegExp(`${cred}.*no config item.*${table}`));
  });

  it('an invalid config item names every bad field', async () => {
    const cred = uniqueName('badconfig');
    await put({
      credential: S(cred), entry: S('config'), userId: S('seven'), credentialPasswordIpId: N('8'),
      secretName: S('bunq-ip-reconciler/x'), mode: S('Enforce'), maxDeactivationsPerRun: S('lots'),
    });
    const store = new DesiredStore(dynamo, table);
    const state = await store.readCredential(cred);
    const err = (() => {
      try {
        store.configOf(state);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CredentialConfigError);
    expect((err as Error).message).toMatch(/userId/);
    expect((err as Error).message).toMatch(/mode/);
    expect((err as Error).message).toMatch(/maxDeactivationsPerRun/);
  });

  it('lists every configured credential with a paginated keys-only scan', async () => {
    const scanTable = uniqueName('scan');
    await createTable(dynamo, scanTable);
    const names = Array.from({ length: 23 }, (_, i) => `cred-${String(i).padStart(2, '0')}`);
    const items = names.flatMap((n): Array<Record<string, AttributeValue>> => [
      { credential: S(n), entry: S('config'), userId: N('1') },
      { credential: S(n), entry: S('ip#203.0.113.1'), ip: S('203.0.113.1') },
    ]);
    items.push({ credential: S('no-config'), entry: S('ip#203.0.113.1'), ip: S('203.0.113.1') });
    for (let i = 0; i < items.length; i += 25) {
      await dynamo.send(new BatchWriteItemCommand({
        RequestItems: { [scanTable]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }));
    }
    expect(await new DesiredStore(dynamo, scanTable, 7).listCredentials()).toEqual(names);
  });
});
