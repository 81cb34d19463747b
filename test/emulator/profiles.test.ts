import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock';
import { EMULATOR_PROFILES, parseProfiles, startEmulator, type BunqEmulator } from '../../emulator';
import { errorText, item, items, RawBunqCaller, serverSignatureValid } from './support';

// Each profile plays the other answer to one of bunq's open questions; these pin down what each one
// changes on the wire (the reconciler's behaviour under them is test/profiles/).

let emu: BunqEmulator;
let clock: ManualClock;

beforeAll(async () => {
  clock = new ManualClock(Date.UTC(2026, 2, 1, 12, 0, 0));
  emu = await startEmulator({ rateLimits: false, clock, seed: 14 });
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => {
  emu.config.profiles.clear();
  emu.config.rateLimits = false;
});

async function connect(permittedIps?: string[]): Promise<{ caller: RawBunqCaller; credentialId: number }> {
  const user = emu.createUser();
  const caller = await new RawBunqCaller(emu.url).connect(user.apiKey, permittedIps);
  return { caller, credentialId: user.credentialId };
}

describe('profile names', () => {
  it('are validated, deduplicated, and unknown ones name the known ones', async () => {
    expect(parseProfiles(['no-entry-ids', 'no-entry-ids', 'errors-unsigned'])).toEqual(['no-entry-ids', 'errors-unsigned']);
    expect(() => parseProfiles(['no-ids'])).toThrow(`unknown emulator profile "no-ids" (known: ${EMULATOR_PROFILES.join(', ')})`);
    await expect(startEmulator({ profiles: ['nope' as never] })).rejects.toThrow(/unknown emulator profile "nope"/);
  });
});

describe('standard-key-cannot-add-ips', () => {
  it('refuses a POST of a new IP on a key registered without "*", with a bunq-shaped error', async () => {
    emu.config.profiles.add('standard-key-cannot-add-ips');
    const { caller, credentialId } = await connect();
    const refused = await caller.post(caller.ipPath(credentialId), { ip: '203.0.113.7' });
    expect(refused.status).toBe(400);
    expect(errorText(refused)).toMatch(/^You cannot add new IP addresses to this API key: it is linked to the IP addresses it was created with\./);
    expect(refused.json()).toMatchObject({ Error: [{ error_description_translated: errorText(refused) }] });
    expect(serverSignatureValid(refused, caller.serverPublicKeyPem)).toBe(true);
    expect(emu.listIpEntries(credentialId).map((e) => e.ip)).toEqual(['127.0.0.1']);
    // Changing the status of the entries it has still works.
    const own = emu.listIpEntries(credentialId)[0];
    expect((await caller.put(caller.ipPath(credentialId, own?.id), { status: 'ACTIVE' })).status).toBe(200);
  });

  it('lets a wildcard key add IPs, also after "*" was switched off in the app (the remedy)', async () => {
    emu.config.profiles.add('standard-key-cannot-add-ips');
    const { caller, credentialId } = await connect(['127.0.0.1', '*']);
    const star = emu.listIpEntries(credentialId).find((e) => e.ip === '*');
    emu.setIpStatusAsApp(credentialId, star?.id ?? 0, 'INACTIVE');
    expect((await caller.post(caller.ipPath(credentialId), { ip: '203.0.113.8' })).status).toBe(200);
  });

  it('is off by default: a standard key adds IPs', async () => {
    const { caller, credentialId } = await connect();
    expect((await caller.post(caller.ipPath(credentialId), { ip: '203.0.113.9' })).status).toBe(200);
  });
});

describe('wildcard-unlisted', () => {
  it('hides "*" from list and read, while it still admits every caller', async () => {
    const { caller, credentialId } = await connect(['127.0.0.1', '*']);
    const star = emu.listIpEntries(credentialId).find((e) => e.ip === '*');
    expect(items(await caller.get(caller.ipPath(credentialId)), 'PermittedIp').map((e) => e.ip).sort()).toEqual(['*', '127.0.0.1']);

    emu.config.profiles.add('wildcard-unlisted');
    const listed = await caller.get(caller.ipPath(credentialId));
    expect(items(listed, 'PermittedIp').map((e) => e.ip)).toEqual(['127.0.0.1']);
    expect((await caller.get(caller.ipPath(credentialId, star?.id))).status).toBe(404);
    expect((await caller.put(caller.ipPath(credentialId, star?.id), { status: 'INACTIVE' })).status).toBe(404);
    // Our own entry off: the hidden "*" still lets us in.
    const own = emu.listIpEntries(credentialId).find((e) => e.ip === '127.0.0.1');
    emu.setIpStatusAsApp(credentialId, own?.id ?? 0, 'INACTIVE');
    expect((await caller.get(caller.ipPath(credentialId))).status).toBe(200);
  });
});

describe('no-entry-ids', () => {
  it('list and read replies carry only ip and status; POST still answers with an Id', async () => {
    emu.config.profiles.add('no-entry-ids');
    const { caller, credentialId } = await connect();
    const created = await caller.post(caller.ipPath(credentialId), { ip: '203.0.113.10' });
    const id = Number(item(created, 0, 'Id').id);
    expect(id).toBeGreaterThan(0);
    expect(items(await caller.get(caller.ipPath(credentialId)), 'PermittedIp')).toEqual([
      { ip: '203.0.113.10', status: 'ACTIVE' },
      { ip: '127.0.0.1', status: 'ACTIVE' },
    ]);
    expect(item(await caller.get(caller.ipPath(credentialId, id)), 0, 'PermittedIp')).toEqual({ ip: '203.0.113.10', status: 'ACTIVE' });
  });
});

describe('errors-unsigned', () => {
  it('leaves 4xx replies unsigned and keeps signing successes and 5xx', async () => {
    emu.config.profiles.add('errors-unsigned');
    const { caller, credentialId } = await connect();
    const notFound = await caller.get(caller.ipPath(credentialId, 999_999));
    expect(notFound.status).toBe(404);
    expect(notFound.headers['x-bunq-server-signature']).toBeUndefined();
    expect(notFound.headers['x-bunq-client-response-id']).toBeDefined();
    const ok = await caller.get(caller.ipPath(credentialId));
    expect(serverSignatureValid(ok, caller.serverPublicKeyPem)).toBe(true);
    emu.faults.add({ fault: { type: 'status', status: 500 } });
    const broken = await caller.get(caller.ipPath(credentialId));
    expect([broken.status, serverSignatureValid(broken, caller.serverPublicKeyPem)]).toEqual([500, true]);

    emu.config.profiles.clear();
    const signed = await caller.get(caller.ipPath(credentialId, 999_999));
    expect(serverSignatureValid(signed, caller.serverPublicKeyPem)).toBe(true);
  });
});

describe('slow-instead-of-429', () => {
  it('holds calls over the limit until the window admits them, on the clock, instead of a 429', async () => {
    const { caller } = await connect();
    emu.config.rateLimits = [{ method: 'GET', limit: 2, windowMs: 1000 }];
    emu.config.profiles.add('slow-instead-of-429');
    emu.clearRequestLog();
    const start = clock.now();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await caller.get('/v1/user')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(emu.requests.map((r) => r.slowedMs ?? 0)).toEqual([0, 0, 1000, 0, 1000]);
    expect(clock.now() - start).toBe(2000);

    emu.config.profiles.clear();
    const refused = [await caller.get('/v1/user'), await caller.get('/v1/user'), await caller.get('/v1/user')];
    expect(refused.map((r) => r.status)).toEqual([200, 429, 429]);
  });

  it('queues calls held at once: each gets its own slot in the window', async () => {
    const { caller } = await connect();
    emu.config.rateLimits = [{ method: 'GET', limit: 1, windowMs: 500 }];
    emu.config.profiles.add('slow-instead-of-429');
    clock.advance(10_000);
    emu.clearRequestLog();
    const replies = await Promise.all([caller.get('/v1/user'), caller.get('/v1/user'), caller.get('/v1/user')]);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
    const handledAt = emu.requests.map((r) => r.at + (r.slowedMs ?? 0)).sort((a, b) => a - b);
    expect(handledAt[1]! - handledAt[0]!).toBeGreaterThanOrEqual(500);
    expect(handledAt[2]! - handledAt[1]!).toBeGreaterThanOrEqual(500);
  });
});
