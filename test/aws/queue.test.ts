import { ReceiveMessageCommand, type SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { ReconcileQueue } from '../../lambdas/aws/queue';
import {
  parseReconcileRequest,
  scheduleDeduplicationId,
  streamDeduplicationId,
} from '../../lambdas/aws/reconcile-request';
import { createFifoQueueWithDlq, motoClients, uniqueName } from './moto-helpers';

const { sqs } = motoClients();

async function drain(queueUrl: string): Promise<Array<{ body: string; group: string | undefined }>> {
  const out: Array<{ body: string; group: string | undefined }> = [];
  for (;;) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['MessageGroupId'] }));
    if (!r.Messages?.length) return out;
    for (const m of r.Messages) out.push({ body: m.Body ?? '', group: m.Attributes?.MessageGroupId });
  }
}

describe('reconcile queue (SQS FIFO on moto)', () => {
  it('sends requests in batches of 10, one message group per credential', async () => {
    const { queueUrl } = await createFifoQueueWithDlq(sqs, uniqueName('q'), { visibilityTimeoutSeconds: 60 });
    const items = Array.from({ length: 23 }, (_, i) => ({
      request: { credential: `c${i}`, reason: 'schedule' as const, requestedAt: '2026-01-01T00:00:00.000Z' },
      deduplicationId: scheduleDeduplicationId(`c${i}`, '2026-01-01T00:00:00Z'),
    }));
    expect(await new ReconcileQueue(sqs, queueUrl).send(items)).toEqual({ sent: 23, failed: [], refused: [] });
    const got = await drain(queueUrl);
    expect(got).toHaveLength(23);
    for (const m of got) expect(parseReconcileRequest(m.body).credential).toBe(m.group);
  });

  it('sends batches concurrently but never more than its bound at once, and counts every message', async () => {
    // A counting stand-in for SQS's send: what is asserted is our scheduling, not SQS.
    let inFlight = 0;
    let peak = 0;
    const entriesSeen: string[] = [];
    const sqsDouble = {
      send: async (command: SendMessageBatchCommand) => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
        const entries = command.input.Entries ?? [];
        entriesSeen.push(...entries.map((e) => e.MessageGroupId ?? ''));
        return { Successful: entries.map((e) => ({ Id: e.Id ?? '', MessageId: 'm', MD5OfMessageBody: '' })), Failed: [] };
      },
    } as unknown as SQSClient;
    const items = Array.from({ length: 95 }, (_, i) => ({
      request: { credential: `c${i}`, reason: 'schedule' as const, requestedAt: '2026-01-01T00:00:00.000Z' },
      deduplicationId: `d${i}`,
    }));
    expect(await new ReconcileQueue(sqsDouble, 'q', 3).send(items)).toEqual({ sent: 95, failed: [], refused: [] });
    expect(peak).toBe(3);
    expect(entriesSeen.sort()).toEqual(items.map((i) => i.request.credential).sort());
  });

  it('reports per credential what could not be sent', async () => {
    const { queueUrl } = await createFifoQueueWithDlq(sqs, uniqueName('q'));
    const ok = { request: { credential: 'fine', reason: 'cli' as const, requestedAt: '2026-01-01T00:00:00.000Z' }, deduplicationId: 'a' };
    const bad = { request: { credential: 'has space', reason: 'cli' as const, requestedAt: '2026-01-01T00:00:00.000Z' }, deduplicationId: 'b' };
    const report = await new ReconcileQueue(sqs, queueUrl).send([ok, bad]);
    expect(report.sent).toBe(1);
    // A name that can never be a message group is refused (not retryable), apart from send failures.
    expect(report.failed).toEqual([]);
    expect(report.refused).toEqual([{ credential: 'has space', reason: expect.stringMatching(/cannot be a queue message group/) as unknown }]);
    const missing = await new ReconcileQueue(sqs, `${queueUrl}-gone`).send([ok]);
    expect(missing.sent).toBe(0);
    expect(missing.failed[0]).toMatchObject({ credential: 'fine', reason: expect.stringMatching(/SendMessageBatch failed/) as unknown });
  });

  it('parses only well-formed messages, with a specific reason otherwise', () => {
    expect(parseReconcileRequest('{"credential":"p","reason":"stream","requestedAt":"2026-01-01T00:00:00Z"}')).toEqual({
      credential: 'p', reason: 'stream', requestedAt: '2026-01-01T00:00:00Z',
    });
    expect(() => parseReconcileRequest('nope')).toThrow(/not JSON/);
    expect(() => parseReconcileRequest('[]')).toThrow(/not a JSON object/);
    expect(() => parseReconcileRequest('{"reason":"cli"}')).toThrow(/no "credential"/);
    expect(() => parseReconcileRequest('{"credential":"p","reason":"manual","requestedAt":"x"}')).toThrow(/reason "manual"/);
    expect(() => parseReconcileRequest('{"credential":"p","reason":"cli","requestedAt":"yesterday"}')).toThrow(/requestedAt/);
  });

  it('derives stable, distinct deduplication ids', () => {
    expect(scheduleDeduplicationId('p', 't1')).toBe(scheduleDeduplicationId('p', 't1'));
    expect(scheduleDeduplicationId('p', 't1')).not.toBe(scheduleDeduplicationId('p', 't2'));
    expect(streamDeduplicationId('p', '100')).not.toBe(scheduleDeduplicationId('p', '100'));
    expect(streamDeduplicationId('p', '100')).toMatch(/^[0-9a-f]{64}$/);
  });
});
