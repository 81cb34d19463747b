import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock';
import { startEmulator, type BunqEmulator } from '../../emulator';
import { envelope, errorText, item, items, RawBunqCaller } from './support';

let emu: BunqEmulator;
let clock: ManualClock;
let caller: RawBunqCaller;
let credentialId: number;

beforeAll(async () => {
  clock = new ManualClock(Date.UTC(2026, 2, 1, 12, 0, 0));
  emu = await startEmulator({ rateLimits: false, clock, seed: 42 });
});
afterAll(async () => {
  await emu.close();
});
beforeEach(async () => {
  emu.config.profiles.clear();
  const user = emu.createUser();
  credentialId = user.credentialId;
  caller = await new RawBunqCaller(emu.url).connect(user.apiKey);
});

describe('PermittedIp endpoints', () => {
  it('adds, reads, lists and updates entries with bunq\'s shapes', async () => {
    const created = await caller.post(caller.ipPath(credentialId), { ip: '203.0.113.7', status: 'ACTIVE' });
    expect(created.status).toBe(200);
    const id = Number(item(created, 0, 'Id').id);
    expect(Object.keys(item(created, 0, 'Id'))).toEqual(['id']);

    const read = await caller.get(caller.ipPath(credentialId, id));
    expect(item(read, 0, 'PermittedIp')).toEqual({
      id, created: '2026-03-01 12:00:00.000000', updated: '2026-03-01 12:00:00.000000', ip: '203.0.113.7', status: 'ACTIVE',
    });
    expect(envelope(read).Pagination).toBeUndefined();

    clock.advance(1500);
    const put = await caller.put(caller.ipPath(credentialId, id), { status: 'INACTIVE' });
    expect(put.status).toBe(200);
    expect(item(put, 0, 'Id').id).toBe(id);
    const after = await caller.get(caller.ipPath(credentialId, id));
    expect(item(after, 0, 'PermittedIp')).toMatchObject({ status: 'INACTIVE', updated: '2026-03-01 12:00:01.500000' });

    // {"ip","status"} is accepted too, as long as ip is the entry's own.
    const both = await caller.put(caller.ipPath(credentialId, id), { ip: '203.0.113.7', status: 'ACTIVE' });
    expect(both.status).toBe(200);

    const list = await caller.get(caller.ipPath(credentialId));
    expect(items(list, 'PermittedIp').map((e) => [e.ip, e.status])).toEqual([
      ['203.0.113.7', 'ACTIVE'],
      ['127.0.0.1', 'ACTIVE'],
    ]);
    expect(emu.listIpEntries(credentialId).map((e) => e.ip)).toEqual(['127.0.0.1', '203.0.113.7']);
  });

  it('defaults a missing or null status to ACTIVE', async () => {
    for (const [ip, body] of [['198.51.100.1', { ip: '198.51.100.1' }], ['198.51.100.2', { ip: '198.51.100.2', status: null }]] as const) {
      const res = await caller.post(caller.ipPath(credentialId), body);
      expect(res.status).toBe(200);
      expect(emu.listIpEntries(credentialId).find((e) => e.ip === ip)?.status).toBe('ACTIVE');
    }
    const inactive = await caller.post(caller.ipPath(credentialId), { ip: '198.51.100.3', status: 'INACTIVE' });
    expect(inactive.status).toBe(200);
    expect(emu.listIpEntries(credentialId).find((e) => e.ip === '198.51.100.3')?.status).toBe('INACTIVE');
  });

  it.each([
    [{ ip: '*' }, 'The wildcard "*" cannot be added through the API. Allow all IP addresses in the bunq app instead.'],
    [{ ip: '2001:db8::1' }, 'IPv6 addresses are not supported: "2001:db8::1". Only IPv4 addresses can be whitelisted.'],
    [{ ip: '01.2.3.4' }, '"01.2.3.4" is not a valid IPv4 address.'],
    [{ ip: '1.2.3.4/32' }, '"1.2.3.4/32" is not a valid IPv4 address.'],
    [{ ip: '256.1.1.1' }, '"256.1.1.1" is not a valid IPv4 address.'],
    [{ ip: ' 1.2.3.4' }, '" 1.2.3.4" is not a valid IPv4 address.'],
    [{ ip: 'hello' }, '"hello" is not a valid IPv4 address.'],
    [{ ip: 1234 }, 'The field "ip" is required and must be a string.'],
    [{ status: 'ACTIVE' }, 'The field "ip" is required and must be a string.'],
    [{ ip: '1.2.3.4', status: 'active' }, 'The status "active" is not valid. Use ACTIVE or INACTIVE.'],
    [{ ip: '1.2.3.4', status: 'DELETED' }, 'The status "DELETED" is not valid. Use ACTIVE or INACTIVE.'],
    ['not json', 'The request body is not valid JSON.'],
    [[], 'The request body must be a JSON object.'],
  ])('POST %j → 400 %s', async (body, text) => {
    const before = emu.listIpEntries(credentialId).length;
    const res = await caller.post(caller.ipPath(credentialId), body);
    expect([res.status, errorText(res)]).toEqual([400, text]);
    expect(emu.listIpEntries(credentialId)).toHaveLength(before);
  });

  it('validates PUT bodies and never changes the ip', async () => {
    const entry = emu.addIpEntryAsApp(credentialId, '192.0.2.10', 'ACTIVE');
    const path = caller.ipPath(credentialId, entry.id);
    const cases: Array<[unknown, string]> = [
      [{}, 'The field "status" is required.'],
      [{ ip: '192.0.2.10' }, 'The field "status" is required.'],
      [{ status: 'PAUSED' }, 'The status "PAUSED" is not valid. Use ACTIVE or INACTIVE.'],
      [{ ip: '192.0.2.11', status: 'ACTIVE' }, 'The IP address of an entry cannot be changed. Set this entry INACTIVE and add the new address instead.'],
    ];
    for (const [body, text] of cases) {
      const res = await caller.put(path, body);
      expect([res.status, errorText(res)]).toEqual([400, text]);
    }
    expect(emu.listIpEntries(credentialId).find((e) => e.id === entry.id)).toMatchObject({ ip: '192.0.2.10', status: 'ACTIVE' });
  });

  it('refuses to manage the app-only wildcard through PUT', async () => {
    const star = emu.addIpEntryAsApp(credentialId, '*', 'ACTIVE');
    const res = await caller.put(caller.ipPath(credentialId, star.id), { status: 'INACTIVE' });
    expect([res.status, errorText(res)]).toEqual([400, 'The wildcard "*" can only be managed in the bunq app.']);
    const list = await caller.get(caller.ipPath(credentialId));
    expect(items(list, 'PermittedIp').map((e) => e.ip)).toContain('*');
  });

  it('answers unknown ids with bunq-style 404s', async () => {
    const foreign = emu.createUser();
    const cases: Array<[string, string]> = [
      [`/v1/user/1/credential-password-ip`, 'User for id "1" not found.'],
      [`/v1/user/${foreign.userId}`, `User for id "${foreign.userId}" not found.`],
      [`/v1/user/${caller.userId}/credential-password-ip/${foreign.credentialId}`, `CredentialPasswordIp for id "${foreign.credentialId}" not found.`],
      [`/v1/user/${caller.userId}/credential-password-ip/5/ip`, 'CredentialPasswordIp for id "5" not found.'],
      [caller.ipPath(credentialId, 77), 'PermittedIp for id "77" not found.'],
    ];
    for (const [path, text] of cases) {
      const res = await caller.get(path);
      expect([res.status, errorText(res)]).toEqual([404, text]);
    }
    const put = await caller.put(caller.ipPath(credentialId, 77), { status: 'ACTIVE' });
    expect(put.status).toBe(404);
    const post = await caller.post(`/v1/user/${caller.userId}/credential-password-ip/${foreign.credentialId}/ip`, { ip: '1.2.3.4' });
    expect(post.status).toBe(404);
    expect(emu.listIpEntries(foreign.credentialId)).toEqual([]);
  });
});

