import { describe, expect, it } from 'vitest';
import { handler as fanOutHandler } from '../../lambdas/handlers/fan-out';
import { handler as workerHandler } from '../../lambdas/handlers/reconcile-worker';
import { handler as streamHandler } from '../../lambdas/handlers/stream-trigger';
import { captureStdout } from '../aws/emf-capture';
import { fakeLambdaContext } from './handler-context';
import {
  addCredential,
  deleteMessages,
  putConfig,
  putDesiredIp,
  receive,
  sqsEvent,
  StreamReader,
  streamEvent,
  useHandlerWorld,
} from './harness';

/**
 * The exported handlers, each invoked twice in one warm container with the runtime's context: every
 * log line of an invocation names its request id, and the next invocation's lines the next one.
 */

const world = useHandlerWorld();

/** The logger's lines among stdout (EMF records are metrics, not log lines, and carry no level). */
function logLines(lines: readonly string[]): Array<Record<string, unknown>> {
  return lines
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => typeof l.level === 'string');
}

async function requestIdsOf(invoke: () => Promise<unknown>): Promise<unknown[]> {
  const { lines } = await captureStdout(invoke);
  const logs = logLines(lines);
  expect(logs.length).toBeGreaterThan(0);
  return logs.map((l) => l.function_request_id);
}

describe('request id on every log line', () => {
  it('stream trigger, worker and fan-out: each invocation logs under its own request id', async () => {
    const cred = await addCredential(world, 'request-id');
    await putConfig(world, cred);
    const reader = new StreamReader(world, world.streamArn);

    for (const id of ['stream-a', 'stream-b']) {
      await putDesiredIp(world, cred.name, id === 'stream-a' ? '203.0.113.90' : '203.0.113.91');
      const records = await reader.read();
      expect(new Set(await requestIdsOf(() => streamHandler(streamEvent(records), fakeLambdaContext(id))))).toEqual(new Set([id]));
    }

    // The same batch twice (a redelivery): the second run finds the credential converged.
    const messages = await receive(world);
    expect(messages.length).toBeGreaterThan(0);
    for (const id of ['worker-a', 'worker-b']) {
      expect(new Set(await requestIdsOf(() => workerHandler(sqsEvent(messages), fakeLambdaContext(id))))).toEqual(new Set([id]));
    }
    await deleteMessages(world, messages);

    for (const id of ['fan-out-a', 'fan-out-b']) {
      const tick = new Date(Date.now() + (id === 'fan-out-a' ? 0 : 60_000)).toISOString();
      expect(new Set(await requestIdsOf(() => fanOutHandler({ scheduledTime: tick }, fakeLambdaContext(id))))).toEqual(new Set([id]));
    }
  });
});
