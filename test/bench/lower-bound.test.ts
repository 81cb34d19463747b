import { describe, expect, it } from 'vitest';
import {
  IP_LIST_ROUTE,
  minimumCalls,
  pagesFor,
  rateLimitLowerBoundMs,
  runCalls,
  scaleRules,
  differences,
  type Call,
} from '../../bench/lib/lower-bound';
import { CLASSIC_RATE_LIMITS } from '../../lambdas/bunq/rate-limiter';

const posts = (n: number): Call[] => Array.from({ length: n }, () => ({ method: 'POST', route: IP_LIST_ROUTE }));

describe('pagesFor', () => {
  it('counts bunq pages of 200, at least one', () => {
    expect(pagesFor(0)).toBe(1);
    expect(pagesFor(200)).toBe(1);
    expect(pagesFor(201)).toBe(2);
    expect(pagesFor(1000)).toBe(5);
    expect(() => pagesFor(-1)).toThrow(/whole number/);
  });
});

describe('minimumCalls', () => {
  it('is one read per page and one write per difference; the verifying read only with deactivations', () => {
    expect(minimumCalls({ entriesBefore: 5, adds: 0, reactivations: 0, deactivations: 0 })).toEqual({ reads: 1, writes: 0, readsWithVerify: 1 });
    expect(minimumCalls({ entriesBefore: 1000, adds: 0, reactivations: 0, deactivations: 0 })).toEqual({ reads: 5, writes: 0, readsWithVerify: 5 });
    expect(minimumCalls({ entriesBefore: 10, adds: 30, reactivations: 10, deactivations: 10 })).toEqual({ reads: 1, writes: 50, readsWithVerify: 2 });
    // The verifying read lists the entries added by this run too.
    expect(minimumCalls({ entriesBefore: 190, adds: 20, reactivations: 0, deactivations: 1 })).toEqual({ reads: 1, writes: 21, readsWithVerify: 3 });
  });

  it('refuses negative or fractional counts', () => {
    expect(() => minimumCalls({ entriesBefore: 1, adds: -1, reactivations: 0, deactivations: 0 })).toThrow(/adds/);
  });
});

describe('rateLimitLowerBoundMs', () => {
  it('matches floor((n − 1) / limit) × window for one bucket (POST 5 per 3 s)', () => {
    expect(rateLimitLowerBoundMs(posts(1))).toBe(0);
    expect(rateLimitLowerBoundMs(posts(5))).toBe(0);
    expect(rateLimitLowerBoundMs(posts(6))).toBe(3000);
    expect(rateLimitLowerBoundMs(posts(10))).toBe(3000);
    expect(rateLimitLowerBoundMs(posts(50))).toBe(27_000);
  });

  it('adds the waits of sequential phases in different buckets', () => {
    // K adds after one read: the read is free, the adds cost floor((K−1)/5) windows.
    expect(rateLimitLowerBoundMs(runCalls({ entriesBefore: 1, adds: 10, reactivations: 0, deactivations: 0 }))).toBe(3000);
    // 4 GETs (3 per 3 s) then 3 PUTs (2 per 3 s): 3 s for the 4th GET, then the 3rd PUT 3 s later.
    const calls: Call[] = [
      ...Array.from({ length: 4 }, (): Call => ({ method: 'GET', route: IP_LIST_ROUTE })),
      ...Array.from({ length: 3 }, (): Call => ({ method: 'PUT', route: `${IP_LIST_ROUTE}/{id}` })),
    ];
    expect(rateLimitLowerBoundMs(calls)).toBe(6000);
  });

  it('follows the table it is given (scaled windows for --quick)', () => {
    const quick = scaleRules(CLASSIC_RATE_LIMITS, 0.1);
    expect(rateLimitLowerBoundMs(posts(50), quick)).toBe(2700);
    expect(() => scaleRules(CLASSIC_RATE_LIMITS, 0)).toThrow(/scale factor/);
  });

  it('orders a run as read, adds, re-activations, verifying read, deactivations', () => {
    const calls = runCalls({ entriesBefore: 1, adds: 1, reactivations: 1, deactivations: 1 });
    expect(calls.map((c) => c.method)).toEqual(['GET', 'POST', 'PUT', 'GET', 'PUT']);
  });
});

describe('differences (the oracle the call counts are compared with)', () => {
  it('counts adds, re-activations, undesired and duplicate deactivations; ignores `*` and INACTIVE history', () => {
    const shape = differences(
      ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'],
      [
        { ip: '10.0.0.1', status: 'ACTIVE' },
        { ip: '10.0.0.1', status: 'ACTIVE' }, // duplicate → 1 deactivation
        { ip: '10.0.0.1', status: 'INACTIVE' }, // history, left alone
        { ip: '10.0.0.2', status: 'INACTIVE' }, // → re-activation
        { ip: '10.0.0.9', status: 'ACTIVE' }, // undesired → deactivation
        { ip: '10.0.0.8', status: 'INACTIVE' }, // undesired but already inactive
        { ip: '*', status: 'ACTIVE' }, // never ours
      ],
    );
    // 10.0.0.3 and 10.0.0.4 are missing.
    expect(shape).toEqual({ entriesBefore: 7, adds: 2, reactivations: 1, deactivations: 2 });
  });
});
