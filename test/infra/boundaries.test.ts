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

// The infrastructure and the runtime meet only at the contract modules in lambdas/shared/.
const CONTRACTS = ['metric-names', 'env-names', 'event-names', 'service-name', 'table-keys'].map((m) => `lambdas/shared/${m}`);

describe('module boundaries', () => {
  it('lib/ and bin/app.ts import nothing from lambdas/ but the shared contract modules', () => {
    const files = [...tsFiles(join(ROOT, 'lib')), join(ROOT, 'bin', 'app.ts')];
    expect(files.length).toBeGreaterThan(3);
    const offending = files.flatMap((f) =>
      importsOf(f)
        .filter((spec) => spec.includes('lambdas/') && !CONTRACTS.some((c) => spec.endsWith(c)))
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

  it('no handler imports another handler or the all-handlers runtime (no circle; each bundle its own deps)', () => {
    const dir = join(ROOT, 'lambdas', 'handlers');
    const entries = ['fan-out', 'stream-trigger', 'reconcile-worker'];
    const offending = tsFiles(dir)
      .filter((f) => f !== join(dir, 'runtime.ts'))
      .flatMap((f) =>
        importsOf(f)
          .filter((spec) => spec === './runtime' || entries.some((e) => spec === `./${e}` && !f.endsWith(`${e}.ts`)))
          .map((spec) => `${relative(ROOT, f)} imports ${spec}`),
      );
    expect(offending).toEqual([]);
  });

  it('the fan-out and stream-trigger wiring import neither Secrets Manager, EventBridge nor the bunq client', () => {
    const dir = join(ROOT, 'lambdas', 'handlers');
    const offending = ['fan-out-deps.ts', 'stream-deps.ts', 'fan-out.ts', 'stream-trigger.ts'].flatMap((name) =>
      importsOf(join(dir, name))
        .filter((spec) => /client-secrets-manager|client-eventbridge|\.\.\/bunq|context-store|aws\/events|worker-deps/.test(spec))
        .map((spec) => `lambdas/handlers/${name} imports ${spec}`),
    );
    expect(offending).toEqual([]);
  });
});
