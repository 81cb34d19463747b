import { generateKeyPairSync } from 'node:crypto';
import type { BunqContext } from '../../lambdas/bunq/types';

let keys: { privatePem: string; publicPem: string } | undefined;

function keyPair(): { privatePem: string; publicPem: string } {
  keys ??= (() => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return {
      privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
  })();
  return keys;
}

/** A well-formed context with recognisable secret values (to check they never leak). */
export function sampleContext(overrides: Partial<BunqContext> = {}): BunqContext {
  const { privatePem, publicPem } = keyPair();
  return {
    version: 1,
    environment: 'SANDBOX',
    baseUrl: 'http://127.0.0.1:1',
    apiKey: 'sandbox_SECRETAPIKEY_0123456789abcdef',
    clientPrivateKeyPem: privatePem,
    clientPublicKeyPem: publicPem,
    installationId: 11,
    installationToken: 'INSTALLATIONTOKEN_SECRET_0123456789',
    serverPublicKeyPem: publicPem,
    deviceServerId: 22,
    userId: 33,
    session: {
      id: 44,
      token: 'SESSIONTOKEN_SECRET_0123456789',
      expiresAt: '2026-01-01T01:00:00.000Z',
      timeoutSeconds: 3600,
    },
    ...overrides,
  };
}

import type { ExecutionResult } from '../../lambdas/core/types';

/** A converged run: one IP added, one deactivation blocked by a guard, a wildcard present. */
export function sampleResult(credential: string, overrides: Partial<ExecutionResult> = {}): ExecutionResult {
  return {
    credential,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.500Z',
    durationMs: 1500,
    outcome: 'converged',
    plan: {
      credential,
      mode: 'enforce',
      desiredIps: ['203.0.113.1', '203.0.113.2'],
      invalid: [],
      expired: [],
      drift: [
        { kind: 'missing', ip: '203.0.113.2' },
        { kind: 'undesired-active', ip: '198.51.100.9', entryId: 5 },
      ],
      operations: [{ kind: 'add', ip: '203.0.113.2' }],
      blocked: [
        {
          operation: { kind: 'deactivate', ip: '198.51.100.9', entryId: 5, reason: 'undesired' },
          guard: 'protected-ip',
          reason: '198.51.100.9 is protected',
        },
      ],
      warnings: [{ code: 'active-wildcard', message: 'an ACTIVE * entry disables IP filtering' }],
    },
    before: [
      { id: 1, ip: '203.0.113.1', status: 'ACTIVE', created: null },
      { id: 5, ip: '198.51.100.9', status: 'ACTIVE', created: null },
      { id: 6, ip: '*', status: 'ACTIVE', created: null },
    ],
    after: [
      { id: 1, ip: '203.0.113.1', status: 'ACTIVE', created: null },
      { id: 5, ip: '198.51.100.9', status: 'ACTIVE', created: null },
      { id: 6, ip: '*', status: 'ACTIVE', created: null },
      { id: 7, ip: '203.0.113.2', status: 'ACTIVE', created: null },
    ],
    operations: [{ operation: { kind: 'add', ip: '203.0.113.2' }, outcome: 'applied', entryId: 7 }],
    reads: 2,
    writes: 1,
    ...overrides,
  };
}
