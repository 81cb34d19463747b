import { afterEach, describe, expect, it } from 'vitest';
import { ROUTES } from '../../emulator/index';
import { RateLimiter } from '../../lambdas/bunq/rate-limiter';
import { startHarness, type Harness } from './support';

// Client and emulator share one ManualClock and both use bunq's classic table, so the emulator
// answers 429 exactly when the client would have broken bunq's limits.

let h: Harness | undefined;
afterEach(async () => {
  await h?.emu.close();
  h = undefined;
});

const statuses = (hh: Harness, method: string, route: string): number[] =>
  hh.emu.requests.filter((r) => r.method === method && r.route === route).map((r) => r.status);

describe('client-side rate limiting against the emulator', () => {
  it('spreads a burst of 10 PUTs over windows: no 429, nothing dropped', async () => {
    h = await startHarness();
    const client = h.client();
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(await client.addIp(h.credentialId, `198.51.100.${i + 1}`));
    h.emu.clearRequestLog();
    const t0 = h.clock.now();
    for (let i = 0; i < 10; i++) {
      const id = ids[i % 5] ?? 0;
      await client.updateIpStatus(h.credentialId, id, i < 5 ? 'INACTIVE' : 'ACTIVE');
    }
    const puts = h.emu.requests.filter((r) => r.method === 'PUT');
    expect(puts.map((r) => r.status)).toEqual(Array(10).fill(200));
    // 2 per 3 s: 10 PUTs need 5 windows, so the last starts ≥ 12 s after the first.
    const times = puts.map((r) => r.at - t0);
    expect(times.at(-1)).toBeGreaterThanOrEqual(12_000);
    for (const t of times) expect(times.filter((u) => u >= t && u < t + 3000).length).toBeLessThanOrEqual(2);
    // Waits come in pairs: the 2nd request of each window starts when the 1st one's wait ended.
    expect(client.stats.rateLimitWaits).toBe(4);
    expect(client.stats.retries).toBe(0);
    expect(h.emu.listIpEntries(h.credentialId).filter((e) => e.status === 'ACTIVE')).toHaveLength(6);
  });

  it('a concurrent burst of 10 PUTs all succeed, no 429 reaching the caller', async () => {
    h = await startHarness();
    const client = h.client();
    const id = await client.addIp(h.credentialId, '198.51.100.77');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => client.updateIpStatus(h?.credentialId ?? 0, id, i % 2 === 0 ? 'INACTIVE' : 'ACTIVE')),
    );
    expect(results).toEqual(Array(10).fill(id));
    expect(client.stats.rateLimitWaits).toBeGreaterThanOrEqual(4);
    // Concurrent ManualClock sleeps jump time for all waiters at once, so requests can reach the
    // emulator closer together than their slots; the retry on 429 absorbs that, and no 429 (nor
    // any other error) reaches the caller.
  });

  it('pages of a long list stay under 3 GETs per 3 s', async () => {
    h = await startHarness();
    h.emu.replaceIpEntries(h.credentialId, [
      { ip: '127.0.0.2', status: 'ACTIVE' },
      ...Array.from({ length: 999 }, (_, i) => ({ ip: `10.1.${Math.floor(i / 250)}.${i % 250}`, status: 'INACTIVE' as const })),
    ]);
    const client = h.client();
    expect(await client.listIps(h.credentialId)).toHaveLength(1000);
    expect(statuses(h, 'GET', ROUTES.ipList)).toEqual([200, 200, 200, 200, 200]);
    expect(client.stats.rateLimitWaits).toBe(1);
  });

  it('a limiter shared by two clients keeps their combined rate under the limit', async () => {
    h = await startHarness();
    const shared = new RateLimiter({ clock: h.clock });
    const a = h.client({ limiter: shared });
    const b = h.client({ limiter: shared });
    const id = await a.addIp(h.credentialId, '198.51.100.88');
    h.emu.clearRequestLog();
    await a.updateIpStatus(h.credentialId, id, 'INACTIVE');
    await a.updateIpStatus(h.credentialId, id, 'ACTIVE');
    await b.updateIpStatus(h.credentialId, id, 'INACTIVE');
    expect(b.stats.rateLimitWaits).toBe(1);
    expect(statuses(h, 'PUT', ROUTES.ip)).toEqual([200, 200, 200]);
  });

  it('control: two clients with separate limiters do hit bunq’s limit (and recover by retrying)', async () => {
    h = await startHarness();
    const a = h.client();
    const b = h.client();
    const id = await a.addIp(h.credentialId, '198.51.100.89');
    h.emu.clearRequestLog();
    await a.updateIpStatus(h.credentialId, id, 'INACTIVE');
    await a.updateIpStatus(h.credentialId, id, 'ACTIVE');
    await b.updateIpStatus(h.credentialId, id, 'INACTIVE');
    expect(statuses(h, 'PUT', ROUTES.ip)).toEqual([200, 200, 429, 200]);
    expect(b.stats.retries).toBe(1);
  });

  it('with client-side limiting off, bunq’s 429 is retried after the window bunq names', async () => {
    h = await startHarness();
    const client = h.client({ rateLimits: [] });
    const id = await client.addIp(h.credentialId, '198.51.100.90');
    h.emu.clearRequestLog();
    const t0 = h.clock.now();
    for (let i = 0; i < 3; i++) await client.updateIpStatus(h.credentialId, id, i % 2 === 0 ? 'INACTIVE' : 'ACTIVE');
    expect(statuses(h, 'PUT', ROUTES.ip)).toEqual([200, 200, 429, 200]);
    expect(h.clock.now() - t0).toBeGreaterThanOrEqual(3000);
    expect(client.stats.rateLimitWaits).toBe(0);
  });
});
