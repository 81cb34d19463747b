import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EGRESS_MODES } from '../../lib/config';
import { synthesize } from './synth';

// cfn-lint checks the synthesized templates against CloudFormation's own resource specification
// (property names and types, allowed values, instance types per region) — what CDK's types do not.
const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
const available = probe.status === 0;
if (!available) {
  process.stderr.write('test/infra/cfn-lint.test.ts: cfn-lint is not installed (pip install cfn-lint); the template lint is SKIPPED\n');
}

interface Finding {
  Level: string;
  Rule: { Id: string };
  Message: string;
}

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!available)(`cfn-lint ${probe.stdout?.trim() ?? ''}`, () => {
  it.each(EGRESS_MODES)('reports no errors on the egress=%s template', (egress) => {
    const { outdir, stack } = synthesize({ egress }, { bundle: false });
    outdirs.push(outdir);
    const template = join(outdir, `${stack.stackName}.template.json`);
    const r = spawnSync('cfn-lint', ['--format', 'json', '--regions', 'eu-west-1', 'us-east-1', '--', template], { encoding: 'utf8', timeout: 120_000 });
    // Exit code bits: 2 errors, 4 warnings, 8 informational; anything above 14 means cfn-lint itself failed.
    expect(r.status, r.stderr).not.toBeNull();
    expect((r.status ?? 0) & ~14, r.stderr).toBe(0);
    const findings = JSON.parse(r.stdout || '[]') as Finding[];
    const errors = findings.filter((f) => f.Level === 'Error').map((f) => `${f.Rule.Id}: ${f.Message}`);
    expect(errors).toEqual([]);
    expect((r.status ?? 0) & 2).toBe(0);
  }, 120_000);
});
