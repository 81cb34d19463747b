import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ROUTES, type Fault } from '../../emulator/index';
import { createContext } from '../../lambdas/bunq/bootstrap';
import { BunqClient } from '../../lambdas/bunq/client';
import { BunqError } from '../../lambdas/bunq/errors';
import { generateClientKeyPair } from '../../lambdas/bunq/signing';
import { HOME_IP, catchError, startHarness, type Harness } from './support';

let h: Harness | undefined;
afterEach(async () => {
  await h?.emu.close();
  h = undefined;
});

async function bunqError(promise: Promise<unknown>): Promise<BunqError> {
  const err = await catchError(promise);
  expect(err).toBeInstanceOf(BunqError);
  return err as BunqError;
}

const countRequests = (hh: Harness, method: string, route: string): number =>
  hh.emu.requests.filter((r) => r.method === method && r.route === route).length;

describe('typed errors from bunq replies', () => {
  it('not-found for an entry that does not exist', async () => {
    h = await startHarness();
    const err = await bunqError(h.client().getIp(h.credentialId, 999_999));
    expect(err).toMatchObject({ kind: 'not-found', status: 404, retryable: false, operation: `GET /v1/user/${h.userId}/credential-password-ip/${h.credentialId}/ip/999999` });
    expect(err.descriptions).toEqual(['PermittedIp for id "999999" not found.']);
    expect(err.responseId).toMatch(/^[0-9a-f-]{36}$/);
    expect(err.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('bad-request for a duplicate POST, with bunq text, not retried', async () => {
    h = await startHarness();
    const client = h.client();
    const err = await bunqError(client.addIp(h.credentialId, HOME_IP));
    expect(err).toMatchObject({ kind: 'bad-request', status: 400 });
    expect(err.message).toContain('already has an entry');
    expect(client.stats.requests).toBe(1);
  });

  it('ip-add-not-permitted, naming the remedy, when a standard key may not add IPs (profile standard-key-cannot-add-ips)', async () => {
    h = await startHarness({ emulator: { profiles: ['standard-key-cannot-add-ips'] } });
    const err = await bunqError(h.client().addIp(h.credentialId, '203.0.113.6'));
    expect(err).toMatchObject({ kind: 'ip-add-not-permitted', status: 400, retryable: false });
    expect(err.message).toMatch(/registered without "\*".*Remedy: create a wildcard API key .* then switch "\*" off in the bunq app/);
  });

  it('under profile errors-unsigned an unsigned 401 still refreshes the session, and a 404 is not-found', async () => {
    h = await startHarness({ emulator: { profiles: ['errors-unsigned'] } });
    const client = h.client();
    const missing = await bunqError(client.getIp(h.credentialId, 999_999));
    expect(missing).toMatchObject({ kind: 'not-found', status: 404, descriptions: ['PermittedIp for id "999999" not found.'] });
    expect(missing.message).toContain('not signed by bunq');
    h.emu.expireSessions();
    h.clock.advance(30_000);
    expect((await client.listIps(h.credentialId)).length).toBeGreaterThan(0);
    expect(client.stats.sessionRefreshes).toBe(1);
  });

  it('bad-request when the emulator refuses re-activation', async () => {
    h = await startHarness({ emulator: { profiles: ['reactivation-refused'] } });
    const client = h.client();
    const id = await client.addIp(h.credentialId, '203.0.113.5', 'INACTIVE');
    const err = await bunqError(client.updateIpStatus(h.credentialId, id, 'ACTIVE'));
    expect(err).toMatchObject({ kind: 'bad-request', status: 400 });
  });

  it('credentials-rejected when calling from an IP that is not whitelisted (localAddress)', async () => {
    h = await startHarness();
    const client = h.client({ localAddress: '127.0.0.3' });
    const err = await bunqError(client.listIps(h.credentialId));
    expect(err).toMatchObject({ kind: 'credentials-rejected', status: 400 });
    expect(h.emu.requests.at(-1)?.callerIp).toBe('127.0.0.3');
    // Once the IP is whitelisted (from the home IP), the same client works.
    await h.client().addIp(h.credentialId, '127.0.0.3');
    expect((await client.listIps(h.credentialId)).length).toBe(2);
  });

  it('signature-invalid when our signature does not match the installed key', async () => {
    h = await startHarness();
    const wrong = await generateClientKeyPair();
    const client = h.client({ context: { ...h.context, clientPrivateKeyPem: wrong.privateKeyPem, session: null } });
    const err = await bunqError(client.ensureSession());
    expect(err).toMatchObject({ kind: 'signature-invalid', status: 401, operation: 'POST /v1/session-server' });
  });

  it.each<[string, Fault, string, number]>([
    ['signature-required (466)', { type: 'status', status: 466, description: 'For this operation a request signature is required.' }, 'signature-required', 466],
    ['forbidden (403)', { type: 'status', status: 403, description: 'Forbidden.' }, 'forbidden', 403],
    ['session-expired (401 twice)', { type: 'status', status: 401, description: 'Insufficient authentication.' }, 'session-expired', 401],
  ])('%s', async (_name, fault, kind, status) => {
    h = await startHarness();
    h.emu.faults.add({ method: 'GET', route: ROUTES.ipList, times: 2, fault });
    const err = await bunqError(h.client().listIps(h.credentialId));
    expect(err).toMatchObject({ kind, status });
  });
});

describe('retries of idempotent calls (GET/PUT)', () => {
  it.each<[string, Fault]>([
    ['429', { type: 'status', status: 429 }],
    ['500', { type: 'status', status: 500 }],
    ['503', { type: 'status', status: 503 }],
    ['491', { type: 'status', status: 491 }],
    ['drop', { type: 'drop' }],
    ['delay past the timeout', { type: 'delay', ms: 1000 }],
  ])('a GET recovers after one %s', async (_name, fault) => {
    h = await startHarness();
    const client = h.client({ timeoutMs: 200 });
    h.emu.faults.add({ method: 'GET', route: ROUTES.ipList, fault });
    expect(await client.listIps(h.credentialId)).toHaveLength(1);
    expect(client.stats.retries).toBe(1);
    // The emulator logs a delayed request only when its delay ends; our own count is immediate.
    expect(client.stats.byMethod.GET).toBe(2);
  });

  it.each<[string, Fault, string, number | undefined]>([
    ['rate-limited', { type: 'status', status: 429 }, 'rate-limited', 429],
    ['maintenance', { type: 'status', status: 491 }, 'maintenance', 491],
    ['server-error', { type: 'status', status: 500 }, 'server-error', 500],
    ['timeout', { type: 'delay', ms: 1000 }, 'timeout', undefined],
    ['network (dropped connection)', { type: 'drop' }, 'network', undefined],
  ])('surfaces %s after maxAttempts', async (_name, fault, kind, status) => {
    h = await startHarness();
    const client = h.client({ timeoutMs: 150 });
    h.emu.faults.add({ method: 'GET', route: ROUTES.ip, times: Infinity, fault });
    const err = await bunqError(client.getIp(h.credentialId, 1));
    expect(err.kind).toBe(kind);
    expect(err.status).toBe(status);
    expect(err.retryable).toBe(true);
    expect(client.stats.retries).toBe(2);
    expect(client.stats.byMethod.GET).toBe(3);
  });

  it('a PUT whose reply failed after applying is simply repeated', async () => {
    h = await startHarness();
    const client = h.client({ timeoutMs: 200, retry: { maxAttempts: 4 } });
    const id = await client.addIp(h.credentialId, '203.0.113.9');
    const faults: Fault[] = [{ type: 'apply-then-status', status: 500 }, { type: 'apply-then-drop' }, { type: 'apply-then-delay', ms: 1000 }];
    faults.forEach((fault, i) => h?.emu.faults.add({ method: 'PUT', route: ROUTES.ip, nth: i + 1, fault }));
    expect(await client.updateIpStatus(h.credentialId, id, 'INACTIVE')).toBe(id);
    expect(await client.updateIpStatus(h.credentialId, id, 'ACTIVE')).toBe(id);
    expect(h.emu.listIpEntries(h.credentialId).find((e) => e.id === id)?.status).toBe('ACTIVE');
    expect(client.stats.byMethod.PUT).toBe(5);
    expect(client.stats.retries).toBe(3);
  });

  it('network error when nothing listens, retried because nothing was sent', async () => {
    const srv: Server = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    h = await startHarness();
    const client = h.client({ context: { ...h.context, baseUrl: `http://127.0.0.1:${port}` }, localAddress: '127.0.0.1' });
    const err = await bunqError(client.addIp(h.credentialId, '203.0.113.1'));
    expect(err).toMatchObject({ kind: 'network', retryable: true });
    expect(err.message).toContain('ECONNREFUSED');
    expect(client.stats.requests).toBe(3);
  });
});

describe('POST: outcome-unknown, never a blind retry', () => {
  it.each<[string, Fault, boolean]>([
    ['timeout before apply', { type: 'delay', ms: 1000 }, false],
    ['dropped before apply', { type: 'drop' }, false],
    ['500 after apply', { type: 'apply-then-status', status: 500 }, true],
    ['503 after apply', { type: 'apply-then-status', status: 503 }, true],
    ['dropped after apply', { type: 'apply-then-drop' }, true],
    ['timeout after apply', { type: 'apply-then-delay', ms: 1000 }, true],
    ['plain 500', { type: 'status', status: 500 }, false],
    ['plain 491', { type: 'status', status: 491 }, false],
  ])('%s → outcome-unknown, sent once', async (_name, fault, applied) => {
    h = await startHarness();
    const client = h.client({ timeoutMs: 200 });
    h.emu.faults.add({ method: 'POST', route: ROUTES.ipList, fault });
    const err = await bunqError(client.addIp(h.credentialId, '203.0.113.20'));
    expect(err.kind).toBe('outcome-unknown');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('re-read before retrying');
    expect(client.stats.byMethod.POST).toBe(1);
    expect(client.stats.retries).toBe(0);
    expect(h.emu.listIpEntries(h.credentialId).some((e) => e.ip === '203.0.113.20')).toBe(applied);
  });

  it('a POST answered 429 is retried (bunq applied nothing) and applied once', async () => {
    h = await startHarness();
    const client = h.client();
    h.emu.faults.add({ method: 'POST', route: ROUTES.ipList, fault: { type: 'status', status: 429 } });
    await client.addIp(h.credentialId, '203.0.113.21');
    expect(countRequests(h, 'POST', ROUTES.ipList)).toBe(2);
    expect(h.emu.listIpEntries(h.credentialId).filter((e) => e.ip === '203.0.113.21')).toHaveLength(1);
  });
});

describe('reply signatures and shapes', () => {
  it.each<[string, Fault, RegExp]>([
    ['bad-signature', { type: 'bad-signature' }, /does not match the body/],
    ['no-signature', { type: 'no-signature' }, /missing X-Bunq-Server-Signature/],
  ])('%s → response-signature-invalid, body not used, not retried', async (_name, fault, why) => {
    h = await startHarness();
    const client = h.client();
    h.emu.faults.add({ method: 'GET', route: ROUTES.ipList, fault });
    const err = await bunqError(client.listIps(h.credentialId));
    expect(err).toMatchObject({ kind: 'response-signature-invalid', status: 200 });
    expect(err.message).toMatch(why);
    expect(client.stats.requests).toBe(1);
  });

  it('a POST whose reply signature fails is reported, not retried', async () => {
    h = await startHarness();
    const client = h.client();
    h.emu.faults.add({ method: 'POST', route: ROUTES.ipList, fault: { type: 'bad-signature' } });
    const err = await bunqError(client.addIp(h.credentialId, '203.0.113.30'));
    expect(err.kind).toBe('response-signature-invalid');
    expect(countRequests(h, 'POST', ROUTES.ipList)).toBe(1);
  });

  it('verifies error replies too: a 404 with a bad signature is not trusted', async () => {
    h = await startHarness();
    h.emu.faults.add({ method: 'GET', route: ROUTES.ip, fault: { type: 'bad-signature' } });
    const err = await bunqError(h.client().getIp(h.credentialId, 424242));
    expect(err).toMatchObject({ kind: 'response-signature-invalid', status: 404, descriptions: [] });
  });

  it('a session-server reply with a bad signature fails the refresh', async () => {
    h = await startHarness();
    // The emulator allows one session-server call per 30 s; the bootstrap just made one.
    h.clock.advance(30_000);
    h.emu.faults.add({ method: 'POST', route: ROUTES.sessionServer, fault: { type: 'no-signature' } });
    const err = await bunqError(h.client({ context: { ...h.context, session: null } }).ensureSession());
    expect(err).toMatchObject({ kind: 'response-signature-invalid', operation: 'POST /v1/session-server' });
  });

  it('an unsigned 502 from a proxy in front of bunq is bunq-down (retried, body unused), not a signature alarm', async () => {
    h = await startHarness();
    const client = h.client();
    h.emu.faults.add({ method: 'GET', route: ROUTES.ipList, fault: { type: 'gateway-error', status: 502 } });
    const entries = await client.listIps(h.credentialId);
    expect(entries.length).toBeGreaterThan(0);
    expect(client.stats.retries).toBe(1);
    h.emu.faults.add({ method: 'GET', route: ROUTES.ipList, times: Infinity, fault: { type: 'gateway-error', status: 503 } });
    const err = await bunqError(client.listIps(h.credentialId));
    expect(err).toMatchObject({ kind: 'maintenance', status: 503, descriptions: [] });
  });

  it('an unsigned 502 after a POST is outcome-unknown, never a blind retry', async () => {
    h = await startHarness();
    h.emu.faults.add({ method: 'POST', route: ROUTES.ipList, fault: { type: 'gateway-error', status: 502 } });
    const err = await bunqError(h.client().addIp(h.credentialId, '203.0.113.31'));
    expect(err.kind).toBe('outcome-unknown');
    expect(countRequests(h, 'POST', ROUTES.ipList)).toBe(1);
  });

  it('garbage-body → malformed-reply, not retried', async () => {
    h = await startHarness();
    const client = h.client();
    h.emu.faults.add({ method: 'GET', route: ROUTES.ipList, fault: { type: 'garbage-body' } });
    const err = await bunqError(client.listIps(h.credentialId));
    expect(err).toMatchObject({ kind: 'malformed-reply', status: 200 });
    expect(err.message).toContain('reply body is not JSON');
    expect(client.stats.requests).toBe(1);
  });
});

it('a client bound to another IP cannot even bootstrap (installation ok, device-server refused)', async () => {
  h = await startHarness();
  const { apiKey } = h.emu.createApiKey(h.userId);
  // The new key's credential is PENDING_FIRST_USE, so it binds 127.0.0.4 — then 127.0.0.5 is refused.
  const ctx = await createContext({ apiKey, environment: 'SANDBOX', baseUrl: h.emu.url, deviceDescription: 'a', localAddress: '127.0.0.4', clock: h.clock });
  const client = new BunqClient({ context: { ...ctx, session: null }, localAddress: '127.0.0.5', clock: h.clock, retry: { maxAttempts: 1 } });
  await expect(client.ensureSession()).rejects.toMatchObject({ kind: 'credentials-rejected' });
});
