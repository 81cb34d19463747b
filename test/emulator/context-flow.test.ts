import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type BunqEmulator } from '../../emulator';
import {
  envelope, errorText, item, items, RawBunqCaller, rawRequest, serverSignatureValid, signBody, STANDARD_HEADERS,
  type ErrorEnvelope,
} from './support';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let emu: BunqEmulator;
beforeAll(async () => {
  emu = await startEmulator({ rateLimits: false });
});
afterAll(async () => {
  await emu.close();
});

describe('context creation, end to end over raw HTTP', () => {
  it('mints a sandbox user, installs, registers a device, opens a session and reads the user', async () => {
    const caller = new RawBunqCaller(emu.url);
    const minted = await caller.send('POST', '/v1/sandbox-user-person');
    expect(minted.status).toBe(200);
    expect(envelope(minted).Response).toHaveLength(1);
    const apiKey = String(item(minted, 0, 'ApiKey').api_key);
    expect(apiKey).toMatch(/^sandbox_[0-9a-f]{56}$/);
    const credentialId = emu.credentialIdForApiKey(apiKey);
    expect(credentialId).toBeTypeOf('number');

    const inst = await caller.install();
    expect(inst.status).toBe(200);
    const r = envelope(inst).Response;
    expect(Object.keys(r[0] ?? {})).toEqual(['Id']);
    expect(Object.keys(r[1] ?? {})).toEqual(['Token']);
    expect(Object.keys(r[2] ?? {})).toEqual(['ServerPublicKey']);
    expect(item(inst, 1, 'Token')).toMatchObject({ created: expect.stringMatching(TIMESTAMP), token: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(caller.serverPublicKeyPem).toContain('-----BEGIN PUBLIC KEY-----');
    expect(inst.text).toContain('\\/'); // bunq escapes '/' (the PEM's base64 has some)
    expect(serverSignatureValid(inst, caller.serverPublicKeyPem)).toBe(true);

    const dev = await caller.registerDevice(apiKey);
    expect(dev.status).toBe(200);
    expect(Object.keys(item(dev, 0, 'Id'))).toEqual(['id']);

    const ses = await caller.startSession(apiKey);
    expect(ses.status).toBe(200);
    expect(Object.keys(envelope(ses).Response[2] ?? {})).toEqual(['UserPerson']);
    const user = item(ses, 2, 'UserPerson');
    expect(user).toMatchObject({ id: caller.userId, session_timeout: 3600, first_name: null, avatar: null });
    expect(item(ses, 1, 'Token')).toMatchObject({ id: caller.sessionId, created: expect.stringMatching(TIMESTAMP) });

    const list = await caller.get('/v1/user');
    expect(list.status).toBe(200);
    expect(items(list, 'UserPerson').map((u) => u.id)).toEqual([caller.userId]);
    expect(envelope(list).Pagination).toBeDefined();
    const one = await caller.get(`/v1/user/${caller.userId}`);
    expect(item(one, 0, 'UserPerson').id).toBe(caller.userId);

    const creds = await caller.get(`/v1/user/${caller.userId}/credential-password-ip`);
    expect(items(creds, 'CredentialPasswordIp')).toEqual([
      {
        id: credentialId,
        created: expect.stringMatching(TIMESTAMP),
        updated: expect.stringMatching(TIMESTAMP),
        status: 'ACTIVE',
        expiry_time: null,
        token_value: null,
        permitted_device: { description: 'emulator test', ip: '127.0.0.1' },
      },
    ]);
    expect(emu.listIpEntries(credentialId ?? 0).map((e) => [e.ip, e.status])).toEqual([['127.0.0.1', 'ACTIVE']]);

    const del = await caller.send('DELETE', '/v1/session/0', { token: caller.sessionToken });
    expect(del.status).toBe(200);
    expect(del.text).toBe('{"Response":[]}');
    const after = await caller.get('/v1/user');
    expect(after.status).toBe(401);
    expect(errorText(after)).toBe('Insufficient authorisation.');
  });

  it('shows a fresh key as PENDING_FIRST_USE with an expiry time until its first device registration', async () => {
    const { apiKey, userId, credentialId } = emu.createUser();
    const other = emu.createApiKey(userId);
    const caller = await new RawBunqCaller(emu.url).connect(apiKey);
    const pending = await caller.get(`/v1/user/${userId}/credential-password-ip/${other.credentialId}`);
    expect(item(pending, 0, 'CredentialPasswordIp')).toMatchObject({
      status: 'PENDING_FIRST_USE',
      expiry_time: expect.stringMatching(TIMESTAMP),
      permitted_device: null,
      token_value: null,
    });
    const both = await caller.get(`/v1/user/${userId}/credential-password-ip`);
    expect(items(both, 'CredentialPasswordIp').map((c) => c.id)).toEqual([other.credentialId, credentialId]);
  });

  it('answers a UserCompany session with a UserCompany wrapper', async () => {
    const { apiKey } = emu.createUser({ kind: 'UserCompany', displayName: 'Acme B.V.' });
    const caller = new RawBunqCaller(emu.url);
    await caller.install();
    await caller.registerDevice(apiKey);
    const ses = await caller.startSession(apiKey);
    expect(item(ses, 2, 'UserCompany')).toMatchObject({ name: 'Acme B.V.', display_name: 'Acme B.V.' });
    const company = await caller.send('POST', '/v1/sandbox-user-company', { body: {} });
    expect(String(item(company, 0, 'ApiKey').api_key)).toMatch(/^sandbox_/);
  });
});

describe('response signing', () => {
  it('signs the raw body bytes (with escaped slashes), not a re-serialisation, and echoes the request id', async () => {
    const { apiKey } = emu.createUser();
    const caller = await new RawBunqCaller(emu.url).connect(apiKey);
    const res = await caller.send('GET', '/v1/user', { token: caller.sessionToken, headers: { 'X-Bunq-Client-Request-Id': 'req-123' } });
    expect(res.headers['x-bunq-client-request-id']).toBe('req-123');
    expect(res.headers['x-bunq-client-response-id']).toMatch(UUID);
    expect(serverSignatureValid(res, caller.serverPublicKeyPem)).toBe(true);

    const inst = await caller.install();
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(inst.text)));
    expect(reserialised.equals(inst.body)).toBe(false);
    expect(serverSignatureValid({ ...inst, body: reserialised }, caller.serverPublicKeyPem)).toBe(false);
    expect(serverSignatureValid(inst, caller.serverPublicKeyPem)).toBe(true);
  });

  it('verifies with openssl, an implementation independent of node:crypto', async () => {
    const caller = new RawBunqCaller(emu.url);
    const inst = await caller.install();
    const dir = mkdtempSync(join(tmpdir(), 'emu-sig-'));
    try {
      writeFileSync(join(dir, 'pub.pem'), caller.serverPublicKeyPem);
      writeFileSync(join(dir, 'body.bin'), inst.body);
      writeFileSync(join(dir, 'sig.bin'), Buffer.from(String(inst.headers['x-bunq-server-signature']), 'base64'));
      const out = execFileSync('openssl', ['dgst', '-sha256', '-verify', 'pub.pem', '-signature', 'sig.bin', 'body.bin'], { cwd: dir });
      expect(out.toString()).toContain('Verified OK');
      writeFileSync(join(dir, 'body.bin'), Buffer.concat([inst.body, Buffer.from(' ')]));
      expect(() => execFileSync('openssl', ['dgst', '-sha256', '-verify', 'pub.pem', '-signature', 'sig.bin', 'body.bin'], { cwd: dir, stdio: 'pipe' })).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('signs error replies too', async () => {
    const caller = new RawBunqCaller(emu.url);
    await caller.install();
    const res = await caller.send('GET', '/v1/user', { token: 'nope' });
    expect(res.status).toBe(401);
    expect(serverSignatureValid(res, caller.serverPublicKeyPem)).toBe(true);
  });
});

describe('token rules', () => {
  it('wants no token on installation, the installation token on device/session-server and a session token elsewhere', async () => {
    const { apiKey, userId } = emu.createUser();
    const caller = new RawBunqCaller(emu.url);
    await caller.install();
    const body = JSON.stringify({ description: 'x', secret: apiKey });
    const noToken = await caller.send('POST', '/v1/device-server', { body, sign: true });
    expect([noToken.status, errorText(noToken)]).toEqual([401, 'Insufficient authorisation.']);
    const unknown = await caller.send('POST', '/v1/device-server', { token: 'f'.repeat(64), body, sign: true });
    expect(unknown.status).toBe(401);
    expect((await caller.registerDevice(apiKey)).status).toBe(200);
    expect((await caller.startSession(apiKey)).status).toBe(200);

    const sessionTokenOnSessionServer = await caller.send('POST', '/v1/session-server', {
      token: caller.sessionToken, body: { secret: apiKey }, sign: true,
    });
    expect(sessionTokenOnSessionServer.status).toBe(401);
    const installationTokenOnUser = await caller.send('GET', `/v1/user/${userId}`, { token: caller.installationToken });
    expect([installationTokenOnUser.status, errorText(installationTokenOnUser)]).toEqual([401, 'Insufficient authorisation.']);
    const noTokenOnUser = await caller.send('GET', `/v1/user/${userId}`);
    expect(noTokenOnUser.status).toBe(401);
  });
});

describe('request signatures', () => {
  it('answers a missing signature on device-server and session-server with 466 and bunq\'s text', async () => {
    const { apiKey } = emu.createUser();
    const caller = new RawBunqCaller(emu.url);
    await caller.install();
    for (const [path, body] of [
      ['/v1/device-server', { description: 'x', secret: apiKey }],
      ['/v1/session-server', { secret: apiKey }],
    ] as const) {
      const res = await caller.send('POST', path, { token: caller.installationToken, body });
      expect(res.status).toBe(466);
      const err = (res.json() as ErrorEnvelope).Error[0];
      expect(err).toEqual({
        error_description: 'For this operation a request signature is required. Check the urls for more information.',
        error_description_translated: 'For this operation a request signature is required. Check the urls for more information.',
        error_additional_parameter: [{ url_together_post: 'https://together.bunq.com/d/15399' }],
      });
      expect(res.text).toContain('https:\\/\\/together.bunq.com\\/d\\/15399');
    }
  });

  it('answers a signature that does not match the exact body bytes with 401', async () => {
    const { apiKey } = emu.createUser();
    const caller = new RawBunqCaller(emu.url);
    await caller.install();
    const sent = JSON.stringify({ description: 'x', secret: apiKey }, null, 4);
    const signedOther = JSON.stringify({ description: 'x', secret: apiKey }); // same JSON, other bytes
    const res = await caller.send('POST', '/v1/device-server', {
      token: caller.installationToken, body: sent, headers: { 'X-Bunq-Client-Signature': signBody(signedOther) },
    });
    expect([res.status, errorText(res)]).toEqual([401, 'The request signature is invalid.']);
    const garbage = await caller.send('POST', '/v1/device-server', {
      token: caller.installationToken, body: sent, headers: { 'X-Bunq-Client-Signature': '!!not base64!!' },
    });
    expect(garbage.status).toBe(401);
    // Pretty-printed bodies are fine when the signature covers exactly those bytes.
    const ok = await caller.send('POST', '/v1/device-server', { token: caller.installationToken, body: sent, sign: true });
    expect(ok.status).toBe(200);
  });

  it('ignores signatures on other endpoints', async () => {
    const { apiKey } = emu.createUser();
    const caller = await new RawBunqCaller(emu.url).connect(apiKey);
    const res = await caller.send('GET', '/v1/user', { token: caller.sessionToken, headers: { 'X-Bunq-Client-Signature': 'AAAA' } });
    expect(res.status).toBe(200);
  });
});

describe('request validation errors', () => {
  it('requires User-Agent and Cache-Control on every request', async () => {
    for (const missing of ['User-Agent', 'Cache-Control']) {
      const headers: Record<string, string | undefined> = { ...STANDARD_HEADERS, [missing]: undefined };
      const res = await rawRequest(emu.url, { method: 'POST', path: '/v1/sandbox-user-person', headers });
      expect(res.status).toBe(400);
      expect(errorText(res)).toBe(`The header "${missing}" is required for all requests.`);
    }
  });

  it('answers unknown routes with 404, known routes with a wrong method with 405, bad JSON with 400', async () => {
    const caller = new RawBunqCaller(emu.url);
    const unknown = await caller.send('GET', '/v1/monetary-account');
    expect([unknown.status, errorText(unknown)]).toEqual([404, 'Route not found.']);
    expect((await caller.send('GET', '/v1/user/abc')).status).toBe(404);
    const wrongMethod = await caller.send('DELETE', '/v1/installation');
    expect([wrongMethod.status, errorText(wrongMethod)]).toEqual([405, 'Method not allowed.']);
    const badJson = await caller.send('POST', '/v1/installation', { body: '{"client_public_key": ' });
    expect([badJson.status, errorText(badJson)]).toEqual([400, 'The request body is not valid JSON.']);
    const notObject = await caller.send('POST', '/v1/installation', { body: '[1]' });
    expect(errorText(notObject)).toBe('The request body must be a JSON object.');
    const noKey = await caller.send('POST', '/v1/installation', { body: {} });
    expect(errorText(noKey)).toBe('The field "client_public_key" is required and must be a non-empty string.');
    const badKey = await caller.send('POST', '/v1/installation', { body: { client_public_key: 'not a pem' } });
    expect(errorText(badKey)).toBe('The client public key is not a valid PEM public key.');
    const tooLarge = await caller.send('POST', '/v1/installation', { body: 'x'.repeat(1024 * 1024 + 1) });
    expect([tooLarge.status, errorText(tooLarge)]).toEqual([400, 'The request body is too large.']);
  });

  it('rejects a client key that is not RSA-2048', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const res = await new RawBunqCaller(emu.url).send('POST', '/v1/installation', { body: { client_public_key: pem } });
    expect([res.status, errorText(res)]).toEqual([400, 'The client public key must be an RSA key of at least 2048 bits.']);
  });

  it('refuses an unknown API key, and a session for a key not registered on this installation', async () => {
    const caller = new RawBunqCaller(emu.url);
    await caller.install();
    const wrongKey = await caller.registerDevice('sandbox_' + '0'.repeat(56));
    expect([wrongKey.status, errorText(wrongKey)]).toEqual([400, 'User credentials are incorrect. Incorrect API key or IP address.']);
    const { apiKey } = emu.createUser();
    const noDevice = await caller.startSession(apiKey);
    expect([noDevice.status, errorText(noDevice)]).toEqual([400, 'User credentials are incorrect. Incorrect API key or IP address.']);
    // Registered on another installation is not enough: this installation has no device for the key.
    await new RawBunqCaller(emu.url).connect(apiKey);
    const otherInstallation = await caller.startSession(apiKey);
    expect([otherInstallation.status, errorText(otherInstallation)]).toEqual([400, 'User credentials are incorrect. Incorrect API key or IP address.']);
    const missingSecret = await caller.send('POST', '/v1/session-server', { token: caller.installationToken, body: {}, sign: true });
    expect(errorText(missingSecret)).toBe('The field "secret" is required and must be a non-empty string.');
  });

  it('validates device-server permitted_ips', async () => {
    const { apiKey } = emu.createUser();
    const caller = new RawBunqCaller(emu.url);
    await caller.install();
    const v6 = await caller.registerDevice(apiKey, ['::1']);
    expect([v6.status, errorText(v6)]).toEqual([400, 'IPv6 addresses are not supported: "::1". Only IPv4 addresses can be whitelisted.']);
    const junk = await caller.registerDevice(apiKey, ['1.2.3']);
    expect(errorText(junk)).toBe('"1.2.3" is not a valid IPv4 address.');
    const notList = await caller.send('POST', '/v1/device-server', {
      token: caller.installationToken, body: { description: 'x', secret: apiKey, permitted_ips: '1.2.3.4' }, sign: true,
    });
    expect(errorText(notList)).toBe('The field "permitted_ips" must be a list of IP addresses.');
  });
});
