/**
 * bunq's wire format: envelopes, timestamps, and JSON that escapes `/` as `\/` (bunq's PHP-style
 * encoder does, which is why clients must verify signatures over the raw bytes, not re-serialised JSON).
 */

export function bunqJson(value: unknown): string {
  // Outside string literals JSON never contains '/', so a global replace only touches strings.
  return JSON.stringify(value).replace(/\//g, '\\/');
}

/** "YYYY-MM-DD hh:mm:ss.ssssss" in UTC, as bunq formats every timestamp. */
export function bunqTimestamp(epochMs: number): string {
  const iso = new Date(epochMs).toISOString(); // 2026-01-01T00:00:00.000Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
}

export type WireObject = Record<string, unknown>;

export interface Pagination {
  future_url: string | null;
  newer_url: string | null;
  older_url: string | null;
}

export function responseBody(items: WireObject[], pagination?: Pagination): string {
  return bunqJson(pagination === undefined ? { Response: items } : { Response: items, Pagination: pagination });
}

export interface ErrorEntry {
  error_description: string;
  error_description_translated: string;
  error_additional_parameter?: unknown[];
}

export function errorBody(description: string, additional?: unknown[]): string {
  const entry: ErrorEntry = { error_description: description, error_description_translated: description };
  if (additional !== undefined) entry.error_additional_parameter = additional;
  return bunqJson({ Error: [entry] });
}

/** Error texts. Those marked INFERRED are ours: bunq's exact wording was not found (README). */
export const TEXT = {
  credentialsIncorrect: 'User credentials are incorrect. Incorrect API key or IP address.',
  insufficientAuthorisation: 'Insufficient authorisation.',
  signatureRequired: 'For this operation a request signature is required. Check the urls for more information.',
  signatureInvalid: 'The request signature is invalid.',
  routeNotFound: 'Route not found.',
  methodNotAllowed: 'Method not allowed.', // INFERRED
  badJson: 'The request body is not valid JSON.', // INFERRED
  rateLimited: (limit: number, windowMs: number): string =>
    `Too many requests. You can do a maximum of ${limit} calls per ${windowMs / 1000} second to this endpoint.`,
  missingHeader: (name: string): string => `The header "${name}" is required for all requests.`, // INFERRED
  notFound: (type: string, id: number): string => `${type} for id "${id}" not found.`,
  // INFERRED, after bunq's device-registration page ("You won't be able to add new IP addresses later").
  standardKeyCannotAddIps:
    'You cannot add new IP addresses to this API key: it is linked to the IP addresses it was created with. ' +
    'Use a wildcard API key ("*") if your IP address may change.',
} as const;

/** Bodies for injected status faults when the rule gives no description. */
export function defaultFaultDescription(status: number): string {
  switch (status) {
    case 429:
      return TEXT.rateLimited(3, 3000);
    case 491:
      return 'bunq is in maintenance. Please try again later.';
    case 500:
      return 'Something went wrong on our side. Please contact bunq support.';
    case 503:
      return 'Service temporarily unavailable. Please try again later.';
    default:
      return `Injected error with status ${status}.`;
  }
}
