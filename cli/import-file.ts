/**
 * Parses an import file into desired-IP inputs, all or nothing: every line is checked and every
 * problem reported before anything is written. Formats: a JSON array (of IP strings or objects
 * `{ip, note?, for?, until?}`) or text, one `IP [note…]` per line with `#` comments. Pure.
 */
import { validateIpv4 } from '../lambdas/core';
import type { DesiredIpInput } from './adapters/desired-writer';
import { CliError } from './errors';
import { expiresAtFrom } from './expiry';

interface RawLine {
  where: string;
  ip: unknown;
  note?: unknown;
  for?: unknown;
  until?: unknown;
  /** What is wrong with the entry's shape; checked before its values. */
  shapeProblem?: string;
}

const JSON_KEYS: ReadonlySet<string> = new Set(['ip', 'note', 'for', 'until']);

/**
 * A key we do not read must not be dropped silently: `"expiresAt": …` or a misspelt `"untill"`
 * would otherwise turn a temporary entry into a permanent one.
 */
function shapeProblemOf(o: Record<string, unknown>): string | undefined {
  const unknown = Object.keys(o).filter((k) => !JSON_KEYS.has(k));
  if (unknown.includes('expiresAt')) {
    return 'key "expiresAt" is not accepted: give "for" (e.g. "8h") or "until" (an ISO time) instead';
  }
  if (unknown.length > 0) {
    return `unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}: an entry takes only "ip", "note", "for" and "until"`;
  }
  for (const key of ['for', 'until'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'string') {
      return `"${key}" must be text (e.g. ${key === 'for' ? '"8h"' : '"2026-01-31T18:00Z"'}), got ${JSON.stringify(o[key])}`;
    }
  }
  return undefined;
}

function rawLines(text: string): RawLine[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      throw new CliError(`import refused: the file looks like JSON but does not parse: ${(err as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw new CliError('import refused: a JSON import must be an array of IPs or {ip, note} objects');
    return parsed.map((v: unknown, i) => {
      const where = `item ${i + 1}`;
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        const o = v as Record<string, unknown>;
        const shapeProblem = shapeProblemOf(o);
        return { where, ip: o.ip, note: o.note, for: o.for, until: o.until, ...(shapeProblem !== undefined ? { shapeProblem } : {}) };
      }
      return { where, ip: v };
    });
  }
  const out: RawLine[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const content = line.replace(/#.*$/, '').trim();
    if (content === '') return;
    const [ip = '', ...rest] = content.split(/\s+/);
    out.push({ where: `line ${i + 1}`, ip, ...(rest.length > 0 ? { note: rest.join(' ') } : {}) });
  });
  return out;
}

const MAX_SHOWN_PROBLEMS = 5;

export function parseImportFile(text: string, nowMs: number): DesiredIpInput[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const inputs: DesiredIpInput[] = [];
  for (const line of rawLines(text)) {
    if (line.shapeProblem !== undefined) {
      problems.push(`${line.where}: ${line.shapeProblem}`);
      continue;
    }
    const checked = validateIpv4(line.ip);
    if (!checked.ok) {
      problems.push(`${line.where}: ${JSON.stringify(line.ip)}: ${checked.reason}`);
      continue;
    }
    const earlier = seen.get(checked.ip);
    if (earlier !== undefined) {
      problems.push(`${line.where}: ${checked.ip} is listed twice (also ${earlier})`);
      continue;
    }
    seen.set(checked.ip, line.where);
    if (line.note !== undefined && typeof line.note !== 'string') {
      problems.push(`${line.where}: note must be text`);
      continue;
    }
    const input: DesiredIpInput = { ip: checked.ip };
    if (typeof line.note === 'string' && line.note.trim() !== '') input.note = line.note.trim();
    try {
      const expiresAt = expiresAtFrom(
        {
          ...(typeof line.for === 'string' ? { for: line.for } : {}),
          ...(typeof line.until === 'string' ? { until: line.until } : {}),
        },
        nowMs,
      );
      if (expiresAt !== undefined) input.expiresAt = expiresAt;
    } catch (err) {
      problems.push(`${line.where}: ${(err as Error).message}`);
      continue;
    }
    inputs.push(input);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_SHOWN_PROBLEMS).join('; ');
    const more = problems.length > MAX_SHOWN_PROBLEMS ? `; and ${problems.length - MAX_SHOWN_PROBLEMS} more` : '';
    throw new CliError(`import refused, nothing written: ${shown}${more}`);
  }
  if (inputs.length === 0) throw new CliError('import refused: the file lists no IP addresses');
  return inputs;
}
