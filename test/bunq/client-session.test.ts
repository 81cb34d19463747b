import { afterEach, describe, expect, it } from 'vitest';
import { ROUTES } from '../../emulator/index';
import { BunqError } from '../../lambdas/bunq/errors';
import { catchError, startHarness, type Harness } from './support';

let h: Harness | undefined;
afterEach(async () => {
  await h?.emu.close();
  h = undefined;
});

const routesSeen = (hh: Harness): string[] => hh.emu.requests.map((r) => `${r.method} ${r.route} ${r.status}`);

describe('session lifecycle', () => {
  it('refreshes 30 s before the computed expiry, not earlier, and reports the new context', async () => {
    h = await startHarness({ emulator: { sessionTimeoutSeconds: 120, profiles: ['fixed-session-expiry'] } });
    const client = h.client();
    const oldToken = h.context.session?.token;
    h.emu.clearRequestLog();

    h.clock.advance(89_000);
    await client.listIps(h.credentialId);
    expect(client.stats.sessionRefreshes).toBe(0);

    h.clock.advance(2_000); // 91 s: inside the 30 s margin of the 120 s session
    await client.listIps(h.credentialId);
    expect(client.stats.sessionRefreshes).toBe(1);
    expect(routesSeen(h)).toEqual([
      `GET ${ROUTES.ipList} 200`,
      `POST ${ROUTES.sessionServer} 200`,
      `GET ${ROUTES.ipList} 200`,
    ]);
    expect(h.refreshed).toHaveLength(1);
    const fresh = h.refreshed[0];
    expect(fresh?.session?.token).not.toBe(oldToken);
    expect(fresh?.session?.expiresAt).toBe(new Date(h.clock.now() + 120_000).toISOString());
    expect(client.context).toBe(fresh);
    expect({ ...fresh, session: null }).toEqual({ ...h.context, session: null });
  });

  it('without the refresh, the emulator would have expired the session (control)', async () => {
    h = await startHarness({ emulator: { sessionTimeoutSeconds: 120, profiles: ['fixed-session-expiry'] } });
    const client = h.client({ sessionRefreshMarginMs: 0, retry: { maxAttempts: 1 } });
    h.clock.advance(119_000);
    await client.listIps(h.credentialId);
    h.emu.clearRequestLog();
    h.clock.advance(1_000);
    await client.listIps(h.credentialId);
    // Margin 0: the refresh happens exactly at expiry, so still no 401 reaches bunq's log.
    expect(routesSeen(h)).toEqual([`POST ${ROUTES.sessionServer} 200`, `GET ${ROUTES.ipList} 200`]);
  });

  it('refreshes once on a 401 and repeats the call', async () => {
    h = await startHarness();
    const client = h.client();
    h.clock.advance(30_000);
    h.emu.expireSessions();
    h.emu.clearRequestLog();
    const id = await client.addIp(h.credentialId, '203.0.113.50');
    expect(id).toBeGreaterThan(0);
    expect(routesSeen(h)).toEqual([`POST ${ROUTES.ipList} 401`, `POST ${ROUTES.sessionServer} 200`, `POST ${ROUTES.ipList} 200`]);
    expect(client.stats.sessionRefreshes).toBe(1);
    expect(h.refreshed).toHaveLength(1);
  });

  it('waits out the session-server limit when a 401 comes soon after the last session', async () => {
    h = await startHarness();
    const client = h.client();
    h.emu.expireSessions();
    const before = h.clock.now();
    await client.listIps(h.credentialId);
    expect(h.clock.now() - before).toBeGreaterThanOrEqual(30_000);
    expect(h.emu.requests.filter((r) => r.route === ROUTES.sessionServer).map((r) => r.status)).toEqual([200, 429, 200]);
  });

  it('refreshes single-flight when concurrent calls all see the 401', async () => {
    h = await startHarness();
    const client = h.client();
    h.clock.advance(30_000);
    h.emu.expireSessions();
    h.emu.clearRequestLog();
    const [ips, creds, user] = await Promise.all([client.listIps(h.credentialId), client.listCredentials(), client.getUser()]);
    expect(ips).toHaveLength(1);
    expect(creds).toHaveLength(1);
    expect(user.id).toBe(h.userId);
    expect(h.emu.requests.filter((r) => r.route === ROUTES.sessionServer)).toHaveLength(1);
    expect(client.stats.sessionRefreshes).toBe(1);
  });

  it('gives up after one refresh when bunq keeps answering 401', async () => {
    h = await startHarness();
    const client = h.client();
    h.clock.advance(30_000);
    h.emu.faults.add({ method: 'GET', route: ROUTES.ipList, times: Infinity, fault: { type: 'status', status: 401, description: 'Insufficient authorisation.' } });
    const err = await catchError(client.listIps(h.credentialId));
    expect(err).toMatchObject({ kind: 'session-expired', status: 401 });
    expect(client.stats.sessionRefreshes).toBe(1);
    expect(client.stats.byMethod.GET).toBe(2);
  });

  it('creates a session when the context has none', async () => {
    h = await startHarness();
    h.clock.advance(30_000);
    const client = h.client({ context: { ...h.context, session: null } });
    await client.ensureSession();
    expect(client.context.session).not.toBeNull();
    await client.ensureSession();
    expect(client.stats.sessionRefreshes).toBe(1);
  });

  it('a failed refresh surfaces its error and the next call tries again', async () => {
    h = await startHarness();
    h.clock.advance(30_000);
    const client = h.client({ context: { ...h.context, session: null }, retry: { maxAttempts: 1 } });
    h.emu.faults.add({ method: 'POST', route: ROUTES.sessionServer, fault: { type: 'status', status: 503 } });
    expect(await catchError(client.listIps(h.credentialId))).toMatchObject({ kind: 'maintenance' });
    h.clock.advance(30_000);
    expect(await client.listIps(h.credentialId)).toHaveLength(1);
  });

  it('a refresh that names another user is refused', async () => {
    h = await startHarness();
    h.clock.advance(30_000);
    const client = h.client({ context: { ...h.context, userId: h.userId + 1, session: null } });
    const err = await catchError(client.ensureSession());
    expect(err).toBeInstanceOf(BunqError);
    expect(err).toMatchObject({ kind: 'malformed-reply', message: expect.stringContaining(`belongs to user ${h.userId}`) });
  });

  it('keeps working when onSessionRefreshed fails, and logs why without detail', async () => {
    h = await startHarness();
    h.clock.advance(30_000);
    const client = h.client({
      context: { ...h.context, session: null },
      onSessionRefreshed: () => Promise.reject(new Error('secrets manager down')),
    });
    expect(await client.listIps(h.credentialId)).toHaveLength(1);
    const warn = h.logger.lines.find((l) => l.message.startsWith('onSessionRefreshed failed'));
    expect(warn).toMatchObject({ level: 'warn', attributes: { error: 'Error' } });
  });

  it('deleteSession ends the session at bunq, forgets it, and reports session: null', async () => {
    h = await startHarness();
    const client = h.client();
    const sessionId = h.context.session?.id;
    h.emu.clearRequestLog();
    await client.deleteSession();
    expect(routesSeen(h)).toEqual([`DELETE ${ROUTES.session} 200`]);
    expect(h.emu.requests[0]?.path).toBe(`/v1/session/${sessionId}`);
    expect(client.context.session).toBeNull();
    expect(h.refreshed.at(-1)?.session).toBeNull();
    // The old token is dead at bunq: a client still holding it needs a refresh.
    h.clock.advance(30_000);
    const stale = h.client();
    await stale.listIps(h.credentialId);
    expect(stale.stats.sessionRefreshes).toBe(1);
    // Nothing left to delete: no request.
    const count = h.emu.requests.length;
    await client.deleteSession();
    expect(h.emu.requests.length).toBe(count);
  });

  it('deleteSession treats a session bunq already dropped as ended', async () => {
    h = await startHarness();
    const client = h.client();
    h.emu.expireSessions();
    await client.deleteSession();
    expect(client.context.session).toBeNull();
  });

  it('deleteSession reports other failures', async () => {
    h = await startHarness();
    const client = h.client({ retry: { maxAttempts: 1 } });
    h.emu.faults.add({ method: 'DELETE', fault: { type: 'status', status: 500 } });
    expect(await catchError(client.deleteSession())).toMatchObject({ kind: 'server-error' });
    expect(client.context.session).not.toBeNull();
  });
});
