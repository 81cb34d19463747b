/**
 * Client-side limiter for bunq's per-method, per-endpoint request limits (bunq-api.md §7). Rolling
 * window: at most `limit` requests start within any `windowMs`. A burst is spread over windows,
 * never dropped. Driven by a Clock so tests run bunq's 3 s and 30 s windows instantly, and shareable:
 * clients that act from the same IP should be given the same limiter instance.
 */
import { systemClock, type Clock } from '../shared/clock';
import type { HttpMethod } from './transport';

export interface RateLimitRule {
  method: HttpMethod;
  /** Route pattern (e.g. "/v1/session-server"); omitted = every route of this method. */
  route?: string;
  limit: number;
  windowMs: number;
}

/** bunq's classic table: GET 3, POST 5, PUT 2, DELETE 5 per 3 s; POST /session-server 1 per 30 s. */
export const CLASSIC_RATE_LIMITS: readonly RateLimitRule[] = [
  { method: 'POST', route: '/v1/session-server', limit: 1, windowMs: 30_000 },
  { method: 'GET', limit: 3, windowMs: 3_000 },
  { method: 'POST', limit: 5, windowMs: 3_000 },
  { method: 'PUT', limit: 2, windowMs: 3_000 },
  { method: 'DELETE', limit: 5, windowMs: 3_000 },
];

export interface RateLimiterOptions {
  rules?: readonly RateLimitRule[];
  clock?: Clock;
  /**
   * Extra spacing past each window edge: our clock and bunq's differ and requests take time in
   * flight, so starting exactly on the edge would risk a 429.
   */
  marginMs?: number;
}

/**
 * 150 ms covers the jitter between two requests' flight times to bunq; a larger margin is paid once
 * per window (250 ms cost 8% of every 3 s window in `npm run bench`), and a 429 that slips through
 * anyway is retried after the window, never surfaced.
 */
export const DEFAULT_RATE_LIMIT_MARGIN_MS = 150;

export class RateLimiter {
  private readonly rules: readonly RateLimitRule[];
  private readonly clock: Clock;
  private readonly marginMs: number;
  /** Per bucket, the start times handed out most recently (at most `limit` of them, ascending). */
  private readonly slots = new Map<string, number[]>();

  constructor(options: RateLimiterOptions = {}) {
    const rules = options.rules ?? CLASSIC_RATE_LIMITS;
    for (const rule of rules) {
      if (!Number.isInteger(rule.limit) || rule.limit < 1) {
        throw new Error(`rate limit for ${rule.method} ${rule.route ?? '*'} must be a positive integer`);
      }
      if (!Number.isFinite(rule.windowMs) || rule.windowMs <= 0) {
        throw new Error(`rate limit window for ${rule.method} ${rule.route ?? '*'} must be positive`);
      }
    }
    this.rules = rules;
    this.clock = options.clock ?? systemClock;
    this.marginMs = options.marginMs ?? DEFAULT_RATE_LIMIT_MARGIN_MS;
    if (!(this.marginMs >= 0)) throw new Error('rate limit margin must be >= 0');
  }

  ruleFor(method: HttpMethod, route: string): RateLimitRule | undefined {
    return (
      this.rules.find((r) => r.method === method && r.route === route) ??
      this.rules.find((r) => r.method === method && r.route === undefined)
    );
  }

  /**
   * Resolves when a request to `method route` may start; returns how long it waited. The slot is
   * reserved synchronously, so concurrent callers (also from other clients sharing this limiter)
   * get distinct slots without a lock.
   */
  async acquire(method: HttpMethod, route: string): Promise<number> {
    return (await this.acquireBefore(method, route, Number.POSITIVE_INFINITY)) ?? 0;
  }

  /**
   * As acquire, unless the request could only start at or after `notAfter` (epoch ms on the
   * clock): then nothing is reserved and it resolves to null at once, without waiting.
   */
  async acquireBefore(method: HttpMethod, route: string, notAfter: number): Promise<number | null> {
    const rule = this.ruleFor(method, route);
    if (rule === undefined) return this.clock.now() >= notAfter ? null : 0;
    const key = `${method} ${route}`;
    const now = this.clock.now();
    const taken = this.slots.get(key) ?? [];
    const oldestInWindow = taken.length >= rule.limit ? taken[taken.length - rule.limit] : undefined;
    const start = oldestInWindow === undefined ? now : Math.max(now, oldestInWindow + rule.windowMs + this.marginMs);
    const last = taken[taken.length - 1];
    const slot = last !== undefined && last > start ? last : start;
    if (slot >= notAfter) return null;
    taken.push(slot);
    if (taken.length > rule.limit) taken.splice(0, taken.length - rule.limit);
    this.slots.set(key, taken);
    const wait = slot - now;
    if (wait > 0) await this.clock.sleep(wait);
    return wait;
  }
}
