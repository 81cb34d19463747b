import { describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock';
import { CLASSIC_RATE_LIMITS, RateLimiter } from '../../lambdas/bunq/rate-limiter';
import { DEFAULT_RETRY, backoffMs, verdictFor } from '../../lambdas/bunq/retry-policy';
import { rateWindowMs } from '../../lambdas/bunq/api-call';
import { ERROR_KINDS, isPortErrorKind } from '../../lambdas/core/errors';

const IP = '/v1/user/{id}/credential-password-ip/{id}/ip/{id}';

/** Start times of `n` sequential acquisitions, relative to the clock's start. */
async function startTimes(limiter: RateLimiter, clock: ManualClock, method: 'GET' | 'PUT' | 'POST', route: string, n: number): Promise<number[]> {
  const t0 = clock.now();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    await limiter.acquire(method, route);
    out.push(clock.now() - t0);
  }
  return out;
}

/** The most requests that started within any `windowMs` (rolling, window end exclusive). */
function maxInWindow(times: number[], windowMs: number): number {
  return Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + windowMs).length));
}

describe('RateLimiter (classic table, ManualClock)', () => {
  it('spreads a burst of 10 PUTs: at most 2 start in any 3 s, none dropped', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock, marginMs: 0 });
    const times = await startTimes(limiter, clock, 'PUT', IP, 10);
    expect(times).toEqual([0, 0, 3000, 3000, 6000, 6000, 9000, 9000, 12000, 12000]);
    expect(maxInWindow(times, 3000)).toBe(2);
  });

  it('lets 3 GETs and 5 POSTs through at once, then waits for the window', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock, marginMs: 100 });
    expect(await startTimes(limiter, clock, 'GET', '/v1/user/{id}', 4)).toEqual([0, 0, 0, 3100]);
    const clock2 = new ManualClock();
    const limiter2 = new RateLimiter({ clock: clock2, marginMs: 0 });
    expect(await startTimes(limiter2, clock2, 'POST', '/v1/user/{id}/credential-password-ip/{id}/ip', 6)).toEqual([0, 0, 0, 0, 0, 3000]);
  });

  it('allows one POST /session-server per 30 s, separately from other POSTs', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock, marginMs: 0 });
    expect(await limiter.acquire('POST', '/v1/session-server')).toBe(0);
    expect(await limiter.acquire('POST', '/v1/user/{id}/credential-password-ip/{id}/ip')).toBe(0);
    expect(await limiter.acquire('POST', '/v1/session-server')).toBe(30_000);
  });

  it('keeps separate buckets per endpoint and per method', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    for (let i = 0; i < 3; i++) await limiter.acquire('GET', '/v1/a');
    expect(await limiter.acquire('GET', '/v1/b')).toBe(0);
    expect(await limiter.acquire('PUT', '/v1/a')).toBe(0);
    expect(clock.now()).toBe(new ManualClock().now());
  });

  it('does not wait once the window has passed on its own', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock, marginMs: 0 });
    await startTimes(limiter, clock, 'PUT', IP, 2);
    clock.advance(3000);
    expect(await limiter.acquire('PUT', IP)).toBe(0);
  });

  it('gives concurrent callers distinct slots (shared between clients)', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock, marginMs: 0 });
    const t0 = clock.now();
    const waits = await Promise.all(Array.from({ length: 6 }, () => limiter.acquire('PUT', IP)));
    // A ManualClock sleep moves time for everyone at once, so the 4th and 6th callers find their
    // slot (3 s, 6 s) already reached: slots 0, 0, 3000, 3000, 6000, 6000 in absolute time.
    expect(waits).toEqual([0, 0, 3000, 0, 3000, 0]);
    expect(clock.now() - t0).toBe(6000);
  });

  it('takes a custom table, and does not limit methods it does not list', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock, marginMs: 0, rules: [{ method: 'GET', limit: 1, windowMs: 500 }] });
    expect(await startTimes(limiter, clock, 'GET', '/v1/x', 3)).toEqual([0, 500, 1000]);
    expect(await startTimes(limiter, clock, 'PUT', '/v1/x', 5)).toEqual([0, 0, 0, 0, 0]);
    expect(limiter.ruleFor('DELETE', '/v1/x')).toBeUndefined();
    expect(new RateLimiter().ruleFor('DELETE', '/v1/session/{id}')).toEqual(CLASSIC_RATE_LIMITS.find((r) => r.method === 'DELETE'));
  });

  it('rejects nonsensical rules with a specific message', () => {
    expect(() => new RateLimiter({ rules: [{ method: 'GET', limit: 0, windowMs: 1 }] })).toThrow('rate limit for GET * must be a positive integer');
    expect(() => new RateLimiter({ rules: [{ method: 'PUT', route: '/v1/x', limit: 1, windowMs: 0 }] })).toThrow('window for PUT /v1/x must be positive');
    expect(() => new RateLimiter({ marginMs: -1 })).toThrow('margin');
  });
});

