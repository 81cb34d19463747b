import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');
const FIXTURE = join(__dirname, 'fixtures', 'layers');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** Runs the layer linter (the binary `npm run lint:layers` runs) with the repository's rules on `dir`. */
function depcruise(dir: string, args: string[]): { status: number | null; stdout: string } {
  const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'depcruise'), ['--config', CONFIG, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  if (r.stdout === '') throw new Error(`depcruise printed nothing: ${r.stderr}`);
  return { status: r.status, stdout: r.stdout };
}

/** The violations as data (the JSON reporter), and the exit status of the reporter CI uses (`err`). */
function cruise(dir: string, targets: string[]): { status: number | null; violations: Violation[] } {
  const report = JSON.parse(depcruise(dir, ['--output-type', 'json', ...targets]).stdout) as { summary: { violations: Violation[] } };
  return { status: depcruise(dir, ['--output-type', 'err', ...targets]).status, violations: report.summary.violations };
}

// Package imports resolve to wherever node_modules really is (a symlinked checkout's too).
const shown = (v: Violation): string => `${v.rule.name}: ${v.from} → ${v.to.replace(/^.*node_modules\//, 'node_modules/')}`;

describe('layer linter (.dependency-cruiser.cjs)', () => {
  // Each rule must catch its fixture import, and no allowed import (type-only core imports from
  // bunq, handlers wiring service and adapters, lib/ reading lambdas/shared) may be reported.
  it('reports exactly the fixture tree\'s bad imports, by rule, and fails', () => {
    const { status, violations } = cruise(FIXTURE, ['lambdas', 'lib', 'bin/app.ts', 'cli']);
    expect(status).not.toBe(0);
    expect(violations.map(shown).sort()).toEqual([
      'adapters-below-service: lambdas/aws/bad-knows-service.ts → lambdas/service/service.ts',
      'bunq-below-adapters: lambdas/bunq/bad-knows-adapter.ts → lambdas/aws/adapter.ts',
      'bunq-uses-core-types-only: lambdas/bunq/bad-runs-core.ts → lambdas/core/pure.ts',
      'core-is-pure: lambdas/core/bad-io.ts → fs',
      'handlers-are-entry-points: cli/bad-main.ts → lambdas/handlers/handler.ts',
      'handlers-are-entry-points: lambdas/service/bad-knows-handler.ts → lambdas/handlers/handler.ts',
      'infra-uses-shared-contract-only: lib/bad-stack.ts → lambdas/service/service.ts',
      'no-circular: lambdas/handlers/bad-circle-a.ts → lambdas/handlers/bad-circle-b.ts',
      'not-to-unresolvable: lambdas/handlers/bad-unresolvable.ts → ./no-such-module',
      'runtime-not-infra: lambdas/handlers/bad-imports-cdk.ts → node_modules/aws-cdk-lib/index.js',
      'service-below-handlers: lambdas/service/bad-knows-handler.ts → lambdas/handlers/handler.ts',
      'shared-is-a-leaf: lambdas/shared/bad-leaky.ts → lambdas/core/port.ts',
    ]);
  }, 60_000);

  it('has a fixture violation for every rule it defines (a new rule needs one)', async () => {
    const config = (await import(CONFIG)) as { default: { forbidden: { name: string }[] } };
    const names = config.default.forbidden.map((r) => r.name).sort();
    expect(names.length).toBeGreaterThanOrEqual(10);
    const fired = new Set(cruise(FIXTURE, ['lambdas', 'lib', 'bin/app.ts', 'cli']).violations.map((v) => v.rule.name));
    expect(names.filter((n) => !fired.has(n))).toEqual([]);
  }, 60_000);

  it('passes the fixture tree\'s allowed imports alone', () => {
    // What they reach: core/pure + port, bunq/client (core types only), aws/adapter, shared, lib/stack.
    const ok = ['lambdas/handlers/handler.ts', 'bin/app.ts'];
    const { status, violations } = cruise(FIXTURE, ok);
    expect(violations.map(shown)).toEqual([]);
    expect(status).toBe(0);
  }, 60_000);
});
