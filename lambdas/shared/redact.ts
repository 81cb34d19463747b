/**
 * Keeps secrets out of anything we serialise for humans (logs, error reports). Two independent
 * nets, because either alone has holes: keys that name a secret are blanked whatever their value,
 * and the exact secret values we have loaded (API key, tokens) are blanked wherever they appear,
 * e.g. inside an error message a library built for us. The one redactor of the code base: the bunq
 * client (its own tokens), the context store and logger (every context loaded), the CLI.
 */

export const REDACTED = '[REDACTED]';

/** Property names whose value is a secret, compared case-insensitively without `-`/`_`. */
const SECRET_KEYS = new Set(
  [
    'apiKey',
    'secret',
    'secretString',
    'secretBinary',
    'clientPrivateKeyPem',
    'privateKey',
    'privateKeyPem',
    'installationToken',
    'sessionToken',
    'token',
    'password',
    'authorization',
    'xBunqClientAuthentication',
    'xBunqClientSignature',
  ].map(normaliseKey),
);

function normaliseKey(key: string): string {
  return key.replace(/[-_]/g, '').toLowerCase();
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(normaliseKey(key));
}

// A PEM private key is a secret even when it turns up under an innocent name. Without its footer
// (a truncated message) the key runs as far as base64, white space and JSON's escaped line breaks
// go: never to the end of the text, which in a JSON document would take its closing quote and brace.
const PRIVATE_KEY_PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----(?:-----END [A-Z ]*PRIVATE KEY-----|(?:[A-Za-z0-9+/=\s]|\\[nr])+(?:-----END [A-Z ]*PRIVATE KEY-----)?)/g;

/** Values shorter than this are not registered: blanking "1" everywhere would wreck every log. */
const MIN_SECRET_LENGTH = 8;

export class SecretRedactor {
  private readonly known = new Set<string>();

  constructor(values: Iterable<string | null | undefined> = []) {
    this.register(...values);
  }

  /** Remember secret values so they are blanked wherever they appear later. */
  register(...values: Array<string | null | undefined>): void {
    for (const v of values) {
      if (typeof v === 'string' && v.length >= MIN_SECRET_LENGTH) this.known.add(v);
    }
  }

  redactString(text: string): string {
    let out = text.replace(PRIVATE_KEY_PEM, REDACTED);
    for (const secret of this.known) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    return out;
  }

  /** A JSON.stringify replacer: blank secret-named keys and known secret values. */
  replacer(key: string, value: unknown): unknown {
    if (key !== '' && isSecretKey(key) && value !== null && value !== undefined) return REDACTED;
    if (typeof value === 'string') return this.redactString(value);
    return value;
  }

  /** A deep copy of `value` with secrets blanked (for places that do not serialise via JSON). */
  redact(value: unknown): unknown {
    return JSON.parse(JSON.stringify(value ?? null, (k, v: unknown) => this.replacer(k, errorToPlain(v)))) as unknown;
  }
}

function errorToPlain(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const plain: Record<string, unknown> = { name: value.name, message: value.message };
  const kind = (value as { kind?: unknown }).kind;
  if (typeof kind === 'string') plain.kind = kind;
  return plain;
}

/** One per container: the context store registers what it loads, the logger consults it. */
export const secretRedactor = new SecretRedactor();
