/**
 * The logging seam of the bunq client. Shaped so Powertools' Logger (`info(message, extra)`) fits
 * as-is; the default logs nothing so the client has no hidden output.
 */
export interface BunqLogger {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export const silentLogger: BunqLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

const REDACTED = '[redacted]';

/**
 * Replaces every occurrence of a known secret in `text`. A last line of defence for text we do not
 * write ourselves (bunq's error descriptions, socket error messages): our own messages never
 * include secrets in the first place.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    // Very short values would redact ordinary words; real tokens and keys are long.
    if (secret.length < 8) continue;
    out = out.split(secret).join(REDACTED);
  }
  return out;
}
