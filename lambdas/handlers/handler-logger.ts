import type { Context } from 'aws-lambda';
import { logger } from '../aws/logger';
import type { Logger } from '../shared/logger';

/** Powertools' Logger behind the plain (message, attributes) shape the rest of the code uses. */
export const handlerLogger: Logger = {
  debug: (message, attributes) => logger.debug(message, attributes ?? {}),
  info: (message, attributes) => logger.info(message, attributes ?? {}),
  warn: (message, attributes) => logger.warn(message, attributes ?? {}),
  error: (message, attributes) => logger.error(message, attributes ?? {}),
};

/**
 * A Lambda entry point whose every log line carries the invocation's request id (Powertools'
 * `addContext`, the same as its `injectLambdaContext({ resetKeys: true })` decorator without the
 * decorator syntax). The logger lives for the container's life, so keys appended during one
 * invocation are dropped before and after it: a warm container never logs a run's keys under the
 * next request id.
 */
export function withRequestContext<E, R>(
  handle: (event: E, context: Context) => Promise<R>,
): (event: E, context: Context) => Promise<R> {
  return async (event, context) => {
    logger.resetKeys();
    logger.addContext(context);
    try {
      return await handle(event, context);
    } finally {
      logger.resetKeys();
    }
  };
}
