import type { Clock } from '../lambdas/shared/clock';
import { parseProfiles, type EmulatorProfile } from './profiles';
import { DEFAULT_RATE_LIMITS, type RateLimitRule } from './rate-limit';

export interface EmulatorOptions {
  /** Default '127.0.0.1'. The emulator is for tests and demos: keep it on loopback. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Drives rate-limit windows, session expiry and timestamps. Fault delays use real timers. */
  clock?: Clock;
  /** Default: bunq's classic table (DEFAULT_RATE_LIMITS); false disables rate limiting. */
  rateLimits?: RateLimitRule[] | false;
  /** session_timeout reported for new sessions; default 3600. */
  sessionTimeoutSeconds?: number;
  /**
   * The answers to bunq's open questions to play instead of the defaults (profiles.ts); they combine.
   * E.g. ['reactivation-refused', 'fixed-session-expiry'].
   */
  profiles?: readonly EmulatorProfile[];
  /** Default true. */
  enforceIpWhitelist?: boolean;
  /** Maps the TCP peer address (with "::ffff:" stripped) to the caller IP bunq would see. */
  mapCallerIp?: (peerAddress: string) => string;
  /** Deterministic ids, tokens, API keys and uuids when given. */
  seed?: number;
}

/** The switches, changeable while the emulator runs (new values apply to the next request). */
export interface MutableEmulatorConfig {
  rateLimits: RateLimitRule[] | false;
  sessionTimeoutSeconds: number;
  /** The active profiles; replace or edit the set to switch at run time. */
  profiles: Set<EmulatorProfile>;
  enforceIpWhitelist: boolean;
  mapCallerIp: ((peerAddress: string) => string) | undefined;
}

export function resolveConfig(options: EmulatorOptions): MutableEmulatorConfig {
  const timeout = options.sessionTimeoutSeconds ?? 3600;
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw new Error(`sessionTimeoutSeconds must be a positive number, got ${timeout}`);
  }
  if (options.rateLimits) {
    for (const rule of options.rateLimits) {
      if (!(Number.isInteger(rule.limit) && rule.limit >= 1 && rule.windowMs > 0)) {
        throw new Error(`invalid rate-limit rule ${JSON.stringify(rule)}: limit must be an integer >= 1 and windowMs > 0`);
      }
    }
  }
  return {
    rateLimits: options.rateLimits === undefined ? DEFAULT_RATE_LIMITS.map((r) => ({ ...r })) : options.rateLimits,
    sessionTimeoutSeconds: timeout,
    profiles: new Set(parseProfiles(options.profiles ?? [])),
    enforceIpWhitelist: options.enforceIpWhitelist ?? true,
    mapCallerIp: options.mapCallerIp,
  };
}

export function hasProfile(config: Pick<MutableEmulatorConfig, 'profiles'>, profile: EmulatorProfile): boolean {
  return config.profiles.has(profile);
}
