import { describe, expect, it } from 'vitest';
import { REDACTED, SecretRedactor } from '../../lambdas/shared/redact';

/** The one redactor: the bunq client's per-call form (its own tokens) and the container-wide form agree. */
describe('SecretRedactor', () => {
  it('built from the values a caller holds, blanks them and any PEM private key, and leaves short values alone', () => {
    const token = 'SESSIONTOKEN_0123456789';
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIabc\n-----END PRIVATE KEY-----';
    const r = new SecretRedactor([token, 'short', null, undefined]);
    expect(r.redactString(`bunq echoes ${token} twice ${token}; key ${pem}; short stays`)).toBe(
      `bunq echoes ${REDACTED} twice ${REDACTED}; key ${REDACTED}; short stays`,
    );
  });

  it('a PEM without its footer inside JSON text is blanked without eating the JSON around it', () => {
    const doc = JSON.stringify({ note: 'cut: -----BEGIN PRIVATE KEY-----\nMIIabc+/=\nMIIdef', next: 1 });
    const out = new SecretRedactor().redactString(doc);
    expect(JSON.parse(out)).toEqual({ note: `cut: ${REDACTED}`, next: 1 });
    expect(out).not.toContain('MII');
  });
});