describe('profiles reactivation-refused and duplicate-post-accepted', () => {
  it('by default PUT turns INACTIVE back to ACTIVE; reactivation-refused refuses with a clear text', async () => {
    const entry = emu.addIpEntryAsApp(credentialId, '192.0.2.20', 'INACTIVE');
    const path = caller.ipPath(credentialId, entry.id);
    expect((await caller.put(path, { status: 'ACTIVE' })).status).toBe(200);
    expect((await caller.put(path, { status: 'INACTIVE' })).status).toBe(200);

    emu.config.profiles.add('reactivation-refused');
    const refused = await caller.put(path, { status: 'ACTIVE' });
    expect([refused.status, errorText(refused)]).toEqual([
      400, 'An INACTIVE IP address cannot be made ACTIVE again. Add the address as a new entry instead.',
    ]);
    expect(emu.listIpEntries(credentialId).find((e) => e.id === entry.id)?.status).toBe('INACTIVE');
    // Deactivating (and re-stating INACTIVE) stays allowed.
    expect((await caller.put(path, { status: 'INACTIVE' })).status).toBe(200);
  });

  it('by default a duplicate POST is 400 for an IP with any entry; duplicate-post-accepted creates a second entry', async () => {
    const inactive = emu.addIpEntryAsApp(credentialId, '192.0.2.30', 'INACTIVE');
    const refused = await caller.post(caller.ipPath(credentialId), { ip: '192.0.2.30' });
    expect([refused.status, errorText(refused)]).toEqual([
      400, `The IP address "192.0.2.30" already has an entry on this credential (id ${inactive.id}). Change the status of that entry instead.`,
    ]);
    emu.config.profiles.add('duplicate-post-accepted');
    const accepted = await caller.post(caller.ipPath(credentialId), { ip: '192.0.2.30', status: 'ACTIVE' });
    expect(accepted.status).toBe(200);
    expect(emu.listIpEntries(credentialId).filter((e) => e.ip === '192.0.2.30').map((e) => e.status)).toEqual(['INACTIVE', 'ACTIVE']);
  });
});

