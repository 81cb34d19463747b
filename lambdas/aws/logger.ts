import { Logger } from '@aws-lambda-powertools/logger';
import { SERVICE_NAME } from '../shared/service-name';
import { secretRedactor, type SecretRedactor } from '../shared/redact';

/**
 * Structured JSON logs (Powertools). Every value passes the redactor on its way to JSON, including
 * error messages and stacks, so a secret handed to the logger by mistake still never reaches
 * CloudWatch Logs.
 */
export function createLogger(redactor: SecretRedactor = secretRedactor): Logger {
  return new Logger({
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
    jsonReplacerFn: (key, value) => redactor.replacer(key, value),
  });
}

export const logger = createLogger();
