import { afterEach, describe, expect, it } from 'vitest';
import { ROUTES } from '../../emulator/index';
import { createContext } from '../../lambdas/bunq/bootstrap';
import { BunqClient } from '../../lambdas/bunq/client';
import { BunqError } from '../../lambdas/bunq/errors';
import { generateClientKeyPair, verifyBody } from '../../lambdas/bunq/signing';
import { whitelistPort } from '../../lambdas/bunq/whitelist-port';
import { HOME_IP, catchError, recordingTransport, sharedKeyPair, startHarness, type Harness } from './support';

let h: Harness | undefined;
afterEach(async () => {
  await h?.emu.close();
  h = undefined;
});

describe('createContext (installation → device-server → session-server)', () => {
  it('returns a complete context and binds the calling IP', async () => {
    h = await startHarness();
    const ctx = h.context;
    expect(ctx).toMatchObject({ version: 1, environment: 'SANDBOX', baseUrl: h.emu.url, apiKey: h.apiKey, userId: h.userId });
    expect(ctx.installationId).toBeGreaterThan(0);
    expect(ctx.deviceServerId).toBeGreaterThan(0);
    expect(ctx.installationToken.length).toBeGreaterThan(10);
    expect(ctx.serverPublicKeyPem).toContain('BEGIN PUBLIC KEY');
    expect(ctx.session).not.toBeNull();
    expect(ctx.session?.timeoutSeconds).toBe(3600);
    expect(Date.parse(ctx.session?.expiresAt ?? '')).toBe(h.clock.now() + 3600_000);
    expect(JSON.parse(JSON.stringify(ctx))).toEqual(ctx);
    expect(h.emu.listIpEntries(h.credentialId).map((e) => [e.ip, e.status])).toEqual([[HOME_IP, 'ACTIVE']]);
    expect(h.emu.requests.map((r) => [r.method, r.route, r.status, r.callerIp])).toEqual([
      ['POST', ROUTES.installation, 200, HOME_IP],
      ['POST', ROUTES.deviceServer, 200, HOME_IP],
      ['POST', ROUTES.sessionServer, 200, HOME_IP],
    ]);
  });

  it('registers the permitted IPs it is given', async () => {
    h = await startHarness();
    const { apiKey, credentialId } = h.emu.createApiKey(h.userId);
    const ctx = await createContext({
      apiKey, environment: 'SANDBOX', baseUrl: h.emu.url, deviceDescription: 'second', keyPair: await sharedKeyPair(),
      permittedIps: [HOME_IP, '127.0.0.9', '*'], localAddress: HOME_IP, clock: h.clock,
    });
    expect(ctx.userId).toBe(h.userId);
    expect(h.emu.listIpEntries(credentialId).map((e) => e.ip).sort()).toEqual(['*', '127.0.0.2', '127.0.0.9']);
  });

  it('refuses bad input before calling bunq', async () => {
    const base = { apiKey: 'k'.repeat(64), environment: 'SANDBOX' as const, deviceDescription: 'd', baseUrl: 'http://127.0.0.1:1' };
    await expect(createContext({ ...base, apiKey: '' })).rejects.toThrow('createContext: apiKey is required');
    await expect(createContext({ ...base, apiKey: 'a b' })).rejects.toThrow('must not contain whitespace');
    await expect(createContext({ ...base, deviceDescription: ' ' })).rejects.toThrow('deviceDescription is required');
    await expect(createContext({ ...base, permittedIps: ['10.0.0.01'] })).rejects.toThrow('"10.0.0.01" is neither');
    await expect(createContext({ ...base, baseUrl: 'http://bunq.example.com' })).rejects.toThrow('must use https');
    await expect(createContext({ ...base, baseUrl: 'https://x.test/v1' })).rejects.toThrow('must not include /v1');
    await expect(createContext({ ...base, baseUrl: 'nope' })).rejects.toThrow('not a valid URL');
    await expect(createContext({ ...base, baseUrl: 'https://u:p@x.test' })).rejects.toThrow('must not carry credentials');
    await expect(createContext({ ...base, environment: 'TEST' as 'SANDBOX' })).rejects.toThrow('PRODUCTION or SANDBOX');
    const other = generateClientKeyPair;
    const [a, b] = await Promise.all([other(), other()]);
    await expect(createContext({ ...base, keyPair: { privateKeyPem: a.privateKeyPem, publicKeyPem: b.publicKeyPem } })).rejects.toThrow(
      'do not form a valid RSA pair',
    );
  });

  it('reports a wrong API key as credentials-rejected', async () => {
    h = await startHarness();
    const err = await catchError(
      createContext({ apiKey: 'sandbox_' + 'f'.repeat(56), environment: 'SANDBOX', baseUrl: h.emu.url, deviceDescription: 'x', localAddress: HOME_IP, clock: h.clock }),
    );
    expect(err).toBeInstanceOf(BunqError);
    expect(err).toMatchObject({ kind: 'credentials-rejected', status: 400, operation: 'POST /v1/device-server' });
  });
});

