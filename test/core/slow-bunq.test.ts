/**
 * bunq is slow: it processes a POST after our client has given up on it. Against the real emulator
 * over HTTP with the real client, the run must not POST the IP a second time (bunq, like the
 * emulator with profile duplicate-post-accepted, may then hold two entries for it), and the next run must
 * converge from a fresh read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, startEmulator, type BunqEmulator } from '../../emulator';
import { BunqClient, createContext, whitelistPort } from '../../lambdas/bunq';
import { reconcile } from '../../lambdas/core/reconcile';
import type { WhitelistPort } from '../../lambdas/core/types';
import { ManualClock } from '../support/manual-clock';
import { config, desiredItem as d } from './fixtures';

const CLIENT_TIMEOUT_MS = 100;
/** Real milliseconds: the emulator's delay faults run on real timers. */
const BUNQ_DELAY_MS = 300;

let emu: BunqEmulator;
let port: WhitelistPort;
let credentialId: number;
const clock = new ManualClock(Date.UTC(2026, 0, 1));
/** The emulator sees this test's client as the loopback address it calls from. */
const CALLER_IPS = ['127.0.0.1'];

beforeAll(async () => {
  emu = await startEmulator({ clock, enforceIpWhitelist: false, profiles: ['duplicate-post-accepted'] });
  const user = emu.createUser();
  credentialId = user.credentialId;
  const context = await createContext({ apiKey: user.apiKey, environment: 'SANDBOX', baseUrl: emu.url, deviceDescription: 'slow bunq', clock });
  port = whitelistPort(new BunqClient({ context, clock, timeoutMs: CLIENT_TIMEOUT_MS, random: () => 0.5 }), credentialId);
});
afterAll(async () => {
  await emu?.close();
});

const entriesOf = (ip: string) => emu.listIpEntries(credentialId).filter((e) => e.ip === ip);

async function until(condition: () => boolean, limitMs: number): Promise<void> {
  const end = Date.now() + limitMs;
  while (!condition() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

describe('a POST bunq applies after the client timed out', () => {
  it('is not posted again in the same run; the next run converges with one entry for the IP', async () => {
    const ip = '198.51.100.7';
    // The caller's own entry is listed (bunq answers only a caller it lets in) and declared.
    emu.replaceIpEntries(credentialId, [{ ip: '10.0.0.1', status: 'ACTIVE' }, { ip: '10.0.0.2', status: 'ACTIVE' }, { ip: CALLER_IPS[0]!, status: 'ACTIVE' }]);
    emu.faults.add({ method: 'POST', route: ROUTES.ipList, fault: { type: 'delay', ms: BUNQ_DELAY_MS } });
    const desired = [d('10.0.0.1'), d(ip), d(CALLER_IPS[0]!)];

    const first = await reconcile({ desired, config: config(), port, clock, callerIps: CALLER_IPS });
    expect(first.operations.map((o) => [o.operation.kind, o.operation.ip, o.outcome, o.attempts, o.error?.kind])).toEqual([
      ['add', ip, 'failed', 1, 'outcome-unknown'],
      ['deactivate', '10.0.0.2', 'not-attempted', undefined, undefined],
    ]);
    expect(first.outcome).toBe('failed');

    await until(() => entriesOf(ip).length > 0, 3_000); // bunq finishes the first POST
    // The emulator logs a request once it has answered it.
    expect(emu.requests.filter((r) => r.method === 'POST' && r.route === ROUTES.ipList)).toHaveLength(1);
    expect(entriesOf(ip)).toHaveLength(1);
    const second = await reconcile({ desired, config: config(), port, clock, callerIps: CALLER_IPS });
    expect(second.operations.map((o) => [o.operation.kind, o.operation.ip, o.outcome])).toEqual([['deactivate', '10.0.0.2', 'applied']]);
    expect(second.outcome).toBe('converged');
    expect(entriesOf(ip).map((e) => e.status)).toEqual(['ACTIVE']);
  });
});
