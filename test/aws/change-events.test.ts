import { describe, expect, it } from 'vitest';
import { changeEventsFor } from '../../lambdas/aws/change-events';
import { sampleResult } from './fixtures';

describe('changeEventsFor', () => {
  const result = sampleResult('prod', {
    startedAt: '2026-01-01T00:00:00.000Z',
    operations: [
      { operation: { kind: 'add', ip: '203.0.113.2' }, outcome: 'applied', entryId: 9 },
      { operation: { kind: 'reactivate', ip: '203.0.113.3', entryId: 4 }, outcome: 'applied-as-add', entryId: 10 },
      { operation: { kind: 'deactivate', ip: '198.51.100.1', entryId: 7, reason: 'duplicate' }, outcome: 'confirmed-after-reread', entryId: 7 },
      { operation: { kind: 'deactivate', ip: '198.51.100.2', entryId: 8, reason: 'undesired' }, outcome: 'failed', error: { kind: 'timeout', message: 'x' } },
    ],
  });
  const receipts = [
    { write: 'add' as const, ip: '203.0.113.2', entryId: 9, responseId: 'resp-9' },
    { write: 'add' as const, ip: '203.0.113.3', entryId: 10, responseId: 'resp-10' },
  ];

  it('one event per confirmed change, none for a failed one; a fallback POST is an addition', () => {
    const events = changeEventsFor(result, { trigger: 'schedule', receipts, previouslyHeld: [] });
    expect(events.map((e) => [e.detailType, e.detail.action, e.detail.ip, e.detail.entryId, e.detail.bunqResponseId])).toEqual([
      ['IP Activated', 'added', '203.0.113.2', 9, 'resp-9'],
      ['IP Activated', 'added', '203.0.113.3', 10, 'resp-10'],
      // Confirmed by a re-read: bunq's reply to the write never arrived, so there is no response id.
      ['IP Deactivated', 'deactivated', '198.51.100.1', 7, null],
      ['Operation Held', 'held', '198.51.100.9', 5, null],
    ]);
    expect(events[0]?.detail).toMatchObject({ credential: 'prod', runId: 'run#2026-01-01T00:00:00.000Z', mode: 'enforce', trigger: 'schedule' });
    expect(events[2]?.detail.reason).toMatch(/duplicate/);
    expect(events[3]?.detail).toMatchObject({ guard: 'protected-ip', operation: 'deactivate', reason: '198.51.100.9 is protected' });
  });

  it('a hold the previous run already reported is not announced again', () => {
    const events = changeEventsFor(result, { trigger: 'schedule', receipts, previouslyHeld: result.plan.blocked });
    expect(events.map((e) => e.detailType)).not.toContain('Operation Held');
  });
});
