import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock';
import { DEFAULT_RATE_LIMITS, ROUTES, startEmulator, type BunqEmulator, type EmulatorOptions } from '../../emulator';
import { errorText, RawBunqCaller, serverSignatureValid } from './support';

let emu: BunqEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function start(options: EmulatorOptions): Promise<BunqEmulator> {
  emu = await startEmulator(options);
  return emu;
}

describe('rate limits (classic table, rolling window, per caller IP + route + method)', () => {
  it('allows 3 GETs per 3 s, answers the 4th with an unsigned 429, and admits again once the window rolls', async () => {
    const clock = new ManualClock();
    const e = await start({ clock });
    const { apiKey } = e.createUser();
    const caller = await new RawBunqCaller(e.url).connect(apiKey);
    for (let i = 0; i < 3; i++) expect((await caller.get('/v1/user')).status).toBe(200);
    const limited = await caller.get('/v1/user');
    expect(limited.status).toBe(429);
    expect(errorText(limited)).toBe('Too many requests. You can do a maximum of 3 calls per 3 second to this endpoint.');
    expect(limited.headers['x-bunq-server-signature']).toBeUndefined();

    // Another route has its own window; so does another caller IP.
    expect((await caller.get(`/v1/user/${caller.userId}`)).status).toBe(200);
    const other = new RawBunqCaller(e.url, '127.0.0.5');
    expect((await other.send('GET', '/v1/user', { token: caller.sessionToken })).status).toBe(400); // whitelist, not 429

    clock.advance(2999);
    expect((await caller.get('/v1/user')).status).toBe(429);
    clock.advance(1);
    const again = await caller.get('/v1/user');
    expect(again.status).toBe(200);
    expect(serverSignatureValid(again, caller.serverPublicKeyPem)).toBe(true);
  });

  it('limits POST to 5, PUT to 2 per 3 s and session-server to 1 per 30 s', async () => {
    const clock = new ManualClock();
    const e = await start({ clock });
    const { apiKey, credentialId } = e.createUser();
    const caller = new RawBunqCaller(e.url);
    await caller.install(); // POST 1 on /installation
    expect((await caller.registerDevice(apiKey)).status).toBe(200);
    expect((await caller.startSession(apiKey)).status).toBe(200);
    const second = await caller.startSession(apiKey);
    expect([second.status, errorText(second)]).toEqual([429, 'Too many requests. You can do a maximum of 1 calls per 30 second to this endpoint.']);
    clock.advance(29_999);
    expect((await caller.startSession(apiKey)).status).toBe(429);
    clock.advance(1);
    expect((await caller.startSession(apiKey)).status).toBe(200);

    const statuses: number[] = [];
    for (let i = 1; i <= 6; i++) statuses.push((await caller.post(caller.ipPath(credentialId), { ip: `192.0.2.${i}` })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(e.listIpEntries(credentialId)).toHaveLength(6); // the refused call changed nothing

    const entry = e.listIpEntries(credentialId)[1];
    const puts: number[] = [];
    for (const status of ['INACTIVE', 'ACTIVE', 'INACTIVE']) puts.push((await caller.put(caller.ipPath(credentialId, entry?.id ?? 0), { status })).status);
    expect(puts).toEqual([200, 200, 429]);
    expect(e.requests.filter((r) => r.status === 429).map((r) => r.route)).toEqual([
      ROUTES.sessionServer, ROUTES.sessionServer, ROUTES.ipList, ROUTES.ip,
    ]);
  });

  it('takes a custom table (scaled-down windows) at start and at run time, and can be disabled', async () => {
    const clock = new ManualClock();
    const e = await start({ clock, rateLimits: [{ method: 'GET', limit: 1, windowMs: 50 }] });
    const { apiKey } = e.createUser();
    const caller = await new RawBunqCaller(e.url).connect(apiKey); // POSTs: no rule, unlimited
    expect((await caller.get('/v1/user')).status).toBe(200);
    const limited = await caller.get('/v1/user');
    expect(errorText(limited)).toBe('Too many requests. You can do a maximum of 1 calls per 0.05 second to this endpoint.');
    clock.advance(50);
    expect((await caller.get('/v1/user')).status).toBe(200);

    e.config.rateLimits = false;
    for (let i = 0; i < 5; i++) expect((await caller.get('/v1/user')).status).toBe(200);
    e.config.rateLimits = DEFAULT_RATE_LIMITS.map((r) => ({ ...r }));
    expect(DEFAULT_RATE_LIMITS).toHaveLength(5);
  });

  it('rejects a nonsensical rate-limit rule or session timeout at start', async () => {
    await expect(startEmulator({ rateLimits: [{ method: 'GET', limit: 0, windowMs: 3000 }] })).rejects.toThrow(/limit must be an integer >= 1/);
    await expect(startEmulator({ sessionTimeoutSeconds: 0 })).rejects.toThrow(/sessionTimeoutSeconds must be a positive number/);
  });
});

describe('session expiry', () => {
  it('reports session_timeout and answers 401 once it has passed (sliding: each call extends it)', async () => {
    const clock = new ManualClock();
    const e = await start({ clock, rateLimits: false, sessionTimeoutSeconds: 300 });
    const { apiKey } = e.createUser();
    const caller = new RawBunqCaller(e.url);
    await caller.install();
    await caller.registerDevice(apiKey);
    const ses = await caller.startSession(apiKey);
    expect(ses.json()).toMatchObject({ Response: [{}, {}, { UserPerson: { session_timeout: 300 } }] });

    clock.advance(299_000);
    expect((await caller.get('/v1/user')).status).toBe(200); // slides expiry to now + 300 s
    clock.advance(299_000);
    expect((await caller.get('/v1/user')).status).toBe(200);
    clock.advance(300_000);
    const expired = await caller.get('/v1/user');
    expect([expired.status, errorText(expired)]).toEqual([401, 'Insufficient authorisation.']);
    // A new session works again.
    expect((await caller.startSession(apiKey)).status).toBe(200);
    expect((await caller.get('/v1/user')).status).toBe(200);
  });

  it('profile fixed-session-expiry keeps the expiry fixed at creation + session_timeout', async () => {
    const clock = new ManualClock();
    const e = await start({ clock, rateLimits: false, sessionTimeoutSeconds: 300, profiles: ['fixed-session-expiry'] });
    const { apiKey } = e.createUser();
    const caller = await new RawBunqCaller(e.url).connect(apiKey);
    clock.advance(200_000);
    expect((await caller.get('/v1/user')).status).toBe(200);
    clock.advance(99_999);
    expect((await caller.get('/v1/user')).status).toBe(200);
    clock.advance(1);
    expect((await caller.get('/v1/user')).status).toBe(401);
  });

  it('takes a new session_timeout at run time for new sessions, and expireSessions() ends all sessions', async () => {
    const clock = new ManualClock();
    const e = await start({ clock, rateLimits: false });
    const { apiKey } = e.createUser();
    const caller = await new RawBunqCaller(e.url).connect(apiKey);
    e.config.sessionTimeoutSeconds = 60;
    const ses = await caller.startSession(apiKey);
    expect(ses.json()).toMatchObject({ Response: [{}, {}, { UserPerson: { session_timeout: 60 } }] });
    e.expireSessions();
    expect((await caller.get('/v1/user')).status).toBe(401);
    // The installation token is not a session: device-server and session-server still accept it.
    expect((await caller.startSession(apiKey)).status).toBe(200);
  });
});