describe('retry policy', () => {
  it('retries 429 and unsent requests for every method', () => {
    expect(verdictFor({ type: 'reply', kind: 'rate-limited' }, false)).toBe('retry');
    expect(verdictFor({ type: 'transport', phase: 'not-sent' }, false)).toBe('retry');
  });

  it('retries 5xx, maintenance and sent-but-failed requests only when repeatable', () => {
    for (const kind of ['server-error', 'maintenance'] as const) {
      expect(verdictFor({ type: 'reply', kind }, true)).toBe('retry');
      expect(verdictFor({ type: 'reply', kind }, false)).toBe('outcome-unknown');
    }
    expect(verdictFor({ type: 'transport', phase: 'sent' }, true)).toBe('retry');
    expect(verdictFor({ type: 'transport', phase: 'sent' }, false)).toBe('outcome-unknown');
  });

  it('never repeats a call whose kind the error list calls terminal (the client is the one retry layer)', () => {
    const terminal = Object.entries(ERROR_KINDS).filter(([kind, d]) => d.terminal && isPortErrorKind(kind)).map(([kind]) => kind).filter(isPortErrorKind);
    expect(terminal.length).toBeGreaterThan(0);
    for (const kind of terminal) expect(verdictFor({ type: 'reply', kind }, true), kind).not.toBe('retry');
  });

  it('never retries refusals', () => {
    for (const kind of ['bad-request', 'not-found', 'credentials-rejected', 'session-expired', 'forbidden', 'signature-invalid'] as const) {
      expect(verdictFor({ type: 'reply', kind }, true)).toBe('fail');
    }
  });

  it('backs off exponentially with equal jitter, capped', () => {
    const opts = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, false, opts, () => 0))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, false, opts, () => 0.999999))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffMs(1, false, opts, () => 0.5)).toBe(75);
  });

  it('starts a 429 backoff at one rate window', () => {
    expect(backoffMs(1, true, DEFAULT_RETRY, () => 0)).toBe(1500);
    expect(backoffMs(2, true, DEFAULT_RETRY, () => 1)).toBe(6000);
  });

  it('clamps a misbehaving random source into [0, 1]', () => {
    const opts = { ...DEFAULT_RETRY, baseDelayMs: 100 };
    expect(backoffMs(1, false, opts, () => -5)).toBe(50);
    expect(backoffMs(1, false, opts, () => 7)).toBe(100);
  });
});

describe('rateWindowMs (429 text)', () => {
  it('reads bunq\'s "per W second" wording, singular or plural, capped at 60 s', () => {
    expect(rateWindowMs(['Too many requests. You can do a maximum of 3 calls per 3 second to this endpoint.'])).toBe(3000);
    expect(rateWindowMs(['Too many requests. You can do a maximum of 1 calls per 30 seconds to this endpoint.'])).toBe(30_000);
    expect(rateWindowMs(['maximum of 1 call per 86400 seconds'])).toBe(60_000);
    expect(rateWindowMs(['Too many requests.'])).toBeUndefined();
    expect(rateWindowMs([])).toBeUndefined();
  });
});
