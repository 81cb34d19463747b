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
        return { where, ip: o.ip, note: o.note, for: o.for, until: o.until };
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
