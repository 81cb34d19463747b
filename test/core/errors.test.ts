import { describe, expect, it } from 'vitest';
import { BunqError } from '../../lambdas/bunq/errors';
import {
  ERROR_KINDS,
  decisionOf,
  isErrorKind,
  isPortError,
  isPortErrorKind,
  retryDisposition,
  type ErrorKind,
  type KindDecision,
} from '../../lambdas/core/errors';
import { BUNQ_ERROR_METRIC_PREFIX, MetricName } from '../../lambdas/shared/metric-names';

describe('retry disposition per error kind', () => {
  it('operator data is terminal: retrying reads the same data again', () => {
    for (const kind of [
      'invalid-desired', 'config-missing', 'config-invalid', 'context-mismatch',
      'secret-missing', 'secret-invalid', 'secret-name-refused', 'credentials-rejected',
      // per-IP failures: bunq refused one IP for good, or lists an entry of it we cannot use
      'ip-refused', 'unrecognised-entry',
    ]) {
      expect(retryDisposition(kind), kind).toBe('terminal');
    }
  });

  it('outages, limits, time and anything unjudged are transient (retried, then dead-lettered)', () => {
    for (const kind of [
      'rate-limited', 'maintenance', 'server-error', 'timeout', 'network', 'outcome-unknown',
      'secret-unreadable', 'deadline', 'unexpected', 'run-incomplete', 'session-expired', 'a-kind-added-later',
    ]) {
      expect(retryDisposition(kind), kind).toBe('transient');
    }
  });
});

describe('the one list of error kinds', () => {
  it('gives every kind a decision and a metric that exists', () => {
    const known = new Set<string>([...Object.values(MetricName)]);
    for (const [kind, decision] of Object.entries(ERROR_KINDS)) {
      const own = decision.metric.startsWith(BUNQ_ERROR_METRIC_PREFIX) || known.has(decision.metric);
      expect(own, `${kind} → ${decision.metric}`).toBe(true);
      // A per-IP failure is terminal: retrying meets the same refusal.
      if (decision.perIp) expect(decision.terminal, kind).toBe(true);
    }
  });

  it('counts every port (bunq) kind but deadline under its own BunqError metric', () => {
    for (const kind of Object.keys(ERROR_KINDS).filter(isPortErrorKind)) {
      if (kind === 'deadline') continue;
      expect(decisionOf(kind).metric, kind).toMatch(new RegExp(`^${BUNQ_ERROR_METRIC_PREFIX}[A-Z]`));
    }
    expect(decisionOf('rate-limited').metric).toBe('BunqErrorRateLimited');
  });

  it('judges a kind it does not know (an older or newer record) like unexpected', () => {
    expect(isErrorKind('a-kind-added-later')).toBe(false);
    expect(decisionOf('a-kind-added-later')).toEqual(ERROR_KINDS.unexpected);
  });

  it('recognises a port error by shape, so the core never imports the bunq client', () => {
    expect(isPortError(new BunqError('x', { kind: 'maintenance', retryable: true }))).toBe(true);
    expect(isPortError(Object.assign(new Error('x'), { kind: 'not-a-kind', retryable: true }))).toBe(false);
    expect(isPortError({ kind: 'maintenance', retryable: true })).toBe(false);
  });

  it('cannot get a new kind without a decision (checked by tsc, which runs over test/)', () => {
    // A table that misses a kind does not compile: the same `satisfies` guards ERROR_KINDS.
    const { deadline: _omitted, ...missingOne } = ERROR_KINDS;
    // @ts-expect-error -- 'deadline' is missing: every ErrorKind needs its decision
    const incomplete: Record<ErrorKind, KindDecision> = missingOne;
    expect(Object.keys(incomplete)).not.toContain('deadline');
  });
});
