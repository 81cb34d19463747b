import { logger } from '../aws/logger';
import type { BunqLogger } from '../bunq';

export type HandlerLogger = BunqLogger;

/** Powertools' Logger behind the plain (message, attributes) shape the rest of the code uses. */
export const handlerLogger: HandlerLogger = {
  debug: (message, attributes) => logger.debug(message, attributes ?? {}),
  info: (message, attributes) => logger.info(message, attributes ?? {}),
  warn: (message, attributes) => logger.warn(message, attributes ?? {}),
  error: (message, attributes) => logger.error(message, attributes ?? {}),
};
