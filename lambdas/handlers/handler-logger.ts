import { logger } from '../aws/logger';
import type { Logger } from '../shared/logger';

/** Powertools' Logger behind the plain (message, attributes) shape the rest of the code uses. */
export const handlerLogger: Logger = {
  debug: (message, attributes) => logger.debug(message, attributes ?? {}),
  info: (message, attributes) => logger.info(message, attributes ?? {}),
  warn: (message, attributes) => logger.warn(message, attributes ?? {}),
  error: (message, attributes) => logger.error(message, attributes ?? {}),
};
