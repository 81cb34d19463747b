import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*|^import\s+)['"]([^'"]+)['"]/gm)].map((m) => m[1] as string);
}

// The infrastructure and the runtime meet only at lambdas/shared/metric-names.ts.
describe('module boundaries', () => {
  it('lib/ and bin/app.ts import nothing from lambdas/ but the metric-names contract', () => {
    const files = [...tsFiles(join(ROOT, 'lib')), join(ROOT, 'bin', 'app.ts')];
    expect(files.length).toBeGreaterThan(3);
    const offending = files.flatMap((f) =>
      importsOf(f)
        .filter((spec) => spec.includes('lambdas/') && !spec.endsWith('lambdas/shared/metric-names'))
        .map((spec) => `${relative(ROOT, f)} imports ${spec}`),
    );
    expect(offending).toEqual([]);
  });

  it('lambdas/ imports neither lib/ nor the CDK', () => {
    const offending = tsFiles(join(ROOT, 'lambdas')).flatMap((f) =>
      importsOf(f)
        .filter((spec) => /(^|\/)lib\//.test(spec) && spec.startsWith('.') || spec.startsWith('aws-cdk-lib') || spec === 'constructs' || spec === 'cdk-nag')
        .map((spec) => `${relative(ROOT, f)} imports ${spec}`),
    );
    expect(offending).toEqual([]);
  });
});
