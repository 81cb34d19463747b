/**
 * bunq's request and response signatures: RSASSA-PKCS1-v1_5 with SHA-256 over the exact body bytes,
 * standard base64 (bunq-api.md §3). Only node:crypto; keys travel as PEM so a context can be stored
 * as JSON.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, sign, verify, type KeyObject } from 'node:crypto';

export interface RsaKeyPairPem {
  /** PKCS#8 ("BEGIN PRIVATE KEY"). */
  privateKeyPem: string;
  /** SPKI ("BEGIN PUBLIC KEY"), the form POST /installation expects. */
  publicKeyPem: string;
}

export function generateClientKeyPair(): Promise<RsaKeyPairPem> {
  return new Promise((resolve, reject) => {
    generateKeyPair(
      'rsa',
      {
        modulusLength: 2048,
        publicExponent: 0x10001,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      },
      (err, publicKeyPem, privateKeyPem) => {
        if (err) reject(err);
        else resolve({ privateKeyPem, publicKeyPem });
      },
    );
  });
}

/**
 * Parsed keys per PEM, kept by one client: parsing an RSA PEM costs about as much as the signature
 * itself, and every authenticated call signs and verifies once. Per client, never module-wide, so no
 * key outlives the client that was given it.
 */
export class KeyCache {
  private readonly privateKeys = new Map<string, KeyObject>();
  private readonly publicKeys = new Map<string, KeyObject>();

  privateKey(pem: string): KeyObject {
    let key = this.privateKeys.get(pem);
    if (key === undefined) {
      key = createPrivateKey(pem);
      this.privateKeys.set(pem, key);
    }
    return key;
  }

  /** Throws on a PEM that does not parse (verifyBody turns that into "not verified"). */
  publicKey(pem: string): KeyObject {
    let key = this.publicKeys.get(pem);
    if (key === undefined) {
      key = createPublicKey(pem);
      this.publicKeys.set(pem, key);
    }
    return key;
  }
}

/** Base64 signature of `body` exactly as it goes on the wire (no re-serialisation). */
export function signBody(privateKey: string | KeyObject, body: Uint8Array): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  return sign('sha256', body, key).toString('base64');
}

/**
 * True only when `signatureBase64` is a valid signature of `body`. Never throws: a malformed header
 * or key means "not verified", which the caller treats like a bad signature.
 */
export function verifyBody(
  publicKey: string | (() => KeyObject),
  body: Uint8Array,
  signatureBase64: string | undefined,
): boolean {
  if (signatureBase64 === undefined || signatureBase64.length === 0) return false;
  // Buffer.from(…, 'base64') silently skips junk characters; insist on canonical base64 instead.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signatureBase64)) return false;
  try {
    const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey();
    return verify('sha256', body, key, Buffer.from(signatureBase64, 'base64'));
  } catch {
    return false;
  }
}

/** Checks that a PEM pair parses and belongs together, so a corrupt stored context fails early. */
export function keyPairMatches(privateKeyPem: string, publicKeyPem: string): boolean {
  try {
    const probe = Buffer.from('bunq-ip-reconciler key check');
    return verifyBody(publicKeyPem, probe, signBody(privateKeyPem, probe));
  } catch {
    return false;
  }
}
