import { describe, expect, it } from 'vitest';
import { createRunMetrics, createServiceMetrics, metricsForFailure, metricsForResult, reportSkippedCredentials } from '../../lambdas/aws/metrics';
import { plan } from '../../lambdas/core/plan';
import { METRICS_NAMESPACE } from '../../lambdas/shared/metric-names';
import { captureStdout } from './emf-capture';
import { sampleResult } from './fixtures';

const valueOf = (points: Array<{ name: string; value: number }>, name: string) => points.find((p) => p.name === name)?.value;

describe('run metrics', () => {
  it('derives every metric from an execution result, each under one dimension set', () => {
    const points = metricsForResult(sampleResult('prod'));
    expect(Object.fromEntries(points.map((p) => [p.name, [p.value, p.scope]]))).toEqual({
      RunFailed: [0, 'credential'], DriftRemaining: [1, 'credential'], OperationsBlocked: [1, 'credential'],
      ActiveWildcard: [1, 'credential'],
      DriftFound: [2, 'service'], OperationsApplied: [1, 'service'], OperationsFailed: [0, 'service'],
    });
  });

  it('sends sparse per-credential metrics only while they are above 0', () => {
    const quiet = sampleResult('prod', {
      before: [{ id: 1, ip: '203.0.113.1', status: 'ACTIVE', created: null }],
      after: [{ id: 1, ip: '203.0.113.1', status: 'ACTIVE', created: null }],
    });
    quiet.plan = { ...quiet.plan, blocked: [], warnings: [] };
    const names = metricsForResult(quiet).filter((p) => p.scope === 'credential').map((p) => p.name);
    // A healthy credential pays for two metrics: the ones its alarms need every period.
    expect(names).toEqual(['RunFailed', 'DriftRemaining']);
    expect(metricsForFailure('credential-claimed-twice')).toContainEqual({ name: 'CredentialClaimedTwice', unit: 'Count', value: 1, scope: 'credential' });
  });

  it('counts the entries bunq lists that the reconciler cannot use (UnrecognisedEntries)', () => {
    const entries = [
      { id: 1, ip: '203.0.113.1', status: 'ACTIVE', created: null },
      { id: 0, ip: '203.0.113.2', status: 'ACTIVE', created: null },
      { id: 3, ip: '203.0.113.3', status: 'PENDING', created: null },
    ];
    const points = metricsForResult(sampleResult('prod', { before: entries, after: entries, operations: [] }));
    expect(valueOf(points, 'UnrecognisedEntries')).toBe(2);
    // ...and nothing when bunq could not be read.
    expect(valueOf(metricsForResult(sampleResult('prod', { outcome: 'failed', before: [], after: null, operations: [] })), 'UnrecognisedEntries')).toBeUndefined();
  });

  it('a wildcard-key credential keeps ActiveWildcard up but not the drift and guard alarms', async () => {
    const actual = [
      { id: 1, ip: '203.0.113.1', status: 'ACTIVE' as const, created: null },
      { id: 2, ip: '*', status: 'ACTIVE' as const, created: null },
    ];
    const config = {
      credential: 'prod', userId: 1, credentialPasswordIpId: 2, secretName: 'bunq-ip-reconciler/prod',
      mode: 'enforce' as const, maxDeactivationsPerRun: 5, protectedIps: [],
    };
    const p = plan([{ entry: 'ip#203.0.113.1', ip: '203.0.113.1' }], actual, config, Date.UTC(2026, 0, 1));
    expect(p.blocked.map((b) => b.guard)).toEqual(['wildcard-untouchable']);
    expect(p.drift).toEqual([]);
    const points = metricsForResult(sampleResult('prod', { plan: p, operations: [], before: actual, after: null, outcome: 'converged' }));
    expect(valueOf(points, 'ActiveWildcard')).toBe(1);
    expect(valueOf(points, 'DriftRemaining')).toBe(0);
    // Sparse: not sent at all while 0, which the guard alarm reads as "nothing held".
    expect(valueOf(points, 'OperationsBlocked')).toBeUndefined();
  });

  it('counts each bunq error kind once and skips entry counts when nothing could be read', () => {
    const result = sampleResult('prod', {
      outcome: 'failed', before: [], after: null, reads: 1, writes: 0,
      operations: [{ operation: { kind: 'add', ip: '203.0.113.2' }, outcome: 'failed', error: { kind: 'maintenance', message: 'x' } }],
      error: { kind: 'maintenance', message: 'bunq is down' },
    });
    const points = metricsForResult(result);
    expect(valueOf(points, 'BunqErrorMaintenance')).toBe(1);
    expect(valueOf(points, 'RunFailed')).toBe(1);
    expect(valueOf(points, 'ActiveWildcard')).toBeUndefined();
    // Nothing was read: a 0 here would set the drift and guard alarms to OK while bunq is down.
    expect(valueOf(points, 'DriftFound')).toBeUndefined();
    expect(valueOf(points, 'DriftRemaining')).toBeUndefined();
    expect(valueOf(points, 'OperationsBlocked')).toBeUndefined();
    expect(metricsForFailure('secret-missing').map((p) => p.name)).toEqual(['RunFailed']);
    expect(metricsForFailure('credentials-rejected').find((p) => p.name === 'BunqErrorCredentialsRejected')).toMatchObject({ value: 1, scope: 'service' });
  });

  it('emits one EMF record per dimension set: {service, credential} and {service} with the credential as a plain property', async () => {
    const metrics = createRunMetrics({ namespace: METRICS_NAMESPACE, serviceName: 'bunq-ip-reconciler' });
    const { emf } = await captureStdout(async () => {
      metrics.publish('prod', metricsForResult(sampleResult('prod')));
      metrics.publish('staging', metricsForFailure('maintenance'));
    });
    expect(emf).toHaveLength(4);
    const [prodCredential, prodService, stagingCredential, stagingService] = emf;
    const directive = prodCredential?._aws.CloudWatchMetrics[0];
    expect(directive?.Namespace).toBe('BunqIpReconciler');
    expect(directive?.Dimensions).toEqual([['service', 'credential']]);
    expect(directive?.Metrics.map((m) => m.Name)).toEqual(['RunFailed', 'DriftRemaining', 'OperationsBlocked', 'ActiveWildcard']);
    expect(prodCredential).toMatchObject({ service: 'bunq-ip-reconciler', credential: 'prod', RunFailed: 0, DriftRemaining: 1 });
    expect(prodService?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
    // Logs Insights can still break the service-wide counts down per credential.
    expect(prodService).toMatchObject({ credential: 'prod', DriftFound: 2, OperationsApplied: 1 });
    expect(stagingCredential).toMatchObject({ credential: 'staging', RunFailed: 1 });
    expect(stagingService).toMatchObject({ credential: 'staging', BunqErrorMaintenance: 1 });
    expect(stagingService?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
  });

  it('counts skipped credentials under {service} only (the bad name is no dimension)', async () => {
    const metrics = createServiceMetrics({ namespace: METRICS_NAMESPACE, serviceName: 'bunq-ip-reconciler' });
    const logged: Array<Record<string, unknown> | undefined> = [];
    const { emf } = await captureStdout(async () => {
      reportSkippedCredentials([], metrics, { error: () => undefined }, 'stream');
      reportSkippedCredentials(
        [{ credential: 'a b', reason: 'r1' }, { credential: 'c d', reason: 'r2' }],
        metrics,
        { error: (_m, attributes) => logged.push(attributes) },
        'stream',
      );
    });
    expect(emf).toHaveLength(1);
    expect(emf[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
    expect(emf[0]).toMatchObject({ service: 'bunq-ip-reconciler', CredentialsSkipped: 2 });
    expect(emf[0]).not.toHaveProperty('credential');
    expect(logged.map((a) => a?.credential)).toEqual(['a b', 'c d']);
  });
});
