import { describe, expect, it } from 'vitest';
import {
  credentialConfigOrThrow,
  CredentialConfigError,
  DEFAULT_MAX_DEACTIVATIONS_PER_RUN,
  parseCredentialConfig,
} from '../../lambdas/core/config';

const base = {
  credential: 'prod',
  entry: 'config',
  userId: 1001,
  credentialPasswordIpId: 2002,
  secretName: 'bunq-ip-reconciler/prod',
  mode: 'enforce',
  maxDeactivationsPerRun: 3,
  protectedIps: ['203.0.113.7'],
};

function errorsOf(raw: unknown): Array<{ field: string; message: string }> {
  const r = parseCredentialConfig(raw);
  if (r.ok) throw new Error('expected errors');
  return r.errors;
}

describe('parseCredentialConfig', () => {
  it('parses a complete record: every field but the sort key, unchanged', () => {
    const { entry: _entry, ...config } = base;
    expect(parseCredentialConfig(base)).toEqual({ ok: true, notes: [], config });
  });

  it('defaults to observe mode, the default limit and no protected IPs, and says so', () => {
    const { mode: _m, maxDeactivationsPerRun: _x, protectedIps: _p, ...rest } = base;
    const r = parseCredentialConfig(rest);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.mode).toBe('observe');
    expect(r.config.maxDeactivationsPerRun).toBe(DEFAULT_MAX_DEACTIVATIONS_PER_RUN);
    expect(r.config.protectedIps).toEqual([]);
    expect(r.notes).toEqual([expect.stringMatching(/observe/), expect.stringMatching(/maxDeactivationsPerRun/)]);
  });

  it('accepts ids typed as decimal strings and protected IPs as a DynamoDB string set', () => {
    const r = parseCredentialConfig({ ...base, userId: '1001', protectedIps: new Set(['1.2.3.4', ' 1.2.3.4 ', '5.6.7.8']) });
    expect(r.ok && r.config.userId).toBe(1001);
    expect(r.ok && r.config.protectedIps).toEqual(['1.2.3.4', '5.6.7.8']);
  });

  it.each([
    ['mode', { mode: 'enfroce' }, /must be one of enforce, additive, observe, got "enfroce"/],
    ['mode', { mode: 1 }, /must be one of/],
    ['maxDeactivationsPerRun', { maxDeactivationsPerRun: -1 }, /integer from 0 to 1000/],
    ['maxDeactivationsPerRun', { maxDeactivationsPerRun: 2.5 }, /integer/],
    ['maxDeactivationsPerRun', { maxDeactivationsPerRun: '5' }, /integer/],
    ['maxDeactivationsPerRun', { maxDeactivationsPerRun: 5000 }, /0 to 1000/],
    ['protectedIps', { protectedIps: '1.2.3.4' }, /list of IPv4/],
    ['protectedIps[1]', { protectedIps: ['1.2.3.4', '10.0.0.0/8'] }, /CIDR/],
    ['protectedIps[0]', { protectedIps: ['*'] }, /bunq app/],
    ['userId', { userId: 0 }, /positive integer/],
    ['userId', { userId: '01' }, /positive integer/],
    ['credentialPasswordIpId', { credentialPasswordIpId: 1.5 }, /positive integer/],
    ['secretName', { secretName: '  ' }, /non-empty string/],
    ['credential', { credential: undefined }, /non-empty string/],
  ])('rejects a bad %s', (field, patch, message) => {
    expect(errorsOf({ ...base, ...patch })).toEqual([{ field, message: expect.stringMatching(message) }]);
  });

  it('collects every problem at once', () => {
    expect(errorsOf({ ...base, mode: 'x', userId: -1, protectedIps: ['a'] }).map((e) => e.field)).toEqual([
      'userId',
      'mode',
      'protectedIps[0]',
    ]);
  });

  it('rejects a non-object', () => {
    expect(errorsOf('config')).toEqual([{ field: '(config)', message: expect.stringMatching(/must be an object/) }]);
    expect(errorsOf([base])).toHaveLength(1);
  });

  it('credentialConfigOrThrow throws a CredentialConfigError naming the credential and fields', () => {
    expect(() => credentialConfigOrThrow({ ...base, mode: 'x' })).toThrow(CredentialConfigError);
    expect(() => credentialConfigOrThrow({ ...base, mode: 'x' })).toThrow(/credential prod: mode: must be one of/);
    expect(credentialConfigOrThrow(base).mode).toBe('enforce');
  });
});
