import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClientKeyPair, KeyCache, keyPairMatches, signBody, verifyBody, type RsaKeyPairPem } from '../../lambdas/bunq/signing';

// The independent implementation is the openssl CLI: same bytes in, same base64 out.
let dir: string;
let keys: RsaKeyPairPem;
let other: RsaKeyPairPem;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bunq-signing-'));
  [keys, other] = await Promise.all([generateClientKeyPair(), generateClientKeyPair()]);
  writeFileSync(join(dir, 'key.pem'), keys.privateKeyPem);
  writeFileSync(join(dir, 'pub.pem'), keys.publicKeyPem);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function opensslSign(body: Buffer): string {
  writeFileSync(join(dir, 'body.bin'), body);
  return execFileSync('openssl', ['dgst', '-sha256', '-sign', join(dir, 'key.pem'), join(dir, 'body.bin')]).toString('base64');
}

function opensslVerify(body: Buffer, signatureBase64: string): boolean {
  writeFileSync(join(dir, 'body.bin'), body);
  writeFileSync(join(dir, 'sig.bin'), Buffer.from(signatureBase64, 'base64'));
  try {
    execFileSync('openssl', ['dgst', '-sha256', '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig.bin'), join(dir, 'body.bin')], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

const BODIES: Array<[string, Buffer]> = [
  ['compact JSON', Buffer.from('{"secret":"abc","ip":"203.0.113.7"}')],
  ['pretty JSON with escaped slash', Buffer.from('{\n    "client_public_key": "-----BEGIN PUBLIC KEY-----\\/x"\n}')],
  ['empty body (GET)', Buffer.alloc(0)],
  ['non-ASCII', Buffer.from('{"description":"Zoë’s server"}')],
];

describe('signBody', () => {
  it.each(BODIES)('produces the same base64 as `openssl dgst -sha256 -sign` for %s', (_name, body) => {
    // PKCS#1 v1.5 is deterministic, so equal output proves same algorithm, padding, hash and bytes.
    expect(signBody(keys.privateKeyPem, body)).toBe(opensslSign(body));
  });

  it.each(BODIES)('is accepted by `openssl dgst -sha256 -verify` for %s', (_name, body) => {
    expect(opensslVerify(body, signBody(keys.privateKeyPem, body))).toBe(true);
  });

  it('is rejected by openssl when one byte of the body differs', () => {
    const sig = signBody(keys.privateKeyPem, Buffer.from('{"status":"ACTIVE"}'));
    expect(opensslVerify(Buffer.from('{"status":"ACTIVf"}'), sig)).toBe(false);
  });

  it('generates RSA-2048 keys as PKCS#8 and SPKI PEM', () => {
    expect(keys.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(keys.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const text = execFileSync('openssl', ['pkey', '-in', join(dir, 'key.pem'), '-noout', '-text']).toString();
    expect(text).toContain('2048 bit');
  });
});

describe('verifyBody', () => {
  const body = Buffer.from('{"Response":[{"Id":{"id":1561}}]}');

  it('accepts a signature made by openssl over the raw bytes', () => {
    expect(verifyBody(keys.publicKeyPem, body, opensslSign(body))).toBe(true);
  });

  it('rejects a signature over different bytes, by another key, or garbled', () => {
    const sig = signBody(keys.privateKeyPem, body);
    expect(verifyBody(keys.publicKeyPem, Buffer.concat([body, Buffer.from('\n')]), sig)).toBe(false);
    expect(verifyBody(other.publicKeyPem, body, sig)).toBe(false);
    expect(verifyBody(keys.publicKeyPem, body, `${sig.slice(0, 10)}!${sig.slice(11)}`)).toBe(false);
    expect(verifyBody(keys.publicKeyPem, body, 'AAAA')).toBe(false);
  });

  it('treats a missing or empty header, or an unusable key, as not verified', () => {
    expect(verifyBody(keys.publicKeyPem, body, undefined)).toBe(false);
    expect(verifyBody(keys.publicKeyPem, body, '')).toBe(false);
    expect(verifyBody('not a pem', body, signBody(keys.privateKeyPem, body))).toBe(false);
  });
});

describe('KeyCache', () => {
  it('parses each PEM once and signs/verifies the same as the PEM forms', () => {
    const cache = new KeyCache();
    const priv = cache.privateKey(keys.privateKeyPem);
    expect(cache.privateKey(keys.privateKeyPem)).toBe(priv);
    expect(cache.publicKey(keys.publicKeyPem)).toBe(cache.publicKey(keys.publicKeyPem));
    const body = Buffer.from('{"ip":"203.0.113.7"}');
    const sig = signBody(priv, body);
    expect(sig).toBe(signBody(keys.privateKeyPem, body));
    expect(verifyBody(() => cache.publicKey(keys.publicKeyPem), body, sig)).toBe(true);
    expect(verifyBody(() => cache.publicKey(other.publicKeyPem), body, sig)).toBe(false);
  });

  it('a server key that does not parse means "not verified", never a throw', () => {
    const cache = new KeyCache();
    expect(verifyBody(() => cache.publicKey('not a key'), Buffer.from('x'), 'AAAA')).toBe(false);
  });
});

describe('keyPairMatches', () => {
  it('is true for a pair and false for mismatched or broken keys', () => {
    expect(keyPairMatches(keys.privateKeyPem, keys.publicKeyPem)).toBe(true);
    expect(keyPairMatches(keys.privateKeyPem, other.publicKeyPem)).toBe(false);
    expect(keyPairMatches('garbage', keys.publicKeyPem)).toBe(false);
  });
});
