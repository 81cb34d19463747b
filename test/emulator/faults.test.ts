import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROUTES, startEmulator, type BunqEmulator } from '../../emulator';
import { errorText, item, RawBunqCaller, serverSignatureValid, type RawResponse } from './support';

let emu: BunqEmulator;
let caller: RawBunqCaller;
let credentialId: number;

beforeAll(async () => {
  emu = await startEmulator({ rateLimits: false });
});
afterAll(async () => {
  await emu.close();
});
beforeEach(async () => {
  emu.faults.clear();
  const user = emu.createUser();
  credentialId = user.credentialId;
  caller = await new RawBunqCaller(emu.url).connect(user.apiKey);
  emu.clearRequestLog();
});

const ips = (): string[] => emu.listIpEntries(credentialId).map((e) => e.ip);

function addIp(ip: string, timeoutMs?: number): Promise<RawResponse> {
  return caller.send('POST', caller.ipPath(credentialId), {
    token: caller.sessionToken,
    body: { ip },
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

describe('status faults', () => {
  it.each([
    [503, undefined, 'Service temporarily unavailable. Please try again later.'],
    [491, 'Down for maintenance.', 'Down for maintenance.'],
    [500, undefined, 'Something went wrong on our side. Please contact bunq support.'],
    [418, undefined, 'Injected error with status 418.'],
  ])('answers %i with a signed bunq error body and does not apply the call', async (status, description, text) => {
    emu.faults.add({ method: 'POST', route: ROUTES.ipList, fault: { type: 'status', status, ...(description ? { description } : {}) } });
    const res = await addIp('192.0.2.1');
    expect([res.status, errorText(res)]).toEqual([status, text]);
    expect(serverSignatureValid(res, caller.serverPublicKeyPem)).toBe(true);
    expect(ips()).toEqual(['127.0.0.1']);
    expect(emu.requests.at(-1)).toMatchObject({ status, fault: `status:${status}`, route: ROUTES.ipList });
    expect(emu.faults.pending).toBe(0);
    expect((await addIp('192.0.2.1')).status).toBe(200); // fired once only
  });

  it('answers an injected 429 unsigned, with bunq\'s rate-limit text', async () => {
    emu.faults.add({ fault: { type: 'status', status: 429 } });
    const res = await caller.get('/v1/user');
    expect([res.status, errorText(res)]).toEqual([429, 'Too many requests. You can do a maximum of 3 calls per 3 second to this endpoint.']);
    expect(res.headers['x-bunq-server-signature']).toBeUndefined();
  });
});

describe('transport faults', () => {
  it('delay holds the reply (real timers) and then handles the call normally', async () => {
    emu.faults.add({ route: ROUTES.ipList, method: 'POST', fault: { type: 'delay', ms: 150 } });
    await expect(addIp('192.0.2.2', 40)).rejects.toThrow(/client timeout/);
    // Delay happens before handling: the call is applied only once the delay is over.
    expect(ips()).toEqual(['127.0.0.1']);
    await until(() => emu.requests.some((r) => r.fault === 'delay:150ms' && r.status === 200));
    expect(ips()).toEqual(['127.0.0.1', '192.0.2.2']);

    emu.faults.add({ fault: { type: 'delay', ms: 20 } });
    expect((await caller.get('/v1/user')).status).toBe(200);
  });

  it('drop destroys the socket without a reply and without applying the call', async () => {
    emu.faults.add({ method: 'POST', fault: { type: 'drop' } });
    await expect(addIp('192.0.2.3')).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(ips()).toEqual(['127.0.0.1']);
    expect(emu.requests.at(-1)).toMatchObject({ status: 0, fault: 'drop' });
  });

  it('garbage-body answers 200 with a non-JSON (but signed) body and applies nothing', async () => {
    emu.faults.add({ method: 'POST', fault: { type: 'garbage-body' } });
    const res = await addIp('192.0.2.4');
    expect(res.status).toBe(200);
    expect(() => res.json()).toThrow();
    expect(res.headers['content-type']).toBe('text/html');
    expect(serverSignatureValid(res, caller.serverPublicKeyPem)).toBe(true);
    expect(ips()).toEqual(['127.0.0.1']);
  });

  it('bad-signature sends a signature that does not verify; no-signature sends none', async () => {
    emu.faults.add({ route: ROUTES.userList, fault: { type: 'bad-signature' } });
    const bad = await caller.get('/v1/user');
    expect(bad.status).toBe(200);
    expect(typeof bad.headers['x-bunq-server-signature']).toBe('string');
    expect(serverSignatureValid(bad, caller.serverPublicKeyPem)).toBe(false);

    emu.faults.add({ route: ROUTES.userList, fault: { type: 'no-signature' } });
    const none = await caller.get('/v1/user');
    expect(none.status).toBe(200);
    expect(none.headers['x-bunq-server-signature']).toBeUndefined();
    expect(none.headers['x-bunq-client-response-id']).toBeTypeOf('string');

    const fine = await caller.get('/v1/user');
    expect(serverSignatureValid(fine, caller.serverPublicKeyPem)).toBe(true);
  });
});

describe('apply-then-fail faults store the change before failing', () => {
  it('apply-then-status: the entry exists although the reply is a 500', async () => {
    emu.faults.add({ method: 'POST', route: ROUTES.ipList, fault: { type: 'apply-then-status', status: 500 } });
    const res = await addIp('192.0.2.5');
    expect(res.status).toBe(500);
    expect(ips()).toEqual(['127.0.0.1', '192.0.2.5']);
    expect(emu.requests.at(-1)?.fault).toBe('apply-then-status:500');
  });

  it('apply-then-drop: the entry exists although the socket was dropped', async () => {
    emu.faults.add({ method: 'PUT', route: ROUTES.ip, fault: { type: 'apply-then-drop' } });
    const entry = emu.addIpEntryAsApp(credentialId, '192.0.2.6', 'ACTIVE');
    await expect(caller.put(caller.ipPath(credentialId, entry.id), { status: 'INACTIVE' })).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(emu.listIpEntries(credentialId).find((e) => e.id === entry.id)?.status).toBe('INACTIVE');
  });

  it('apply-then-delay: the entry exists at once; the reply comes after the client gave up', async () => {
    emu.faults.add({ method: 'POST', route: ROUTES.ipList, fault: { type: 'apply-then-delay', ms: 150 } });
    await expect(addIp('192.0.2.7', 40)).rejects.toThrow(/client timeout/);
    expect(ips()).toEqual(['127.0.0.1', '192.0.2.7']);
  });
});

describe('fault rule scripting', () => {
  it('fires on the nth matching call for `times` calls, counting only matching calls', async () => {
    emu.faults.add({ method: 'GET', route: ROUTES.userList, nth: 2, times: 2, fault: { type: 'status', status: 503 } });
    expect(emu.faults.pending).toBe(1);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await caller.get('/v1/user')).status);
      expect((await caller.get(`/v1/user/${caller.userId}`)).status).toBe(200); // other route: not counted
    }
    expect(statuses).toEqual([200, 503, 503, 200]);
    expect(emu.faults.pending).toBe(0);
  });

  it('times: Infinity fires until cleared; the oldest matching rule wins', async () => {
    emu.faults.add({ route: ROUTES.userList, times: Infinity, fault: { type: 'status', status: 503 } });
    emu.faults.add({ route: ROUTES.userList, fault: { type: 'status', status: 500 } });
    expect((await caller.get('/v1/user')).status).toBe(503);
    expect((await caller.get('/v1/user')).status).toBe(503);
    expect(emu.faults.pending).toBe(1); // the 500 rule was consumed (its call was taken by the older rule)
    emu.faults.clear();
    expect(emu.faults.pending).toBe(0);
    expect((await caller.get('/v1/user')).status).toBe(200);
  });

  it('matches unknown paths only with rules that name no route', async () => {
    emu.faults.add({ route: ROUTES.userList, fault: { type: 'status', status: 503 } });
    emu.faults.add({ fault: { type: 'status', status: 500 } });
    const res = await caller.get('/v1/nowhere');
    expect(res.status).toBe(500);
    // Looked up by path, not as the last entry: an earlier test's apply-then-delay call is logged
    // when its delayed reply goes out, which may be after this request.
    expect(emu.requests.filter((r) => r.path === '/v1/nowhere').at(-1)).toMatchObject({ route: null, fault: 'status:500' });
  });

  it('refuses malformed rules', () => {
    expect(() => emu.faults.add({ nth: 0, fault: { type: 'drop' } })).toThrow(/nth must be an integer >= 1/);
    expect(() => emu.faults.add({ times: 1.5, fault: { type: 'drop' } })).toThrow(/times must be an integer >= 1 or Infinity/);
  });

  it('close() does not wait for pending fault delays', async () => {
    const other = await startEmulator({ rateLimits: false });
    other.faults.add({ fault: { type: 'delay', ms: 60_000 } });
    const pending = new RawBunqCaller(other.url).send('POST', '/v1/sandbox-user-person').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    await other.close();
    await other.close(); // idempotent
    expect(await pending).toBeInstanceOf(Error);
    expect(other.requests).toHaveLength(0);
  });

  it('keeps the reply shape under a fault-free call right after faults', async () => {
    const res = await addIp('192.0.2.8');
    expect(item(res, 0, 'Id').id).toBeTypeOf('number');
  });
});
