import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock';
import { createContext } from '../../lambdas/bunq/bootstrap';
import { BunqClient } from '../../lambdas/bunq/client';
import { generateClientKeyPair, signBody, type RsaKeyPairPem } from '../../lambdas/bunq/signing';
import type { HttpRequest, HttpResponse, Transport } from '../../lambdas/bunq/transport';
import type { BunqContext } from '../../lambdas/bunq/types';
import * as api from '../../lambdas/bunq/index';
import { catchError } from './support';

// Replies the emulator never sends (it is a well-behaved bunq), played through the Transport seam
// and signed with a real server key, so the client's checks after signature verification are hit.

let server: RsaKeyPairPem;
let client: RsaKeyPairPem;
beforeAll(async () => {
  [server, client] = await Promise.all([generateClientKeyPair(), generateClientKeyPair()]);
});

const BASE = 'https://bunq.test';
const IP_LIST = '/v1/user/7/credential-password-ip/9/ip';

function context(): BunqContext {
  return {
    version: 1, environment: 'PRODUCTION', baseUrl: BASE, apiKey: 'k'.repeat(64),
    clientPrivateKeyPem: client.privateKeyPem, clientPublicKeyPem: client.publicKeyPem,
    installationId: 1, installationToken: 'i'.repeat(64), serverPublicKeyPem: server.publicKeyPem,
    deviceServerId: 2, userId: 7,
    session: { id: 3, token: 's'.repeat(64), expiresAt: new Date(Date.UTC(2030, 0, 1)).toISOString(), timeoutSeconds: 3600 },
  };
}

function reply(status: number, body: unknown, signed = true): HttpResponse {
  const bytes = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return { status, headers: signed ? { 'x-bunq-server-signature': signBody(server.privateKeyPem, bytes) } : {}, body: bytes };
}

function scripted(handler: (req: HttpRequest, n: number) => HttpResponse): { transport: Transport; urls: string[] } {
  const urls: string[] = [];
  return {
    urls,
    transport: async (req) => {
      urls.push(req.url);
      return handler(req, urls.length);
    },
  };
}

function make(handler: (req: HttpRequest, n: number) => HttpResponse): { c: BunqClient; urls: string[] } {
  const s = scripted(handler);
  return { c: new BunqClient({ context: context(), transport: s.transport, clock: new ManualClock(), retry: { maxAttempts: 2 } }), urls: s.urls };
}

const ip = (id: number) => ({ PermittedIp: { id, ip: `10.0.0.${id}`, status: 'ACTIVE', created: null, updated: null } });
const page = (ids: number[], older: string | null) => ({ Response: ids.map(ip), Pagination: { future_url: null, newer_url: null, older_url: older } });

describe('pagination that cannot be trusted', () => {
  it.each([
    ['another path', `/v1/user/7/credential-password-ip/8/ip?count=200&older_id=1`],
    ['another host', `https://evil.test${IP_LIST}?count=200&older_id=1`],
    ['no older_id', `${IP_LIST}?count=200`],
    ['a non-numeric older_id', `${IP_LIST}?older_id=1;DROP`],
  ])('refuses an older_url to %s, sending nothing there', async (_name, older) => {
    const { c, urls } = make(() => reply(200, page([5, 4], older)));
    const err = await catchError(c.listIps(9));
    expect(err).toMatchObject({ kind: 'malformed-reply', message: expect.stringContaining('unusable Pagination.older_url') });
    expect(urls).toEqual([`${BASE}${IP_LIST}?count=200`]);
  });

  it('stops a pagination loop', async () => {
    const { c, urls } = make(() => reply(200, page([5], `${IP_LIST}?count=200&older_id=5`)));
    expect(await catchError(c.listIps(9))).toMatchObject({ kind: 'malformed-reply' });
    expect(urls).toHaveLength(2);
  });

  it('re-adds count=200 when bunq omits it, and keeps each id once', async () => {
    const { c, urls } = make((_req, n) => (n === 1 ? reply(200, page([5, 4], `${IP_LIST}?older_id=4`)) : reply(200, page([4, 3], null))));
    expect((await c.listIps(9)).map((e) => e.id)).toEqual([5, 4, 3]);
    expect(urls[1]).toBe(`${BASE}${IP_LIST}?count=200&older_id=4`);
  });

  it('requires a Pagination block on lists', async () => {
    const { c } = make(() => reply(200, { Response: [ip(1)] }));
    expect(await catchError(c.listIps(9))).toMatchObject({ kind: 'malformed-reply', message: expect.stringContaining('no Pagination') });
  });
});

