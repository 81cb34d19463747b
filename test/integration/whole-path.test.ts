import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import type { BunqContext } from '../../lambdas/bunq/types';
import {
  activeIps,
  addCredential,
  deleteMessages,
  OUR_IP,
  putConfig,
  putDesiredIp,
  putItem,
  receive,
  sqsEvent,
  StreamReader,
  streamEvent,
  whitelistWrites,
  streamTrigger,
  useWorld,
} from './harness';

let stream: StreamReader;
const world = useWorld({ visibilityTimeoutSeconds: 30 }, {
  started(w) {
    stream = new StreamReader(w, w.streamArn);
  },
});

describe('whole path: DesiredIps edit → stream → queue → worker → bunq, state and metrics', () => {
  it('an operator edit converges the credential at bunq and records status, history and metrics', async () => {
    const cred = await addCredential(world, 'whole-path');
    world.emulator.addIpEntryAsApp(cred.credentialId, '198.51.100.7', 'ACTIVE');
    await putConfig(world, cred);
    await putDesiredIp(world, cred.name, '203.0.113.10');
    await putDesiredIp(world, cred.name, '203.0.113.11');

    const records = await stream.read();
    expect(records.map((r) => r.dynamodb?.Keys?.entry?.S)).toEqual(['ip#127.0.0.1', 'config', 'ip#203.0.113.10', 'ip#203.0.113.11']);
    expect(await streamTrigger(world)(streamEvent(records))).toEqual({ batchItemFailures: [] });

    const messages = await receive(world);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.Attributes?.MessageGroupId).toBe(cred.name);
    expect(JSON.parse(messages[0]?.Body ?? '')).toEqual({
      credential: cred.name, reason: 'stream', requestedAt: new Date(world.clock.now()).toISOString(),
    });

    const emfBefore = world.emf.length;
    expect(await world.worker(sqsEvent(messages))).toEqual({ batchItemFailures: [] });
    const emf = world.emf.slice(emfBefore);
    await deleteMessages(world, messages);

    // bunq now holds exactly the desired set plus our own protected IP; the stray IP is INACTIVE, not deleted.
    expect(activeIps(world, cred)).toEqual([OUR_IP, '203.0.113.10', '203.0.113.11'].sort());
    expect(world.emulator.listIpEntries(cred.credentialId).find((e) => e.ip === '198.51.100.7')?.status).toBe('INACTIVE');

    const status = await world.state.readStatus(cred.name);
    expect(status).toMatchObject({
      outcome: 'converged', reason: 'stream', mode: 'enforce', error: null, consecutiveFailures: 0,
      desiredIps: [OUR_IP, '203.0.113.10', '203.0.113.11'],
    });
    expect(status?.applied.map((o) => o.operation.kind).sort()).toEqual(['add', 'add', 'deactivate']);
    expect(status?.actual?.filter((e) => e.status === 'ACTIVE')).toHaveLength(3);
    const history = await world.state.listHistory(cred.name);
    expect(history).toHaveLength(1);
    expect(history[0]?.outcome).toBe('converged');

    expect(emf).toHaveLength(2);
    const [perCredential, serviceWide] = emf;
    expect(perCredential?._aws.CloudWatchMetrics[0]?.Namespace).toBe('BunqIpReconciler');
    expect(perCredential?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'credential']]);
    // A healthy credential's per-credential metrics: only what its alarms read every period.
    expect(perCredential?._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name)).toEqual(['RunFailed', 'DriftRemaining']);
    expect(perCredential).toMatchObject({ service: 'bunq-ip-reconciler', credential: cred.name, RunFailed: 0, DriftRemaining: 0 });
    expect(serviceWide?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
    expect(serviceWide).toMatchObject({ credential: cred.name, DriftFound: 3, OperationsApplied: 3, OperationsFailed: 0 });
  });

  it("the system's own writes never trigger a run", async () => {
    const cred = await addCredential(world, 'own-writes');
    await putConfig(world, cred);
    await putDesiredIp(world, cred.name, '203.0.113.20');
    await streamTrigger(world)(streamEvent(await stream.read()));
    const messages = await receive(world);
    expect(messages).toHaveLength(1);
    await world.worker(sqsEvent(messages));
    await deleteMessages(world, messages);
    expect(await world.state.readStatus(cred.name)).toMatchObject({ outcome: 'converged' });

    // The run wrote status and history, and a refreshed session may have been stored: none of it
    // lands in DesiredIps, so its stream shows nothing new ...
    expect(await stream.read()).toEqual([]);
    // ... and the table the reconciler does write has no stream at all.
    const stateTable = await world.aws.dynamo.send(new DescribeTableCommand({ TableName: world.stateTable }));
    expect(stateTable.Table?.StreamSpecification?.StreamEnabled ?? false).toBe(false);
    // Even items that are not operator items, should they ever reach the stream, wake nothing.
    await putItem(world, { credential: { S: cred.name }, entry: { S: 'status' }, outcome: { S: 'x' } });
    await putItem(world, { credential: { S: cred.name }, entry: { S: 'run#2026-01-01T00:00:00.000Z' } });
    const strays = await stream.read();
    expect(strays).toHaveLength(2);
    expect(await streamTrigger(world)(streamEvent(strays))).toEqual({ batchItemFailures: [] });
    expect(await receive(world)).toEqual([]);
  });

  it('an expired session is renewed once and stored back in the secret for the next run', async () => {
    const cred = await addCredential(world, 'session');
    await putConfig(world, cred);
    await putDesiredIp(world, cred.name, '203.0.113.30');
    await streamTrigger(world)(streamEvent(await stream.read()));
    world.emulator.expireSessions();
    const messages = await receive(world);
    const sessionPostsBefore = world.emulator.requests.filter((r) => r.path === '/v1/session-server').length;
    expect((await world.worker(sqsEvent(messages))).batchItemFailures).toEqual([]);
    await deleteMessages(world, messages);
    expect(activeIps(world, cred)).toContain('203.0.113.30');
    expect(world.emulator.requests.filter((r) => r.path === '/v1/session-server').length).toBe(sessionPostsBefore + 1);
    const stored = await world.aws.secrets.send(new GetSecretValueCommand({ SecretId: cred.secretName, VersionStage: 'AWSCURRENT' }));
    const context = JSON.parse(stored.SecretString ?? '') as BunqContext;
    expect(context.session?.token).toBeTruthy();
    expect(context.session?.token).not.toBe(cred.context.session?.token);
    expect(context.apiKey).toBe(cred.context.apiKey);
    // Secrets never reach the logs.
    const logged = JSON.stringify(world.logger.lines);
    for (const secret of [cred.context.apiKey, cred.context.installationToken, context.session?.token ?? '']) {
      expect(logged).not.toContain(secret);
    }
    expect(whitelistWrites(world).length).toBeGreaterThan(0);
  });
});
