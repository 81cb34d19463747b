import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { ContextStore, ContextStoreError, parseBunqContext } from '../../lambdas/aws/context-store';
import { BunqClient } from '../../lambdas/bunq/client';
import { SecretRedactor } from '../../lambdas/shared/redact';
import type { BunqContext, BunqSession } from '../../lambdas/bunq/types';
import { ManualClock } from '../support/manual-clock';
import { sampleContext } from './fixtures';
import { motoClients, uniqueName } from './moto-helpers';

const PREFIX = 'bunq-ip-reconciler/';
const { secrets } = motoClients();

async function createSecret(value: string): Promise<string> {
  const name = `${PREFIX}${uniqueName('ctx')}`;
  await secrets.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  return name;
}

function store(clock = new ManualClock(), redactor = new SecretRedactor()): ContextStore {
  return new ContextStore(secrets, { secretPrefix: PREFIX, clock, redactor, cacheTtlMs: 60_000 });
}

async function currentValue(name: string): Promise<BunqContext> {
  const r = await secrets.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' }));
  return JSON.parse(r.SecretString ?? '') as BunqContext;
}

function session(token: string, expiresAt: string): BunqSession {
  return { id: 99, token, expiresAt, timeoutSeconds: 3600 };
}

describe('context store (Secrets Manager on moto)', () => {
  it('loads and validates a context, and registers its secrets with the redactor', async () => {
    const ctx = sampleContext();
    const name = await createSecret(JSON.stringify(ctx));
    const redactor = new SecretRedactor();
    const loaded = await store(new ManualClock(), redactor).load(name);
    expect(loaded.context).toEqual(ctx);
    expect(loaded.versionId).toMatch(/\S/);
    expect(redactor.redactString(`key ${ctx.apiKey} token ${ctx.session?.token ?? ''}`)).toBe('key [REDACTED] token [REDACTED]');
  });

  it('caches per container until the TTL passes, and invalidate() forces a re-read', async () => {
    const name = await createSecret(JSON.stringify(sampleContext()));
    const clock = new ManualClock();
    const s = store(clock);
    const first = await s.load(name);
    expect(await s.load(name)).toBe(first);
    clock.advance(60_001);
    const second = await s.load(name);
    expect(second).not.toBe(first);
    expect(second).toEqual(first);
    s.invalidate(name);
    expect(await s.load(name)).not.toBe(second);
  });

  it('refuses a secret name outside the prefix without calling AWS', async () => {
    await expect(store().load('other/prod')).rejects.toMatchObject({ code: 'secret-name-refused' });
    await expect(store().load(PREFIX)).rejects.toMatchObject({ code: 'secret-name-refused' });
  });

  it('names a missing secret clearly', async () => {
    const name = `${PREFIX}${uniqueName('absent')}`;
    const err = await store().load(name).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContextStoreError);
    expect((err as ContextStoreError).code).toBe('secret-missing');
    expect((err as Error).message).toContain(name);
  });

  it('rejects a broken secret naming the secret and the field, never its content', async () => {
    const ctx = sampleContext();
    const broken = await createSecret(JSON.stringify(ctx).slice(0, -5));
    const e1 = (await store().load(broken).catch((e: unknown) => e)) as ContextStoreError;
    expect(e1.code).toBe('secret-invalid');
    expect(e1.message).toContain(broken);
    expect(e1.message).toContain('not JSON');
    const badField = await createSecret(JSON.stringify({ ...ctx, installationId: 'x', apiKey: '' }));
    const e2 = (await store().load(badField).catch((e: unknown) => e)) as ContextStoreError;
    expect(e2.message).toMatch(/installationId must be a positive integer; apiKey is missing: it must be a non-empty string|apiKey is missing: it must be a non-empty string; installationId must be a positive integer/);
    for (const err of [e1, e2]) {
      expect(err.message).not.toContain(ctx.apiKey);
      expect(err.message).not.toContain(ctx.installationToken);
      expect(err.message).not.toContain('PRIVATE KEY');
    }
  });

  it('validates each field of the context', () => {
    const ctx = sampleContext();
    const bad = (patch: Record<string, unknown>) => () =>
      parseBunqContext('s', JSON.stringify({ ...ctx, ...patch }));
    expect(bad({ version: 2 })).toThrow(/unsupported version 2/);
    expect(bad({ environment: 'TEST' })).toThrow(/environment must be PRODUCTION or SANDBOX/);
    expect(bad({ clientPrivateKeyPem: 'nope' })).toThrow(/clientPrivateKeyPem is not a PEM private key/);
    expect(bad({ serverPublicKeyPem: 'nope' })).toThrow(/serverPublicKeyPem is not an SPKI PEM public key/);
    expect(bad({ userId: -1 })).toThrow(/userId must be a positive integer/);
    expect(bad({ baseUrl: 'ftp://x' })).toThrow(/baseUrl must be http/);
    expect(bad({ session: { id: 1, token: 't', expiresAt: 'soon', timeoutSeconds: 1 } })).toThrow(/session\.expiresAt is not a date \(an ISO-8601 time\)/);
    expect(parseBunqContext('s', JSON.stringify({ ...ctx, session: null })).session).toBeNull();
    // Every issue at once, each naming its field, none a value.
    expect(bad({ apiKey: 7, deviceServerId: 0, session: { id: 1, token: '', expiresAt: 'x', timeoutSeconds: 0 } })).toThrow(
      /apiKey is missing: it must be a non-empty string; deviceServerId must be a positive integer; session\.token is missing: it must be a non-empty string; session\.expiresAt is not a date \(an ISO-8601 time\); session\.timeoutSeconds must be a positive number$/,
    );
    const { baseUrl: _b, ...noBase } = ctx;
    expect(parseBunqContext('s', JSON.stringify(noBase))).not.toHaveProperty('baseUrl');
  });

  it('writes a refreshed session with compare-and-swap and reads it back as AWSCURRENT', async () => {
    const name = await createSecret(JSON.stringify(sampleContext()));
    const s = store();
    const loaded = await s.load(name);
    const fresh = session('NEWSESSION_TOKEN_1234567890', '2026-01-01T05:00:00.000Z');
    expect((await s.saveSession(loaded, fresh)).outcome).toBe('written');
    expect((await currentValue(name)).session).toEqual(fresh);
    // The cache follows the write, so the next run in this container uses the new session.
    const again = await s.load(name);
    expect(again.context.session).toEqual(fresh);
    expect(again.versionId).not.toBe(loaded.versionId);
  });

  it('detects a concurrent writer and keeps the newer session', async () => {
    const name = await createSecret(JSON.stringify(sampleContext()));
    const a = store();
    const b = store();
    const seenByA = await a.load(name);
    const seenByB = await b.load(name);
    const newer = session('SESSION_B_NEWER_1234567890', '2026-01-01T09:00:00.000Z');
    const older = session('SESSION_A_OLDER_1234567890', '2026-01-01T08:00:00.000Z');
    expect((await b.saveSession(seenByB, newer)).outcome).toBe('written');
    // A's compare-and-swap is based on a version that is no longer AWSCURRENT: it must notice.
    expect((await a.saveSession(seenByA, older)).outcome).toBe('kept-newer');
    expect((await currentValue(name)).session).toEqual(newer);
    expect((await a.load(name)).context.session).toEqual(newer);
  });

  it('after a lost race writes its own session on top when it is the newer one', async () => {
    const name = await createSecret(JSON.stringify(sampleContext()));
    const a = store();
    const b = store();
    const seenByA = await a.load(name);
    const seenByB = await b.load(name);
    await b.saveSession(seenByB, session('SESSION_B_OLDER_1234567890', '2026-01-01T08:00:00.000Z'));
    const mine = session('SESSION_A_NEWER_1234567890', '2026-01-01T09:00:00.000Z');
    expect((await a.saveSession(seenByA, mine)).outcome).toBe('written');
    expect((await currentValue(name)).session).toEqual(mine);
  });

  it('never puts a session onto a secret that was re-bootstrapped meanwhile', async () => {
    const name = await createSecret(JSON.stringify(sampleContext()));
    const a = store();
    const seenByA = await a.load(name);
    const b = store();
    const seenByB = await b.load(name);
    const rebootstrapped = { ...seenByB.context, installationToken: 'OTHER_INSTALLATION_TOKEN_123456', session: null };
    await b.saveSession({ ...seenByB, context: rebootstrapped }, session('SESSION_NEW_INSTALL_12345678', '2026-01-01T02:00:00.000Z'));
    const { outcome } = await a.saveSession(seenByA, session('SESSION_OLD_INSTALL_12345678', '2026-01-01T09:00:00.000Z'));
    expect(outcome).toBe('kept-replaced');
    expect((await currentValue(name)).installationToken).toBe('OTHER_INSTALLATION_TOKEN_123456');
  });
});

describe('one bunq context schema', () => {
  it('the client refuses exactly what the context store refuses, with the same issues', () => {
    const ctx = sampleContext();
    for (const patch of [{ environment: 'TEST' }, { installationId: 0 }, { clientPublicKeyPem: 'nope' }, { baseUrl: 'ftp://x' }, { deviceServerId: -1 }]) {
      const value = { ...ctx, ...patch };
      const stored = (() => {
        try {
          parseBunqContext('s', JSON.stringify(value));
          return 'accepted';
        } catch (err) {
          return (err as Error).message.replace('secret s does not hold a valid bunq context: ', '');
        }
      })();
      expect(() => new BunqClient({ context: value as BunqContext })).toThrow(`invalid bunq context: ${stored}`);
      expect(stored).not.toContain(ctx.apiKey);
    }
    expect(() => new BunqClient({ context: ctx })).not.toThrow();
  });
});
