import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../cli/main';

const ROOT = join(__dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`## ${heading}`);
  expect(start, `section "${heading}"`).toBeGreaterThanOrEqual(0);
  const next = markdown.indexOf('\n## ', start + 3);
  return markdown.slice(start, next === -1 ? undefined : next);
}

describe('operator documentation', () => {
  const readme = read('README.md');

  it('keeps the quick start to exactly the two commands', () => {
    const commands = section(readme, 'Quick start')
      .split('```')[1]
      ?.split('\n')
      .map((l) => l.replace(/#.*$/, '').trim())
      .filter((l) => l !== '' && l !== 'sh');
    expect(commands).toEqual(['npm ci && npm start', 'npm test']);
  });

  it('explains every alarm the stack creates, and no other', () => {
    const created = [...read('lib/monitoring.ts').matchAll(/\bname: '(\w+)'/g)].map((m) => m[1]).sort();
    expect(created.length).toBeGreaterThan(5);
    const documented = [...section(readme, 'Alarms').matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(created);
  });

  it('has a runbook entry for each incident the brief names', () => {
    const runbook = read('docs/runbook.md');
    for (const heading of ['bunq rejects our IP', 'Session broken', 'DLQ not empty', 'Guard tripped', '`*` found']) {
      expect(runbook).toContain(`## ${heading}`);
    }
  });

  it('mentions every CLI command in the README', () => {
    for (const c of COMMANDS) expect(readme).toContain(`bunq-ip ${c.path.join(' ')}`);
  });
});
