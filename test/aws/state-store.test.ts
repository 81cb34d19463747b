import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { StateStore, fitToItemLimit, runRecordFromFailure, runRecordFromResult } from '../../lambdas/aws/state-store';
import { sampleResult } from './fixtures';
import { createTable, motoClients, uniqueName } from './moto-helpers';

const { dynamo } = motoClients();
const table = uniqueName('state');
const ctx = { reason: 'stream' as const, requestedAt: '2025-12-31T23:59:59.000Z' };

beforeAll(async () => {
  await createTable(dynamo, table, { ttlAttribute: 'ttl' });
});

describe('state store (DynamoDB on moto)', () => {
  it('writes the status item and a history item with a TTL, and reads them back', async () => {
    const cred = uniqueName('ok');
    const store = new StateStore(dynamo, table, 90);
    await store.recordRun(runRecordFromResult(sampleResult(cred), ctx));
    const status = await store.readStatus(cred);
    expect(status).toMatchObject({
      credential: cred, outcome: 'converged', reason: 'stream', mode: 'enforce',
      lastRunAt: '2026-01-01T00:00:01.500Z', lastSuccessAt: '2026-01-01T00:00:01.500Z', consecutiveFailures: 0,
      error: null,
    });
    expect(status?.drift).toHaveLength(2);
    expect(status?.actual?.map((e) => e.ip)).toEqual(['203.0.113.1', '198.51.100.9', '*', '203.0.113.2']);
    expect(status?.applied).toEqual([{ operation: { kind: 'add', ip: '203.0.113.2' }, outcome: 'applied', entryId: 7 }]);
    expect(status?.blocked[0]?.guard).toBe('protected-ip');
    const history = await store.listHistory(cred);
    expect(history).toHaveLength(1);
    expect(history[0]?.outcome).toBe('converged');
    const raw = await dynamo.send(new GetItemCommand({
      TableName: table, Key: { credential: { S: cred }, entry: { S: 'run#2026-01-01T00:00:00.000Z' } },
    }));
    expect(Number(raw.Item?.ttl?.N)).toBe(Math.floor(Date.parse('2026-01-01T00:00:01.500Z') / 1000) + 90 * 86_400);
  });

  it('a failed run records the error, counts failures, and keeps the last known entries', async () => {
    const cred = uniqueName('fail');
    const store = new StateStore(dynamo, table, 90);
    await store.recordRun(runRecordFromResult(sampleResult(cred), ctx));
    const times = { startedAt: '2026-01-01T00:05:00.000Z', finishedAt: '2026-01-01T00:05:00.100Z', durationMs: 100 };
    await store.recordRun(runRecordFromFailure(cred, ctx, times, { kind: 'secret-missing', message: 'secret x does not exist' }));
    await store.recordRun(runRecordFromFailure(cred, ctx, { ...times, startedAt: '2026-01-01T00:10:00.000Z' }, { kind: 'maintenance', message: 'bunq down' }));
    const status = await store.readStatus(cred);
    expect(status).toMatchObject({
      outcome: 'failed', error: { kind: 'maintenance', message: 'bunq down' }, actual: null,
      consecutiveFailures: 2, lastSuccessAt: '2026-01-01T00:00:01.500Z', lastKnownActualAt: '2026-01-01T00:00:01.500Z',
    });
    expect(status?.lastKnownActual).toHaveLength(4);
    const history = await store.listHistory(cred);
    expect(history.map((h) => h.outcome)).toEqual(['failed', 'failed', 'converged']);
    expect(await store.listHistory(cred, 2)).toHaveLength(2);
  });

  it('a run that could not read bunq keeps the stored drift and blocked, and says they are from the last read', async () => {
    const cred = uniqueName('unread');
    const store = new StateStore(dynamo, table, 90);
    await store.recordRun(runRecordFromResult(sampleResult(cred), ctx));
    const unread = sampleResult(cred, {
      startedAt: '2026-01-01T00:05:00.000Z', finishedAt: '2026-01-01T00:05:01.000Z',
      outcome: 'failed', before: [], after: null, operations: [], reads: 1, writes: 0,
      error: { kind: 'maintenance', message: 'bunq down' },
    });
    const unreadRecord = runRecordFromResult({ ...unread, plan: { ...unread.plan, drift: [], blocked: [], operations: [] } }, ctx);
    expect(unreadRecord.actual).toBeNull();
    await store.recordRun(unreadRecord);
    const status = await store.readStatus(cred);
    expect(status).toMatchObject({ outcome: 'failed', actual: null, driftAsOf: '2026-01-01T00:00:01.500Z', lastRunAt: '2026-01-01T00:05:01.000Z' });
    expect(status?.drift).toHaveLength(2);
    expect(status?.blocked.map((b) => b.guard)).toEqual(['protected-ip']);
    // The history item is this run's own view: it read nothing.
    expect((await store.listHistory(cred, 1))[0]?.drift).toEqual([]);
    // A pre-reconcile failure (secret, config) read nothing either.
    await store.recordRun(runRecordFromFailure(cred, ctx, { startedAt: '2026-01-01T00:10:00.000Z', finishedAt: '2026-01-01T00:10:00.100Z', durationMs: 100 }, { kind: 'secret-missing', message: 'gone' }));
    expect((await store.readStatus(cred))?.drift).toHaveLength(2);
    // The next run that reads bunq replaces them.
    await store.recordRun(runRecordFromResult(sampleResult(cred, {
      startedAt: '2026-01-01T00:15:00.000Z', finishedAt: '2026-01-01T00:15:01.000Z', outcome: 'in-sync',
      plan: { ...sampleResult(cred).plan, drift: [], blocked: [] },
    }), ctx));
    expect(await store.readStatus(cred)).toMatchObject({ drift: [], blocked: [], driftAsOf: '2026-01-01T00:15:01.000Z' });
  });

  it('never overwrites history when two runs share a start time', async () => {
    const cred = uniqueName('same');
    const store = new StateStore(dynamo, table, 1);
    await store.recordRun(runRecordFromResult(sampleResult(cred), ctx));
    await store.recordRun(runRecordFromResult(sampleResult(cred, { outcome: 'in-sync' }), ctx));
    expect((await store.listHistory(cred)).map((h) => h.outcome).sort()).toEqual(['converged', 'in-sync']);
  });

  it('redacts secrets that slipped into error messages', () => {
    const rec = runRecordFromFailure('c', ctx, { startedAt: 'a', finishedAt: 'b', durationMs: 0 }, {
      kind: 'unexpected', message: 'bad key -----BEGIN PRIVATE KEY-----\nMIIabc\n-----END PRIVATE KEY----- here',
    });
    expect(rec.error?.message).toBe('bad key [REDACTED] here');
  });

  it('cuts huge records to fit a DynamoDB item, and says so', async () => {
    const cred = uniqueName('huge');
    const many = Array.from({ length: 5000 }, (_, i) => ({ id: i + 1, ip: `10.0.${Math.floor(i / 250)}.${i % 250}`, status: 'INACTIVE' as const, created: '2026-01-01 00:00:00.000000' }));
    const record = runRecordFromResult(sampleResult(cred, { before: many, after: many }), ctx);
    const fitted = fitToItemLimit(record);
    expect(fitted.truncated).toBe(true);
    expect(fitted.actual).toHaveLength(200);
    const store = new StateStore(dynamo, table, 1);
    await store.recordRun(record);
    expect((await store.readStatus(cred))?.truncated).toBe(true);
    await store.recordRun(runRecordFromResult(sampleResult(cred), ctx));
    expect((await store.readStatus(cred))?.truncated).toBeUndefined();
  });
});