describe('replies of the wrong shape or status', () => {
  it.each([
    ['an object of another type in a list', { Response: [ip(1), { Id: { id: 2 } }], Pagination: { older_url: null } }, 'Response[1] is Id'],
    ['a list element that is not an object', { Response: [ip(1), 'x'], Pagination: { older_url: null } }, 'Response[1] is not an object'],
    ['a PermittedIp that is not an object', { Response: [{ PermittedIp: null }], Pagination: { older_url: null } }, 'Response[0].PermittedIp is not an object'],
    ['a Pagination that is not an object', { Response: [ip(1)], Pagination: 'none' }, 'no Pagination'],
  ])('%s → malformed-reply', async (_name, body, text) => {
    const { c } = make(() => reply(200, body));
    const err = await catchError(c.listIps(9));
    expect(err).toMatchObject({ kind: 'malformed-reply', operation: `GET ${IP_LIST}`, status: 200 });
    expect((err as Error).message).toContain(text);
  });

  it('one odd entry does not spoil the list: it comes back marked, the others as they are', async () => {
    const odd = [
      { PermittedIp: { ip: '10.0.0.7', status: 'ACTIVE' } },
      { PermittedIp: { id: 8, ip: '10.0.0.8', status: 'PENDING' } },
      { PermittedIp: { id: 9, ip: '10.0.0.9', status: 'ACTIVE', created: 1588 } },
    ];
    const { c } = make(() => reply(200, { Response: [ip(1), ...odd], Pagination: { older_url: null } }));
    expect((await c.listIps(9)).map((e) => [e.id, e.ip, e.status, e.created])).toEqual([
      [1, '10.0.0.1', 'ACTIVE', null],
      [0, '10.0.0.7', 'ACTIVE', null],
      [8, '10.0.0.8', 'PENDING', null],
      [9, '10.0.0.9', 'ACTIVE', null],
    ]);
  });

  it('a POST reply without Id → malformed-reply', async () => {
    const { c } = make(() => reply(200, { Response: [] }));
    expect(await catchError(c.addIp(9, '1.2.3.4'))).toMatchObject({ kind: 'malformed-reply', message: expect.stringContaining('exactly one Id') });
  });

  it('an unexpected 3xx status → malformed-reply, not retried', async () => {
    const { c, urls } = make(() => reply(399, ''));
    expect(await catchError(c.getIp(9, 1))).toMatchObject({ kind: 'malformed-reply', status: 399 });
    expect(urls).toHaveLength(1);
  });

  it('an unsigned proxy error page counts as bunq down: retried, its text never used', async () => {
    const { c, urls } = make(() => reply(502, '<html>Bad Gateway: Insufficient authorisation.</html>', false));
    const err = await catchError(c.getIp(9, 1));
    expect(err).toMatchObject({ kind: 'server-error', status: 502, descriptions: [] });
    expect(urls.length).toBeGreaterThan(1);
  });

  it('an unsigned 4xx (bunq may not sign errors: profile errors-unsigned) is a refusal marked as unsigned, not retried', async () => {
    const { c, urls } = make(() => reply(400, { Error: [{ error_description: 'User credentials are incorrect.' }] }, false));
    const err = await catchError(c.getIp(9, 1));
    expect(err).toMatchObject({ kind: 'credentials-rejected', status: 400, descriptions: ['User credentials are incorrect.'] });
    expect((err as Error).message).toContain('(reply not signed by bunq) (HTTP 400)');
    expect(urls).toHaveLength(1);
  });

  it('a 4xx whose signature is present but wrong is still not trusted (response-signature-invalid)', async () => {
    const { c } = make(() => {
      const r = reply(404, { Error: [{ error_description: 'PermittedIp for id "1" not found.' }] });
      return { ...r, headers: { ...r.headers, 'x-bunq-server-signature': Buffer.from('forged').toString('base64') } };
    });
    expect(await catchError(c.getIp(9, 1))).toMatchObject({ kind: 'response-signature-invalid', status: 404 });
  });

  it('an unsigned 429 is expected and retried', async () => {
    const { c } = make((_req, n) => (n === 1 ? reply(429, { Error: [{ error_description: 'Too many requests.' }] }, false) : reply(200, { Response: [ip(1)] })));
    expect(await c.getIp(9, 1)).toMatchObject({ id: 1 });
  });

  it('an unsigned 429 is classified by its status alone: its text is neither the kind nor the message', async () => {
    const text = 'User credentials are incorrect. Incorrect API key or IP address. <anything an unsigned hop writes>';
    const { c, urls } = make(() => reply(429, { Error: [{ error_description: text }] }, false));
    const err = await catchError(c.listIps(9));
    expect(err).toMatchObject({ kind: 'rate-limited', status: 429, descriptions: [], retryable: true });
    expect((err as Error).message).not.toContain('credentials');
    expect(urls).toHaveLength(2); // retried, as a rate limit is
  });

  it('still waits the window an unsigned 429 names (capped), without reporting its text', async () => {
    const clock = new ManualClock();
    const s = scripted((_req, n) =>
      n === 1 ? reply(429, { Error: [{ error_description: 'Too many requests. You can do a maximum of 1 calls per 30 second to this endpoint.' }] }, false) : reply(200, { Response: [ip(1)] }),
    );
    const c = new BunqClient({ context: context(), transport: s.transport, clock, retry: { maxAttempts: 2 }, rateLimits: [] });
    const t0 = clock.now();
    expect(await c.getIp(9, 1)).toMatchObject({ id: 1 });
    expect(clock.now() - t0).toBeGreaterThanOrEqual(30_000);
  });

  it.each([
    [500, 'Insufficient authentication.'],
    [400, 'Insufficient authorisation.'],
    [403, 'Insufficient authorisation.'],
  ])('a signed %i saying "%s" refreshes the session and retries once', async (status, text) => {
    let sessions = 0;
    const s = scripted((req, n) => {
      if (req.url.endsWith('/session-server')) {
        sessions++;
        return reply(200, {
          Response: [{ Id: { id: 5 } }, { Token: { token: 'n'.repeat(64) } }, { UserPerson: { id: 7, session_timeout: 3600 } }],
        });
      }
      return n === 1 ? reply(status, { Error: [{ error_description: text }] }) : reply(200, { Response: [ip(1)] });
    });
    const c = new BunqClient({ context: context(), transport: s.transport, clock: new ManualClock(), retry: { maxAttempts: 2 } });
    expect(await c.getIp(9, 1)).toMatchObject({ id: 1 });
    expect(sessions).toBe(1);
    expect(c.context.session?.token).toBe('n'.repeat(64));
  });

  it('a signed 409 (the sandbox\'s rate limit) is retried as rate-limited, never a refusal', async () => {
    const { c, urls } = make((_req, n) => (n === 1 ? reply(409, { Error: [{ error_description: 'Too many requests.' }] }) : reply(200, { Response: [{ Id: { id: 1 } }] })));
    expect(await c.updateIpStatus(9, 1, 'ACTIVE')).toBe(1);
    expect(urls).toHaveLength(2);
  });

  it('an installation reply with a key that does not parse → malformed-reply', async () => {
    const s = scripted(() => reply(200, { Response: [{ Id: { id: 1 } }, { Token: { token: 't'.repeat(64) } }, { ServerPublicKey: { server_public_key: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' } }] }));
    const err = await catchError(createContext({ apiKey: 'k'.repeat(64), environment: 'PRODUCTION', deviceDescription: 'x', keyPair: client, transport: s.transport }));
    expect(err).toMatchObject({ kind: 'malformed-reply', operation: 'POST /v1/installation', message: expect.stringContaining('does not parse') });
    expect(s.urls).toEqual(['https://api.bunq.com/v1/installation']);
  });

  it('a device-server reply without Id → malformed-reply; the device-server POST is not repeated on 5xx', async () => {
    const installation = { Response: [{ Id: { id: 1 } }, { Token: { token: 't'.repeat(64) } }, { ServerPublicKey: { server_public_key: server.publicKeyPem } }] };
    const bad = scripted((_r, n) => (n === 1 ? reply(200, installation, false) : reply(200, { Response: [] })));
    expect(await catchError(createContext({ apiKey: 'k'.repeat(64), environment: 'SANDBOX', deviceDescription: 'x', keyPair: client, transport: bad.transport }))).toMatchObject({
      kind: 'malformed-reply', operation: 'POST /v1/device-server',
    });
    const down = scripted((_r, n) => (n === 1 ? reply(200, installation, false) : reply(500, { Error: [] })));
    expect(await catchError(createContext({ apiKey: 'k'.repeat(64), environment: 'SANDBOX', deviceDescription: 'x', keyPair: client, transport: down.transport }))).toMatchObject({
      kind: 'outcome-unknown', status: 500,
    });
    expect(down.urls).toHaveLength(2);
  });

  it('a session-server reply without a user → malformed-reply, session unchanged', async () => {
    const s = scripted(() => reply(200, { Response: [{ Id: { id: 4 } }, { Token: { token: 'n'.repeat(64) } }] }));
    const c = new BunqClient({ context: { ...context(), session: null }, transport: s.transport, clock: new ManualClock() });
    expect(await catchError(c.ensureSession())).toMatchObject({ kind: 'malformed-reply', operation: 'POST /v1/session-server' });
    expect(c.context.session).toBeNull();
    expect(c.stats.sessionRefreshes).toBe(0);
  });
});

describe('public surface (lambdas/bunq/index.ts)', () => {
  it('exports the client, bootstrap, port, errors and limiter', () => {
    for (const name of ['BunqClient', 'createContext', 'whitelistPort', 'BunqError', 'isBunqError', 'RateLimiter', 'CLASSIC_RATE_LIMITS', 'nodeTransport', 'BUNQ_BASE_URLS']) {
      expect(api).toHaveProperty(name);
    }
  });
});

