import { ROUTES } from './routes';

/**
 * One limit: at most `limit` calls within any `windowMs` (rolling), per caller IP, route pattern
 * and method. A rule with a `route` overrides the method-wide rule for that route.
 */
export interface RateLimitRule {
  method: string;
  /** A route pattern from ROUTES; omitted = every route for this method. */
  route?: string;
  limit: number;
  windowMs: number;
}

/** bunq's classic table (bunq-api.md §7.1); DELETE is undocumented and treated like POST. */
export const DEFAULT_RATE_LIMITS: readonly RateLimitRule[] = [
  { method: 'GET', limit: 3, windowMs: 3000 },
  { method: 'POST', limit: 5, windowMs: 3000 },
  { method: 'PUT', limit: 2, windowMs: 3000 },
  { method: 'DELETE', limit: 5, windowMs: 3000 },
  { method: 'POST', route: ROUTES.sessionServer, limit: 1, windowMs: 30_000 },
];

export function ruleFor(rules: readonly RateLimitRule[], method: string, route: string): RateLimitRule | undefined {
  const m = method.toUpperCase();
  return (
    rules.find((r) => r.method.toUpperCase() === m && r.route === route) ??
    rules.find((r) => r.method.toUpperCase() === m && r.route === undefined)
  );
}

/** Rolling-window counter. Only admitted calls count: a refused call does not extend the wait. */
export class RollingWindowLimiter {
  private readonly hits = new Map<string, number[]>();

  /** Records the call and returns true when admitted; returns false (and records nothing) when over. */
  admit(key: string, rule: RateLimitRule, now: number): boolean {
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - rule.windowMs);
    if (recent.length >= rule.limit) {
      this.hits.set(key, recent);
      return false;
    }
    recent.push(now);
    this.hits.set(key, recent);
    return true;
  }

  /**
   * Profile `slow-instead-of-429`: the earliest time (>= now) at which this call fits the window,
   * recorded as a hit at that time, so calls held at once queue up instead of all going through.
   */
  reserve(key: string, rule: RateLimitRule, now: number): number {
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - rule.windowMs).sort((a, b) => a - b);
    const fits = (t: number): boolean => recent.filter((h) => h > t - rule.windowMs && h <= t).length < rule.limit;
    // Reservations are handed out in arrival order, so no hit lies after the one we reserve.
    const floor = Math.max(now, recent[recent.length - 1] ?? now);
    const at = [floor, ...recent.map((h) => h + rule.windowMs)].filter((t) => t >= floor).sort((a, b) => a - b).find(fits) ?? floor;
    recent.push(at);
    this.hits.set(key, recent);
    return at;
  }
}
