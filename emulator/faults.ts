/**
 * Scripted failures: a rule matches calls by method and route pattern and fires on the nth matching
 * call (counted from when it was added) and the `times - 1` calls after it.
 */
export type Fault =
  | { type: 'status'; status: number; description?: string }
  | { type: 'delay'; ms: number }
  | { type: 'drop' }
  | { type: 'bad-signature' }
  | { type: 'no-signature' }
  | { type: 'garbage-body' }
  /** What a load balancer in front of bunq sends when bunq is down: an unsigned HTML 5xx. */
  | { type: 'gateway-error'; status: number }
  | { type: 'apply-then-status'; status: number }
  | { type: 'apply-then-drop' }
  | { type: 'apply-then-delay'; ms: number };

export interface FaultRule {
  method?: string;
  /** A route pattern from ROUTES, e.g. '/v1/user/{id}/credential-password-ip/{id}/ip'. */
  route?: string;
  /** 1-based; default 1. */
  nth?: number;
  /** Default 1; Infinity = every matching call from nth on. */
  times?: number;
  fault: Fault;
}

interface ArmedRule {
  rule: FaultRule;
  nth: number;
  times: number;
  seen: number;
}

export class FaultInjector {
  private rules: ArmedRule[] = [];

  add(rule: FaultRule): void {
    const nth = rule.nth ?? 1;
    const times = rule.times ?? 1;
    if (!Number.isInteger(nth) || nth < 1) throw new Error(`fault rule nth must be an integer >= 1, got ${nth}`);
    if (!(times === Infinity || (Number.isInteger(times) && times >= 1))) {
      throw new Error(`fault rule times must be an integer >= 1 or Infinity, got ${times}`);
    }
    this.rules.push({ rule, nth, times, seen: 0 });
  }

  clear(): void {
    this.rules = [];
  }

  /** Rules that still have calls to fire on. */
  get pending(): number {
    return this.rules.length;
  }

  /**
   * Advances every matching rule's counter and returns the fault of the first (oldest) rule whose
   * window covers this call. Exhausted rules are dropped.
   */
  take(method: string, route: string | null): Fault | undefined {
    let chosen: Fault | undefined;
    for (const armed of this.rules) {
      const { rule } = armed;
      if (rule.method !== undefined && rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (rule.route !== undefined && rule.route !== route) continue;
      armed.seen += 1;
      if (chosen === undefined && armed.seen >= armed.nth && armed.seen < armed.nth + armed.times) {
        chosen = rule.fault;
      }
    }
    this.rules = this.rules.filter((a) => a.seen < a.nth + a.times - 1);
    return chosen;
  }
}

export function describeFault(fault: Fault): string {
  switch (fault.type) {
    case 'status':
    case 'apply-then-status':
    case 'gateway-error':
      return `${fault.type}:${fault.status}`;
    case 'delay':
    case 'apply-then-delay':
      return `${fault.type}:${fault.ms}ms`;
    default:
      return fault.type;
  }
}