describe('BunqClient calls', () => {
  it('lists and reads credentials and the user', async () => {
    h = await startHarness();
    const client = h.client();
    const creds = await client.listCredentials();
    expect(creds).toHaveLength(1);
    expect(creds[0]).toMatchObject({ id: h.credentialId, status: 'ACTIVE', permittedDevice: { description: 'reconciler test', ip: HOME_IP } });
    expect(await client.getCredential(h.credentialId)).toEqual(creds[0]);
    expect(await client.getUser()).toEqual({ kind: 'UserPerson', id: h.userId, displayName: 'Ada Lovelace', sessionTimeoutSeconds: 3600 });
  });

  it('adds, reads, lists and updates IP entries', async () => {
    h = await startHarness();
    const client = h.client();
    const id = await client.addIp(h.credentialId, '203.0.113.7');
    const inactiveId = await client.addIp(h.credentialId, '203.0.113.8', 'INACTIVE');
    expect(await client.getIp(h.credentialId, id)).toMatchObject({ id, ip: '203.0.113.7', status: 'ACTIVE' });
    expect(await client.getIp(h.credentialId, inactiveId)).toMatchObject({ ip: '203.0.113.8', status: 'INACTIVE' });
    expect(await client.updateIpStatus(h.credentialId, id, 'INACTIVE')).toBe(id);
    expect(await client.updateIpStatus(h.credentialId, inactiveId, 'ACTIVE')).toBe(inactiveId);
    const list = await client.listIps(h.credentialId);
    expect(list.map((e) => [e.ip, e.status]).sort()).toEqual([
      [HOME_IP, 'ACTIVE'], ['203.0.113.7', 'INACTIVE'], ['203.0.113.8', 'ACTIVE'],
    ]);
    expect(list.every((e) => typeof e.created === 'string' && typeof e.updated === 'string')).toBe(true);
    expect(h.emu.listIpEntries(h.credentialId).find((e) => e.id === id)?.status).toBe('INACTIVE');
  });

  it('sends bunq headers, a fresh request id per call, and signatures over the exact body', async () => {
    h = await startHarness();
    const rec = recordingTransport();
    const client = h.client({ transport: rec.transport, userAgent: 'test-agent/1', language: 'en_US', region: 'nl_NL' });
    await client.addIp(h.credentialId, '198.51.100.1');
    await client.listIps(h.credentialId);
    expect(rec.sent).toHaveLength(2);
    const [post, get] = rec.sent;
    for (const r of rec.sent) {
      expect(r.headers['User-Agent']).toBe('test-agent/1');
      expect(r.headers['Cache-Control']).toBe('no-cache');
      expect(r.headers['X-Bunq-Language']).toBe('en_US');
      expect(r.headers['X-Bunq-Region']).toBe('nl_NL');
      expect(r.headers['X-Bunq-Client-Authentication']).toBe(h.context.session?.token);
      expect(r.headers['X-Bunq-Client-Request-Id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(r.localAddress).toBe(HOME_IP);
    }
    expect(post?.headers['X-Bunq-Client-Request-Id']).not.toBe(get?.headers['X-Bunq-Client-Request-Id']);
    expect(post?.headers['Content-Type']).toBe('application/json');
    expect(post?.body?.toString()).toBe('{"ip":"198.51.100.1","status":"ACTIVE"}');
    expect(verifyBody(h.context.clientPublicKeyPem, post?.body ?? Buffer.alloc(0), post?.headers['X-Bunq-Client-Signature'])).toBe(true);
    expect(get?.headers['Content-Type']).toBeUndefined();
    expect(get?.url).toBe(`${h.emu.url}/v1/user/${h.userId}/credential-password-ip/${h.credentialId}/ip?count=200`);
    expect(verifyBody(h.context.clientPublicKeyPem, Buffer.alloc(0), get?.headers['X-Bunq-Client-Signature'])).toBe(true);
  });

  it('follows older_url across pages (450 entries = 3 pages of ≤ 200)', async () => {
    h = await startHarness();
    const entries = [
      { ip: HOME_IP, status: 'ACTIVE' as const },
      ...Array.from({ length: 449 }, (_, i) => ({ ip: `10.${Math.floor(i / 250)}.${i % 250}.1`, status: i % 3 === 0 ? ('INACTIVE' as const) : ('ACTIVE' as const) })),
    ];
    const expected = h.emu.replaceIpEntries(h.credentialId, entries);
    h.emu.clearRequestLog();
    const client = h.client();
    const list = await client.listIps(h.credentialId);
    expect(list).toHaveLength(450);
    expect(new Set(list.map((e) => e.id)).size).toBe(450);
    expect([...list].sort((a, b) => a.id - b.id)).toEqual([...expected].sort((a, b) => a.id - b.id));
    const pages = h.emu.requests.filter((r) => r.route === ROUTES.ipList);
    expect(pages).toHaveLength(3);
    expect(pages[0]?.path).toMatch(/\?count=200$/);
    expect(pages[1]?.path).toMatch(/\?count=200&older_id=\d+$/);
    expect(pages.every((p) => p.status === 200)).toBe(true);
    expect(client.stats.byMethod.GET).toBe(3);
  });

  it('refuses to send invalid input, without a request', async () => {
    h = await startHarness();
    const client = h.client();
    for (const ip of ['*', '10.0.0.01', '1.2.3.4/32', '::1', ' 1.2.3.4', '256.1.1.1']) {
      await expect(client.addIp(h.credentialId, ip)).rejects.toMatchObject({ kind: 'bad-request', message: expect.stringContaining('refusing to send') });
    }
    await expect(client.addIp(h.credentialId, '1.2.3.4', 'active' as 'ACTIVE')).rejects.toThrow('status must be ACTIVE or INACTIVE');
    await expect(client.updateIpStatus(h.credentialId, 1, 'DELETED' as 'ACTIVE')).rejects.toThrow('status must be ACTIVE or INACTIVE');
    await expect(client.getIp(h.credentialId, 0)).rejects.toThrow('ipId must be a positive integer');
    await expect(client.listIps(-1)).rejects.toThrow('credentialId must be a positive integer');
    expect(client.stats.requests).toBe(0);
  });

  it('rejects an unusable context with a specific message', async () => {
    h = await startHarness();
    const ctx = h.context;
    const make = (patch: object) => () => new BunqClient({ context: { ...ctx, ...patch } as typeof ctx });
    expect(make({ version: 2 })).toThrow('invalid bunq context: unsupported version 2');
    expect(make({ apiKey: '' })).toThrow('apiKey is missing');
    expect(make({ installationToken: '' })).toThrow('installationToken is missing');
    expect(make({ clientPrivateKeyPem: 'x' })).toThrow('clientPrivateKeyPem is not a PEM private key');
    expect(make({ serverPublicKeyPem: 'x' })).toThrow('serverPublicKeyPem is not an SPKI PEM');
    expect(make({ userId: 0 })).toThrow('userId must be a positive integer');
    expect(make({ session: { id: 1, token: '', expiresAt: 'x', timeoutSeconds: 1 } })).toThrow('session.token is missing');
    expect(make({ session: { id: 0, token: 't', expiresAt: 'x', timeoutSeconds: 1 } })).toThrow('session.id must be a positive integer');
    expect(make({ session: { id: 1, token: 't', expiresAt: 'x', timeoutSeconds: 1 } })).toThrow('session.expiresAt is not a date');
    expect(() => new BunqClient({ context: ctx, timeoutMs: 0 })).toThrow('timeoutMs must be a positive number');
    expect(() => new BunqClient({ context: ctx, retry: { maxAttempts: 0 } })).toThrow('retry.maxAttempts');
  });
});

describe('whitelistPort', () => {
  it('maps PermittedIp to ActualEntry and adds / sets status through the client', async () => {
    h = await startHarness();
    const port = whitelistPort(h.client(), h.credentialId);
    const id = await port.addEntry('192.0.2.10');
    await port.setStatus(id, 'INACTIVE');
    const entries = await port.listEntries();
    expect(entries).toHaveLength(2);
    const added = entries.find((e) => e.id === id);
    expect(added).toEqual({ id, ip: '192.0.2.10', status: 'INACTIVE', created: expect.any(String) });
    expect(Object.keys(added ?? {}).sort()).toEqual(['created', 'id', 'ip', 'status']);
    expect(port.callCounts?.()).toEqual({ reads: 1, writes: 2 });
  });

  it('lists `*` entries created in the app', async () => {
    h = await startHarness();
    h.emu.addIpEntryAsApp(h.credentialId, '*', 'ACTIVE');
    const entries = await whitelistPort(h.client(), h.credentialId).listEntries();
    expect(entries.map((e) => e.ip).sort()).toEqual(['*', HOME_IP]);
  });
});
