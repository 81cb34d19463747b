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
