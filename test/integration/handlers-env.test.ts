import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { handler as fanOutHandler } from '../../lambdas/handlers/fan-out';
import { handler as workerHandler } from '../../lambdas/handlers/reconcile-worker';
import { fanOutDeps, resetHandlerRuntime, streamDeps, workerDeps } from '../../lambdas/handlers/runtime';
import { handler as streamHandler } from '../../lambdas/handlers/stream-trigger';
import { fakeLambdaContext } from './handler-context';
import { captureStdout } from '../aws/emf-capture';
import {
  activeIps,
  addCredential,
  deleteMessages,
  OUR_IP,
  putConfig,
  putDesiredIp,
  receive,
  sqsEvent,
  StreamReader,
  streamEvent,
  useHandlerWorld,
} from './harness';

/**
 * The exported Lambda handlers, configured only by environment variables: the stack's (table
 * names, queue URL, secret prefix, history TTL) and the SDK's standard ones (AWS_ENDPOINT_URL,
 * AWS_REGION). The same code runs on AWS; here the endpoint is moto.
 */

const world = useHandlerWorld({ HISTORY_TTL_DAYS: '7' });

describe('handlers wired from the environment', () => {
  it('stream trigger → worker → fan-out, all through the exported handlers', async () => {
    const cred = await addCredential(world, 'env-wired');
    await putConfig(world, cred);
    await putDesiredIp(world, cred.name, '203.0.113.80');

    const records = await new StreamReader(world, world.streamArn).read();
    expect(await captureStdout(() => streamHandler(streamEvent(records), fakeLambdaContext('stream-1'))).then((r) => r.value)).toEqual({ batchItemFailures: [] });
    const messages = await receive(world);
    expect(messages).toHaveLength(1);

    const { value, emf, lines } = await captureStdout(() => workerHandler(sqsEvent(messages), fakeLambdaContext('worker-1')));
    expect(value).toEqual({ batchItemFailures: [] });
    await deleteMessages(world, messages);
    expect(activeIps(world, cred)).toEqual([OUR_IP, '203.0.113.80'].sort());
    // One record per dimension set: {service, credential} and {service}.
    expect(emf).toHaveLength(2);
    expect(emf[0]).toMatchObject({ credential: cred.name, RunFailed: 0, DriftRemaining: 0 });
    expect(emf[1]).toMatchObject({ credential: cred.name, OperationsApplied: 1 });
    // Structured logs, and never a secret in them.
    const finished = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === 'reconcile run finished');
    expect(finished).toMatchObject({ level: 'INFO', service: 'bunq-ip-reconciler', credential: cred.name, outcome: 'converged' });
    for (const secret of [cred.context.apiKey, cred.context.installationToken, cred.context.session?.token ?? '']) {
      expect(lines.join('\n')).not.toContain(secret);
    }

    const status = await world.state.readStatus(cred.name);
    expect(status).toMatchObject({ outcome: 'converged', reason: 'stream' });
    const history = await world.aws.dynamo.send(new GetItemCommand({
      TableName: world.stateTable, Key: { credential: { S: cred.name }, entry: { S: `run#${status?.startedAt ?? ''}` } },
    }));
    expect(Number(history.Item?.ttl?.N)).toBe(Math.floor(Date.parse(status?.finishedAt ?? '') / 1000) + 7 * 86_400);

    const fanOut = await captureStdout(() => fanOutHandler({ scheduledTime: new Date().toISOString() }, fakeLambdaContext('fan-out-1')));
    expect(fanOut.value).toMatchObject({ credentials: 1, enqueued: 1, skipped: 0 });
    // The deployed triggers count skipped credentials (CredentialsSkipped), not only log them.
    expect(fanOutDeps().metrics).toBeDefined();
    expect(streamDeps().metrics).toBeDefined();
    const tick = await receive(world);
    expect(tick.map((m) => m.Attributes?.MessageGroupId)).toEqual([cred.name]);
    await deleteMessages(world, tick);
  });

  it('EGRESS_IPS is parsed with the core validator; unset means the worker cannot tell its IP', () => {
    resetHandlerRuntime();
    expect(workerDeps({ ...process.env, EGRESS_IPS: ' 203.0.113.9 ,127.0.0.1' }).egress).toEqual({ ips: ['127.0.0.1', '203.0.113.9'] });
    resetHandlerRuntime();
    expect(workerDeps({ ...process.env, EGRESS_IPS: undefined }).egress).toEqual({ ips: [] });
    resetHandlerRuntime();
    expect(workerDeps({ ...process.env, EGRESS_IPS: '203.0.113.9,*' }).egress).toEqual({ ips: [], problem: expect.stringMatching(/item 2 "\*"/) });
    resetHandlerRuntime();
  });

  it('a missing environment variable is a clear error', () => {
    resetHandlerRuntime();
    expect(() => workerDeps({ ...process.env, DESIRED_TABLE_NAME: '' })).toThrow('environment variable DESIRED_TABLE_NAME is not set');
    expect(() => workerDeps({ ...process.env, HISTORY_TTL_DAYS: 'forever' })).toThrow(/HISTORY_TTL_DAYS must be a whole number of days/);
    resetHandlerRuntime();
  });
});