describe('pagination', () => {
  it('pages newest first with count, older_id and newer_id, and bunq\'s Pagination URLs', async () => {
    const entries = emu.replaceIpEntries(
      credentialId,
      [...Array.from({ length: 24 }, (_, i) => ({ ip: `10.0.0.${i + 1}`, status: 'INACTIVE' as const })), { ip: '127.0.0.1', status: 'ACTIVE' }],
    );
    const ids = entries.map((e) => e.id).sort((a, b) => b - a); // newest first
    const base = caller.ipPath(credentialId);

    const first = await caller.get(`${base}?count=10`);
    expect(items(first, 'PermittedIp').map((e) => e.id)).toEqual(ids.slice(0, 10));
    expect(envelope(first).Pagination).toEqual({
      future_url: `${base}?count=10&newer_id=${ids[0]}`,
      newer_url: null,
      older_url: `${base}?count=10&older_id=${ids[9]}`,
    });

    // Walk back with older_url until it is null: every entry exactly once.
    const seen: number[] = [];
    let next: string | null = `${base}?count=10`;
    while (next !== null) {
      const page = await caller.get(next);
      seen.push(...items(page, 'PermittedIp').map((e) => Number(e.id)));
      next = envelope(page).Pagination?.older_url ?? null;
    }
    expect(seen).toEqual(ids);

    const middle = await caller.get(`${base}?count=10&older_id=${ids[9]}`);
    expect(items(middle, 'PermittedIp').map((e) => e.id)).toEqual(ids.slice(10, 20));
    expect(envelope(middle).Pagination).toEqual({
      future_url: null,
      newer_url: `${base}?count=10&newer_id=${ids[10]}`,
      older_url: `${base}?count=10&older_id=${ids[19]}`,
    });

    // newer_id returns the items just above it, still newest first.
    const newer = await caller.get(`${base}?count=5&newer_id=${ids[15]}`);
    expect(items(newer, 'PermittedIp').map((e) => e.id)).toEqual(ids.slice(10, 15));

    // Default count is 10, and the URLs then carry no count.
    const dflt = await caller.get(base);
    expect(items(dflt, 'PermittedIp')).toHaveLength(10);
    expect(envelope(dflt).Pagination?.older_url).toBe(`${base}?older_id=${ids[9]}`);

    const all = await caller.get(`${base}?count=200`);
    expect(items(all, 'PermittedIp')).toHaveLength(25);
    expect(envelope(all).Pagination).toEqual({ future_url: `${base}?count=200&newer_id=${ids[0]}`, newer_url: null, older_url: null });

    const empty = await caller.get(`${base}?newer_id=${ids[0]}`);
    expect(envelope(empty)).toEqual({ Response: [], Pagination: { future_url: `${base}?newer_id=${ids[0]}`, newer_url: null, older_url: null } });
  });

  it.each([
    ['count=201', 'The maximum value of parameter "count" is 200.'],
    ['count=0', 'The value "0" of parameter "count" is not a positive number.'],
    ['count=ten', 'The value "ten" of parameter "count" is not a positive number.'],
    ['older_id=x', 'The value "x" of parameter "older_id" is not a valid id.'],
    ['older_id=1&newer_id=2', 'The parameters "older_id" and "newer_id" cannot be combined.'],
  ])('rejects %s with 400', async (query, text) => {
    const res = await caller.get(`${caller.ipPath(credentialId)}?${query}`);
    expect([res.status, errorText(res)]).toEqual([400, text]);
  });
});

