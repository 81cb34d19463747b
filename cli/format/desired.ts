/**
 * The desired entries of one credential as the reconciler will judge them: each item with its
 * verdict (desired, expired, invalid and why). Pure: state and time in, rows and text out.
 */
import type { CredentialDesiredState } from '../../lambdas/aws/desired-store';
import { compareIpv4, normaliseDesired } from '../../lambdas/core';
import { plainStyle, type Style } from '../style';

export interface DesiredRow {
  entry: string;
  ip: unknown;
  note: string | null;
  expiresAt: number | null;
  verdict: 'desired' | 'expired' | 'invalid';
  reason: string | null;
}

export interface DesiredView {
  credential: string;
  configured: boolean;
  config: Record<string, unknown> | null;
  entries: DesiredRow[];
  /** Valid, unexpired, de-duplicated IPs: what the reconciler will make ACTIVE. */
  desiredIps: string[];
  unknownEntries: string[];
}

export function desiredView(state: CredentialDesiredState, nowMs: number): DesiredView {
  const judged = normaliseDesired(state.desired, nowMs);
  const invalid = new Map(judged.invalid.map((i) => [i.entry, i.reason]));
  const expired = new Set(judged.expired.map((e) => e.entry));
  const entries = state.desired.map((item): DesiredRow => {
    const expiresAt = typeof item.expiresAt === 'number' ? item.expiresAt : null;
    const reason = invalid.get(item.entry);
    const isExpired = expired.has(item.entry) || (expiresAt !== null && expiresAt * 1000 <= nowMs);
    return {
      entry: item.entry,
      ip: item.ip,
      note: item.note ?? null,
      expiresAt,
      verdict: reason !== undefined ? 'invalid' : isExpired ? 'expired' : 'desired',
      reason: reason ?? null,
    };
  });
  entries.sort((a, b) =>
    typeof a.ip === 'string' && typeof b.ip === 'string' ? compareIpv4(a.ip, b.ip) : a.entry.localeCompare(b.entry),
  );
  return {
    credential: state.credential,
    configured: state.configItem !== null,
    config: state.configItem,
    entries,
    desiredIps: judged.ips,
    unknownEntries: state.unknownEntries,
  };
}

export function formatExpiry(expiresAt: number, nowMs: number): string {
  const left = expiresAt - Math.floor(nowMs / 1000);
  const when = new Date(expiresAt * 1000).toISOString().replace('.000Z', 'Z');
  if (left <= 0) return `expired ${when}`;
  const h = Math.floor(left / 3600);
  const m = Math.floor((left % 3600) / 60);
  return `until ${when} (${h > 0 ? `${h}h` : ''}${m}m left)`;
}

export function renderDesired(view: DesiredView, nowMs: number, style: Style = plainStyle): string {
  const lines: string[] = [];
  const c = view.config;
  lines.push(style.bold(`Credential "${view.credential}"`));
  if (c === null) {
    lines.push(style.yellow('  no config item: this credential is not reconciled (run `bunq-ip bootstrap` first)'));
  } else {
    const protectedIps = Array.isArray(c.protectedIps) || c.protectedIps instanceof Set ? [...(c.protectedIps as Iterable<unknown>)] : [];
    lines.push(
      `  mode ${String(c.mode ?? 'observe (default)')}, max ${String(c.maxDeactivationsPerRun ?? 5)} deactivations per run, ` +
        `protected: ${protectedIps.length > 0 ? protectedIps.map(String).join(', ') : 'none'}`,
    );
    lines.push(`  bunq user ${String(c.userId)}, CredentialPasswordIp ${String(c.credentialPasswordIpId)}, secret ${String(c.secretName)}`);
  }
  lines.push('');
  if (view.entries.length === 0) {
    lines.push('No desired IPs. Add one with: bunq-ip desired add ' + view.credential + ' <ip> --note "why"');
  } else {
    const width = Math.max(...view.entries.map((e) => (typeof e.ip === 'string' ? e.ip.length : e.entry.length)), 7);
    for (const e of view.entries) {
      const ip = (typeof e.ip === 'string' ? e.ip : e.entry).padEnd(width);
      const note = e.note ? `  ${e.note}` : '';
      const expiry = e.expiresAt !== null ? `  ${style.dim(formatExpiry(e.expiresAt, nowMs))}` : '';
      if (e.verdict === 'invalid') lines.push(style.red(`  x ${ip}  INVALID: ${e.reason ?? ''}`) + note);
      else if (e.verdict === 'expired') lines.push(style.dim(`  - ${ip}  expired`) + note + expiry);
      else lines.push(`  ${style.green('+')} ${ip}${note}${expiry}`);
    }
  }
  for (const u of view.unknownEntries) lines.push(style.yellow(`  ? item "${u}" is neither "config" nor "ip#<ip>"; ignored`));
  lines.push('');
  lines.push(`${view.desiredIps.length} desired IP${view.desiredIps.length === 1 ? '' : 's'} in effect.`);
  return lines.join('\n');
}
