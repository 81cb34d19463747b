import { afterEach, describe, expect, it } from 'vitest';
import {
  activeIps,
  addCredential,
  createWorld,
  deleteMessages,
  OUR_IP,
  putConfig,
  putDesiredIp,
  receive,
  sqsEvent,
  StreamReader,
  streamEvent,
  whitelistWrites,
  streamTrigger,
  fanOutTrigger,
  type Credential,
  type World,
} from './harness';

/**
 * At-least-once delivery and overlapping triggers must still yield exactly one correct result:
 * every IP POSTed once, the final status right, no run racing another on one credential.
 */

let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

function postsOf(w: World, since = 0): number {
  return whitelistWrites(w, since).filter((x) => x.method === 'POST' && x.status < 300).length;
}

/** A fresh world with one credential that desires `ip`, its edit already through the stream trigger. */
async function editedCredential(name: string, ip: string): Promise<{ w: World; cred: Credential }> {
  const w = (world = await createWorld({ visibilityTimeoutSeconds: 30 }));
  const cred = await addCredential(w, name);
  await putConfig(w, cred);
  await putDesiredIp(w, cred.name, ip);
  await streamTrigger(w)(streamEvent(await new StreamReader(w, w.streamArn).read()));
  return { w, cred };
}

describe('duplicate deliveries and overlapping triggers', () => {
  it('two deliveries of the same message leave one result and no duplicate POST', async () => {
    const w = (world = await createWorld({ visibilityTimeoutSeconds: 30 }));
    const cred = await addCredential(w, 'twice');
    await putConfig(w, cred);
    await putDesiredIp(w, cred.name, '203.0.113.50');
    await putDesiredIp(w, cred.name, '203.0.113.51');
    const records = await new StreamReader(w, w.streamArn).read();
    const stream = streamTrigger(w);
    // Lambda redelivers a stream batch after a timeout: the dedup id makes the second send a no-op.
    await stream(streamEvent(records));
    await stream(streamEvent(records));
    const messages = await receive(w);
    expect(messages).toHaveLength(1);

    const requestsBefore = w.emulator.requests.length;
    // SQS delivers the same message again (say the first invocation timed out after its run).
    expect((await w.worker(sqsEvent(messages))).batchItemFailures).toEqual([]);
    expect((await w.worker(sqsEvent(messages))).batchItemFailures).toEqual([]);
    await deleteMessages(w, messages);

    expect(postsOf(w, requestsBefore)).toBe(2);
    expect(activeIps(w, cred)).toEqual([OUR_IP, '203.0.113.50', '203.0.113.51'].sort());
    const history = await w.state.listHistory(cred.name);
    expect(history.map((h) => h.outcome)).toEqual(['in-sync', 'converged']);
    expect(await w.state.readStatus(cred.name)).toMatchObject({ outcome: 'in-sync', error: null });
  });

  it('a schedule tick during an edit-triggered run waits for it, then finds nothing to do', async () => {
    const { w, cred } = await editedCredential('overlap', '203.0.113.60');
    const editMessages = await receive(w);
    expect(editMessages).toHaveLength(1);

    // The edit-triggered run is in flight; the scheduler ticks now.
    const fanOut = fanOutTrigger(w);
    expect(await fanOut({ scheduledTime: '2026-01-01T00:05:00Z' })).toMatchObject({ credentials: 1, enqueued: 1 });
    // FIFO: no second message of this credential's group is handed out while the first is in flight,
    // so no second worker can run against the same whitelist.
    expect(await receive(w)).toEqual([]);

    const requestsBefore = w.emulator.requests.length;
    expect((await w.worker(sqsEvent(editMessages))).batchItemFailures).toEqual([]);
    await deleteMessages(w, editMessages);
    const tickMessages = await receive(w);
    expect(tickMessages.map((m) => (JSON.parse(m.Body ?? '') as { reason: string }).reason)).toEqual(['schedule']);
    expect((await w.worker(sqsEvent(tickMessages))).batchItemFailures).toEqual([]);
    await deleteMessages(w, tickMessages);

    expect(postsOf(w, requestsBefore)).toBe(1);
    expect(activeIps(w, cred)).toEqual([OUR_IP, '203.0.113.60'].sort());
    const history = await w.state.listHistory(cred.name);
    expect(history.map((h) => [h.reason, h.outcome])).toEqual([['schedule', 'in-sync'], ['stream', 'converged']]);
  });

  it('an edit and a schedule tick in the same batch share one run', async () => {
    const { w, cred } = await editedCredential('same-batch', '203.0.113.70');
    const fanOut = fanOutTrigger(w);
    await fanOut({ scheduledTime: '2026-01-01T00:10:00Z' });
    const messages = await receive(w);
    expect(messages).toHaveLength(2);
    const requestsBefore = w.emulator.requests.length;
    expect((await w.worker(sqsEvent(messages))).batchItemFailures).toEqual([]);
    await deleteMessages(w, messages);
    expect(postsOf(w, requestsBefore)).toBe(1);
    expect((await w.state.listHistory(cred.name)).map((h) => h.outcome)).toEqual(['converged']);
  });
});
