/**
 * bunq's request and response signatures: RSASSA-PKCS1-v1_5 with SHA-256 over the exact body bytes,
 * standard base64 (bunq-api.md §3). Only node:crypto; keys travel as PEM so a context can be stored
 * as JSON.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, sign, verify } from 'node:crypto';

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

/** Base64 signature of `body` exactly as it goes on the wire (no re-serialisation). */
export function signBody(privateKeyPem: string, body: Uint8Array): string {
  return sign('sha256', body, createPrivateKey(privateKeyPem)).toString('base64');
}

/**
 * True only when `signatureBase64` is a valid signature of `body`. Never throws: a malformed header
 * or key means "not verified", which the caller treats like a bad signature.
 */
export function verifyBody(publicKeyPem: string, body: Uint8Array, signatureBase64: string | undefined): boolean {
  if (signatureBase64 === undefined || signatureBase64.length === 0) return false;
  // Buffer.from(…, 'base64') silently skips junk characters; insist on canonical base64 instead.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signatureBase64)) return false;
  try {
    return verify('sha256', body, createPublicKey(publicKeyPem), Buffer.from(signatureBase64, 'base64'));
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