describe('admin hooks', () => {
  it('add, set and replace entries as the bunq app would, and refuse what the app could not do', async () => {
    const star = emu.addIpEntryAsApp(credentialId, '*', 'INACTIVE');
    emu.setIpStatusAsApp(credentialId, star.id, 'ACTIVE');
    expect(emu.listIpEntries(credentialId).find((e) => e.id === star.id)?.status).toBe('ACTIVE');
    expect(() => emu.addIpEntryAsApp(credentialId, '1.2.3', 'ACTIVE')).toThrow(/neither an IPv4 address nor "\*"/);
    expect(() => emu.setIpStatusAsApp(credentialId, 1, 'ACTIVE')).toThrow(/has no entry 1/);
    expect(() => emu.listIpEntries(1)).toThrow(/no credential 1/);
    expect(() => emu.createApiKey(1)).toThrow(/no user 1/);
    expect(() => emu.replaceIpEntries(credentialId, [{ ip: '::1', status: 'ACTIVE' }])).toThrow();
    expect(emu.listIpEntries(credentialId).length).toBeGreaterThan(0); // a refused replace changes nothing
    const replaced = emu.replaceIpEntries(credentialId, [{ ip: '127.0.0.1', status: 'ACTIVE' }]);
    expect(replaced.map((e) => e.ip)).toEqual(['127.0.0.1']);
    expect(emu.credentialIdForApiKey('nope')).toBeUndefined();
  });

  it('records every request in the log, and clears it', async () => {
    emu.clearRequestLog();
    await caller.get(caller.ipPath(credentialId) + '?count=1');
    expect(emu.requests).toEqual([
      {
        at: clock.now(), method: 'GET', path: `${caller.ipPath(credentialId)}?count=1`,
        route: '/v1/user/{id}/credential-password-ip/{id}/ip', status: 200, callerIp: '127.0.0.1',
      },
    ]);
    emu.clearRequestLog();
    expect(emu.requests).toHaveLength(0);
  });
});
