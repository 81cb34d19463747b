import { describe, expect, it } from 'vitest';
import { errorForReply, kindForReply } from '../../lambdas/bunq/error-mapping';
import { metricNameFor } from '../../lambdas/bunq/errors';

describe('kindForReply', () => {
  it.each([
    [400, 'User credentials are incorrect. Incorrect API key or IP address.', 'credentials-rejected'],
    [401, 'User credentials are incorrect. Incorrect API key or IP address.', 'credentials-rejected'],
    [401, 'Insufficient authorisation.', 'session-expired'],
    [401, 'Insufficient authentication.', 'session-expired'],
    [401, 'The request signature is invalid', 'signature-invalid'],
    [401, 'Something new', 'session-expired'],
    // The session texts mean the same with any status (a 500 "Insufficient authentication." is reported).
    [500, 'Insufficient authentication.', 'session-expired'],
    [400, 'Insufficient authorisation.', 'session-expired'],
    [403, 'Insufficient Authorisation.', 'session-expired'],
    [503, 'Insufficient authentication.', 'session-expired'],
    // 429 is unsigned: whatever its text says, it is a rate limit.
    [429, 'User credentials are incorrect. Incorrect API key or IP address.', 'rate-limited'],
    [429, 'Insufficient authorisation.', 'rate-limited'],
    // The sandbox's rate limit (JORTT); never a refusal that could set off a re-activation fallback.
    [409, 'Too many requests', 'rate-limited'],
    [409, '', 'rate-limited'],
    [466, 'For this operation a request signature is required. Check the urls for more information.', 'signature-required'],
    [429, 'Too many requests. You can do a maximum of 3 calls per 3 second to this endpoint.', 'rate-limited'],
    [491, 'Maintenance', 'maintenance'],
    [503, '', 'maintenance'],
    [404, 'Monetary account for id "1" not found.', 'not-found'],
    [403, 'Forbidden', 'forbidden'],
    [400, 'The IP address "1.2.3.4" already has an entry', 'bad-request'],
    // A standard key refusing new IPs (bunq's docs' words, and the emulator's text).
    [400, 'You cannot add new IP addresses to this API key: it is linked to the IP addresses it was created with.', 'ip-add-not-permitted'],
    [403, "You won't be able to add new IP addresses later.", 'ip-add-not-permitted'],
    [400, 'The wildcard "*" cannot be added through the API.', 'bad-request'],
    [500, 'You cannot add new IP addresses to this API key.', 'server-error'],
    [405, 'Method not allowed.', 'bad-request'],
    [490, 'User error', 'bad-request'],
    [500, 'Something went wrong', 'server-error'],
    [502, '', 'server-error'],
    [399, '', 'malformed-reply'],
  ] as const)('HTTP %i "%s" → %s', (status, text, kind) => {
    expect(kindForReply(status, text === '' ? [] : [text])).toBe(kind);
  });
});

describe('errorForReply', () => {
  it('carries status, descriptions, ids and the operation, and marks transient kinds retryable', () => {
    const err = errorForReply({
      status: 503, descriptions: ['Service temporarily unavailable.'], responseId: 'resp-1', requestId: 'req-1',
      operation: 'GET /v1/user/1/credential-password-ip/2/ip',
    });
    expect(err).toMatchObject({
      name: 'BunqError', kind: 'maintenance', status: 503, descriptions: ['Service temporarily unavailable.'],
      responseId: 'resp-1', requestId: 'req-1', operation: 'GET /v1/user/1/credential-password-ip/2/ip', retryable: true,
    });
    expect(err.message).toBe(
      'GET /v1/user/1/credential-password-ip/2/ip: bunq is in maintenance or unavailable (HTTP 503): Service temporarily unavailable. [response id resp-1]',
    );
    expect(err.toJSON()).toMatchObject({ kind: 'maintenance', status: 503 });
    expect(metricNameFor(err.kind)).toBe('BunqErrorMaintenance');
  });

  it('does not mark a refused request retryable', () => {
    const err = errorForReply({ status: 400, descriptions: ['bad'], operation: 'POST /v1/x' });
    expect(err.kind).toBe('bad-request');
    expect(err.retryable).toBe(false);
    expect(err.message).toBe('POST /v1/x: bunq refused the request (HTTP 400): bad');
  });
});
