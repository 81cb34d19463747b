import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type BunqEmulator } from '../../emulator';
import { errorText, RawBunqCaller, type RawResponse } from './support';

// Every address in 127/8 is local on Linux, so distinct source addresses give distinct caller IPs.
const HOME = '127.0.0.2';
const OTHER = '127.0.0.3';
const REJECTED = [400, 'User credentials are incorrect. Incorrect API key or IP address.'];

let emu: BunqEmulator;
beforeAll(async () => {
  emu = await startEmulator({ rateLimits: false });
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => {
  emu.config.enforceIpWhitelist = true;
  emu.config.mapCallerIp = undefined;
});

function statusAndText(res: RawResponse): [number, string] {
  return [res.status, errorText(res)];
}

describe('IP whitelist enforcement', () => {
  it('binds the caller IP at first registration and refuses calls from any other source address', async () => {
    const { apiKey, credentialId } = emu.createUser();
    const home = await new RawBunqCaller(emu.url, HOME).connect(apiKey);
    expect(emu.listIpEntries(credentialId).map((e) => e.ip)).toEqual([HOME]);
    expect((await home.get('/v1/user')).status).toBe(200);

    // The same session token from another address is refused.
    const stolen = new RawBunqCaller(emu.url, OTHER);
    const res = await stolen.send('GET', '/v1/user', { token: home.sessionToken });
    expect(statusAndText(res)).toEqual(REJECTED);

    // A second installation from the other address cannot register or open a session.
    const other = new RawBunqCaller(emu.url, OTHER);
    await other.install();
    expect(statusAndText(await other.registerDevice(apiKey))).toEqual(REJECTED);

    // Once home adds OTHER as ACTIVE, OTHER can register and open a session.
    expect((await home.post(home.ipPath(credentialId), { ip: OTHER })).status).toBe(200);
    expect((await other.registerDevice(apiKey)).status).toBe(200);
    expect((await other.startSession(apiKey)).status).toBe(200);
    expect((await other.get('/v1/user')).status).toBe(200);
    // A later registration leaves the whitelist as it was.
    expect(emu.listIpEntries(credentialId).map((e) => e.ip)).toEqual([HOME, OTHER]);

    // Deactivating OTHER shuts its session out on the next call.
    const otherEntry = emu.listIpEntries(credentialId).find((e) => e.ip === OTHER);
    expect((await home.put(home.ipPath(credentialId, otherEntry?.id ?? 0), { status: 'INACTIVE' })).status).toBe(200);
    expect(statusAndText(await other.get('/v1/user'))).toEqual(REJECTED);
    expect(statusAndText(await other.startSession(apiKey))).toEqual(REJECTED);
  });

  it('an ACTIVE "*" entry lets any address in; an INACTIVE one does not', async () => {
    const { apiKey, credentialId } = emu.createUser();
    const home = await new RawBunqCaller(emu.url, HOME).connect(apiKey);
    const star = emu.addIpEntryAsApp(credentialId, '*', 'INACTIVE');
    const other = new RawBunqCaller(emu.url, OTHER);
    await other.install();
    expect(statusAndText(await other.registerDevice(apiKey))).toEqual(REJECTED);
    emu.setIpStatusAsApp(credentialId, star.id, 'ACTIVE');
    expect((await other.registerDevice(apiKey)).status).toBe(200);
    expect((await other.startSession(apiKey)).status).toBe(200);
    expect((await home.get('/v1/user')).status).toBe(200);
  });

  it('device-server permitted_ips: ["*"] binds the caller IP plus "*" (a wildcard key)', async () => {
    const { apiKey, credentialId } = emu.createUser();
    await new RawBunqCaller(emu.url, HOME).connect(apiKey, ['*']);
    expect(emu.listIpEntries(credentialId).map((e) => [e.ip, e.status])).toEqual([[HOME, 'ACTIVE'], ['*', 'ACTIVE']]);
    const anywhere = new RawBunqCaller(emu.url, '127.0.0.9');
    await anywhere.install();
    expect((await anywhere.registerDevice(apiKey)).status).toBe(200);
    expect((await anywhere.startSession(apiKey)).status).toBe(200);
  });

  it('device-server permitted_ips: an empty list binds the caller IP; a concrete list binds exactly those', async () => {
    const a = emu.createUser();
    await new RawBunqCaller(emu.url, HOME).connect(a.apiKey, []);
    expect(emu.listIpEntries(a.credentialId).map((e) => e.ip)).toEqual([HOME]);

    const b = emu.createUser();
    const caller = new RawBunqCaller(emu.url, HOME);
    await caller.install();
    expect((await caller.registerDevice(b.apiKey, ['198.51.100.4', '198.51.100.4', '*'])).status).toBe(200);
    expect(emu.listIpEntries(b.credentialId).map((e) => e.ip)).toEqual(['198.51.100.4', '*']);

    const c = emu.createUser();
    const elsewhere = new RawBunqCaller(emu.url, HOME);
    await elsewhere.install();
    expect((await elsewhere.registerDevice(c.apiKey, ['198.51.100.5'])).status).toBe(200);
    // The registering host itself is not on the list, so it cannot open a session (bunq/sdk_python#147).
    expect(statusAndText(await elsewhere.startSession(c.apiKey))).toEqual(REJECTED);
  });

  it('mapCallerIp turns the peer address into the IP bunq would see', async () => {
    const { apiKey, credentialId } = emu.createUser();
    emu.config.mapCallerIp = (peer) => (peer === HOME ? '203.0.113.50' : '203.0.113.51');
    const home = await new RawBunqCaller(emu.url, HOME).connect(apiKey);
    expect(emu.listIpEntries(credentialId).map((e) => e.ip)).toEqual(['203.0.113.50']);
    expect(emu.requests.at(-1)?.callerIp).toBe('203.0.113.50');
    const other = new RawBunqCaller(emu.url, OTHER);
    expect(errorText(await other.send('GET', '/v1/user', { token: home.sessionToken }))).toBe(REJECTED[1]);
  });

  it('enforceIpWhitelist: false lets every address in', async () => {
    const { apiKey } = emu.createUser();
    const home = await new RawBunqCaller(emu.url, HOME).connect(apiKey);
    emu.config.enforceIpWhitelist = false;
    const other = new RawBunqCaller(emu.url, OTHER);
    expect((await other.send('GET', '/v1/user', { token: home.sessionToken })).status).toBe(200);
    await other.install();
    expect((await other.registerDevice(apiKey)).status).toBe(200);
    expect((await other.startSession(apiKey)).status).toBe(200);
  });
});
