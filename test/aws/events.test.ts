import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../lambdas/aws/change-events';
import { EventBridgeChangeEvents } from '../../lambdas/aws/events';

// Error paths only (the happy path runs against moto in test/integration/change-events.test.ts).
const ebMock = mockClient(EventBridgeClient);
afterEach(() => ebMock.reset());

const event = (ip: string): ChangeEvent => ({
  source: 'bunq-ip-reconciler',
  detailType: 'IP Activated',
  detail: { credential: 'prod', ip, entryId: 1, bunqResponseId: 'r', runId: 'run#t', mode: 'enforce', action: 'added', reason: 'desired', trigger: 'schedule' },
});

describe('EventBridgeChangeEvents', () => {
  it('sends at most 10 entries per call, to the bus it was given', async () => {
    ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const report = await new EventBridgeChangeEvents(new EventBridgeClient({}), 'default').publish(
      Array.from({ length: 12 }, (_, i) => event(`203.0.113.${i + 1}`)),
    );
    expect(report).toEqual({ sent: 12, failed: 0 });
    const calls = ebMock.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries ?? []);
    expect(calls.map((entries) => entries.length)).toEqual([10, 2]);
    expect(calls[0]?.[0]).toMatchObject({ EventBusName: 'default', Source: 'bunq-ip-reconciler', DetailType: 'IP Activated' });
  });

  it('counts entries EventBridge refused and a call that failed, and never throws', async () => {
    ebMock
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ EventId: 'e1' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }] })
      .rejectsOnce(new Error('AccessDeniedException: not allowed'));
    const events = Array.from({ length: 12 }, (_, i) => event(`203.0.113.${i + 1}`));
    const report = await new EventBridgeChangeEvents(new EventBridgeClient({})).publish(events);
    expect(report).toEqual({ sent: 9, failed: 3, error: 'ThrottlingException: slow down' });
  });
});
