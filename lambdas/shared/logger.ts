/**
 * The one logging shape of the code base: the bunq client, the service, the handlers and the CLI
 * all log through it. Shaped so Powertools' Logger (`info(message, extra)`) fits as-is.
 */
export interface Logger {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/** Logs nothing: the default of the bunq client, so it has no hidden output. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
