import { describe, expect, it } from 'vitest';
import { createLogger } from '../../lambdas/aws/logger';
import { REDACTED, SecretRedactor } from '../../lambdas/shared/redact';
import { BunqError } from '../../lambdas/bunq/errors';
import { captureStdout } from './emf-capture';
import { sampleContext } from './fixtures';

describe('logger redaction', () => {
  it('never writes a secret, whether under a secret key, inside a message or in an error', async () => {
    const ctx = sampleContext();
    const redactor = new SecretRedactor();
    redactor.register(ctx.apiKey, ctx.installationToken, ctx.session?.token);
    const logger = createLogger(redactor);
    const { lines } = await captureStdout(async () => {
      logger.info(`calling with ${ctx.apiKey}`, { context: ctx });
      logger.error('run failed', {
        error: new BunqError(`rejected token ${ctx.session?.token ?? ''}`, { kind: 'credentials-rejected', status: 400 }),
        headers: { 'X-Bunq-Client-Authentication': 'abc', 'x-bunq-client-signature': 'def' },
        secretName: 'bunq-ip-reconciler/prod',
      });
      logger.warn('raw', new Error(`pem ${ctx.clientPrivateKeyPem}`));
    });
    const out = lines.join('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const secret of [ctx.apiKey, ctx.installationToken, ctx.session?.token ?? '', 'PRIVATE KEY', '"abc"', '"def"']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain(REDACTED);
    // What operators need stays readable.
    expect(out).toContain('bunq-ip-reconciler/prod');
    expect(out).toContain('credentials-rejected');
    const first = JSON.parse(lines[0] ?? '{}') as { message: string; context: { userId: number; apiKey: string } };
    expect(first.message).toBe(`calling with ${REDACTED}`);
    expect(first.context.userId).toBe(33);
    expect(first.context.apiKey).toBe(REDACTED);
  });

  it('ignores too-short values so ordinary words survive', () => {
    const r = new SecretRedactor();
    r.register('abc', undefined, null, '');
    expect(r.redactString('abc def')).toBe('abc def');
    expect(r.redact({ token: 'x', nested: [{ apiKey: 'y' }], ok: 1 })).toEqual({ token: REDACTED, nested: [{ apiKey: REDACTED }], ok: 1 });
  });
});
