/**
 * Temporary access: `--for 8h` or `--until 2026-03-01T18:00Z` → the item's `expiresAt` (epoch
 * seconds, as the DesiredIps table's TTL attribute wants). Pure; `now` is passed in.
 */
import { CliError, ExitCode } from './errors';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const DURATION = /^(\d+[smhdw])+$/;
/** A year is long enough for "temporary"; more is almost certainly a typo (e.g. 8000h for 8h). */
export const MAX_TEMPORARY_SECONDS = 366 * 86_400;

export function parseDuration(text: string): number {
  const compact = text.trim().toLowerCase();
  if (!DURATION.test(compact)) {
    throw new CliError(
      `--for ${JSON.stringify(text)} is not a duration: use a number with a unit s, m, h, d or w, e.g. 8h, 90m, 1d12h`,
      ExitCode.Usage,
    );
  }
  let seconds = 0;
  for (const [, amount, unit] of compact.matchAll(/(\d+)([smhdw])/g)) {
    seconds += Number(amount) * (UNIT_SECONDS[unit ?? 's'] ?? 1);
  }
  return seconds;
}

/** Accepts ISO 8601 with a zone (Z or ±hh:mm); a bare local time would depend on the laptop's zone. */
export function parseUntil(text: string): number {
  const trimmed = text.trim();
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed) || /^\d{4}-\d{2}-\d{2}$/.test(trimmed);
  const ms = Date.parse(trimmed);
  if (!hasZone || Number.isNaN(ms)) {
    throw new CliError(
      `--until ${JSON.stringify(text)} is not an ISO 8601 time with a zone, e.g. 2026-03-01T18:00Z or 2026-03-01T19:00+01:00`,
      ExitCode.Usage,
    );
  }
  return Math.floor(ms / 1000);
}

/**
 * @returns epoch seconds, or undefined for a permanent entry.
 */
export function expiresAtFrom(options: { for?: string; until?: string }, nowMs: number): number | undefined {
  if (options.for !== undefined && options.until !== undefined) {
    throw new CliError('give either --for or --until, not both', ExitCode.Usage);
  }
  const nowSeconds = Math.floor(nowMs / 1000);
  let expiresAt: number | undefined;
  if (options.for !== undefined) {
    const seconds = parseDuration(options.for);
    if (seconds <= 0) throw new CliError('--for must be longer than zero', ExitCode.Usage);
    expiresAt = nowSeconds + seconds;
  } else if (options.until !== undefined) {
    expiresAt = parseUntil(options.until);
    if (expiresAt <= nowSeconds) {
      throw new CliError(`--until ${options.until} is in the past`, ExitCode.Usage);
    }
  }
  if (expiresAt !== undefined && expiresAt - nowSeconds > MAX_TEMPORARY_SECONDS) {
    throw new CliError('temporary access is limited to 366 days; leave out --for/--until for a permanent entry', ExitCode.Usage);
  }
  return expiresAt;
}
