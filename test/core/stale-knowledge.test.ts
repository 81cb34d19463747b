/**
 * Issue 10, item 4, against the bunq emulator over real HTTP with the real client (IP whitelist on):
 * never-empty judged on the freshest state before every deactivation, an IP with an entry we cannot
 * use is never POSTed again, one IP bunq refuses for good does not hold back the others.
 *
 * The emulator lists only entries it understands, so where bunq would list an entry with a status
 * we do not know, a thin port decorator rewrites that one entry of the real reply (all calls still
 * go to the emulator).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROUTES, startEmulator, type BunqEmulator } from '../../emulator';
import { metricsForResult } from '../../lambdas/aws/metrics';
import { BunqClient, createContext, whitelistPort } from '../../lambdas/bunq';
import { reconcile } from '../../lambdas/core/reconcile';
import type { ActualEntry, EntryStatus, WhitelistPort } from '../../lambdas/core/types';
import { ManualClock } from '../support/manual-clock';
import { config, desiredItem as d } from './fixtures';

/** The emulator sees the client's calls from here. */
const CALLER = '127.0.0.1';
const CALLER_IPS = [CALLER];

let emu: BunqEmulator;
let port: WhitelistPort;
let credentialId: number;
const clock = new ManualClock(Date.UTC(2026, 0, 1));

beforeAll(async () => {
  emu = await startEmulator({ clock, rateLimits: false });
  const user = emu.createUser();
  credentialId = user.credentialId;
  const context = await createContext({ apiKey: user.apiKey, environment: 'SANDBOX', baseUrl: emu.url, deviceDescription: 'stale knowledge', clock });
  port = whitelistPort(new BunqClient({ context, clock, random: () => 0.5, retry: { maxAttempts: 1 } }), credentialId);
});
afterAll(async () => {
  await emu?.close();
});
beforeEach(() => {
  emu.faults.clear();
  emu.config.profiles.clear();
});

function arrange(entries: Array<{ ip: string; status: EntryStatus }>): void {
  emu.replaceIpEntries(credentialId, [{ ip: CALLER, status: 'ACTIVE' }, ...entries]);
  emu.clearRequestLog();
}

const active = (): string[] => emu.listIpEntries(credentialId).filter((e) => e.status === 'ACTIVE').map((e) => e.ip).sort();
const posts = (): number => emu.requests.filter((r) => r.method === 'POST' && r.route === ROUTES.ipList).length;
const entryOf = (ip: string) => emu.listIpEntries(credentialId).find((e) => e.ip === ip)!;

describe('against the emulator: stale knowledge', () => {
  it('after a refused deactivation the run re-reads, and never-empty holds what the fresh state says would empty it', async () => {
    arrange([{ ip: '203.0.113.1', status: 'ACTIVE' }, { ip: '203.0.113.2', status: 'ACTIVE' }, { ip: '203.0.113.3', status: 'ACTIVE' }]);
    // 203.0.113.1 is the one desired IP; .2 and .3 go. bunq refuses the PUT of .2, and meanwhile
    // someone switches .1 off in the app: switching .3 off now would leave no desired IP ACTIVE.
    emu.faults.add({ method: 'PUT', route: ROUTES.ip, fault: { type: 'status', status: 400, description: 'Injected refusal.' } });
    const appSwitchesOff: WhitelistPort = {
      listEntries: () => port.listEntries(),
      addEntry: (ip) => port.addEntry(ip),
      setStatus: async (id, status) => {
        if (entryOf('203.0.113.1').status === 'ACTIVE') emu.setIpStatusAsApp(credentialId, entryOf('203.0.113.1').id, 'INACTIVE');
        return port.setStatus(id, status);
      },
    };
    const r = await reconcile({ desired: [d('203.0.113.1')], config: config(), port: appSwitchesOff, clock, callerIps: CALLER_IPS });
    expect(r.operations.map((o) => [o.operation.ip, o.outcome, o.error?.kind])).toEqual([
      ['203.0.113.2', 'failed', 'ip-refused'],
      ['203.0.113.3', 'not-attempted', undefined],
    ]);
    expect(r.error?.kind).toBe('never-empty');
    expect(active()).toEqual([CALLER, '203.0.113.2', '203.0.113.3']);
  });

  it('an IP bunq refuses for good (400 on its POST) is failed on its own; the other IPs are added and deactivations go on', async () => {
    arrange([{ ip: '203.0.113.9', status: 'ACTIVE' }]);
    emu.faults.add({ method: 'POST', route: ROUTES.ipList, fault: { type: 'status', status: 400, description: 'This IP address cannot be whitelisted.' } });
    const desired = [d('0.0.0.0'), d('203.0.113.1'), d('203.0.113.2')];
    const r = await reconcile({ desired, config: config(), port, clock, callerIps: CALLER_IPS });
    expect(r.operations.map((o) => [o.operation.kind, o.operation.ip, o.outcome, o.error?.kind])).toEqual([
      ['add', '0.0.0.0', 'failed', 'ip-refused'],
      ['add', '203.0.113.1', 'applied', undefined],
      ['add', '203.0.113.2', 'applied', undefined],
      ['deactivate', '203.0.113.9', 'applied', undefined],
    ]);
    expect(r.operations[0]!.error!.message).toMatch(/This IP address cannot be whitelisted/);
    expect(r.outcome).toBe('partial');
    expect(r.error?.kind).toBe('ip-refused');
    expect(active()).toEqual([CALLER, '203.0.113.1', '203.0.113.2']);
    expect(posts()).toBe(3); // the refused IP was not posted again
  });

  it('when the only desired IP is refused (400 on its POST), the undesired ACTIVE entries stay: never-empty holds the deactivations (review M4)', async () => {
    // The operator swaps 203.0.113.8/.9 for 203.0.113.1, and bunq refuses every POST (say an entry
    // limit). The refusal does not hold back the rest of the run (issue 10 item 4), but nothing
    // desired is ACTIVE, so never-empty, judged before each deactivation on what the run has seen,
    // keeps everything: the servers are not cut off.
    arrange([{ ip: '203.0.113.8', status: 'ACTIVE' }, { ip: '203.0.113.9', status: 'ACTIVE' }]);
    emu.faults.add({ method: 'POST', route: ROUTES.ipList, fault: { type: 'status', status: 400, description: 'Maximum number of IPs reached.' } });
    const r = await reconcile({ desired: [d('203.0.113.1')], config: config(), port, clock, callerIps: CALLER_IPS });
    expect(r.operations.map((o) => [o.operation.kind, o.operation.ip, o.outcome, o.error?.kind])).toEqual([
      ['add', '203.0.113.1', 'failed', 'ip-refused'],
      ['deactivate', '203.0.113.8', 'not-attempted', undefined],
      ['deactivate', '203.0.113.9', 'not-attempted', undefined],
    ]);
    expect(r.error?.kind).toBe('never-empty');
    expect(active()).toEqual([CALLER, '203.0.113.8', '203.0.113.9']);
  });

  it('an IP with an entry bunq lists in a state we do not know is not POSTed again, run after run', async () => {
    arrange([{ ip: '203.0.113.5', status: 'INACTIVE' }, { ip: '203.0.113.6', status: 'ACTIVE' }]);
    const oddId = entryOf('203.0.113.5').id;
    // bunq lists .5 with a status we do not know (say a new "PENDING"); .6 ACTIVE without a usable id.
    const oddly: WhitelistPort = {
      listEntries: async () =>
        (await port.listEntries()).map((e): ActualEntry => {
          if (e.id === oddId) return { ...e, status: 'PENDING' };
          if (e.ip === '203.0.113.6') return { ...e, id: 0 };
          return e;
        }),
      addEntry: (ip) => port.addEntry(ip),
      setStatus: (id, status) => port.setStatus(id, status),
    };
    for (let run = 1; run <= 3; run++) {
      const r = await reconcile({ desired: [d(CALLER), d('203.0.113.5')], config: config(), port: oddly, clock, callerIps: CALLER_IPS });
      expect(r.plan.operations).toEqual([]);
      const warnings = r.plan.warnings.filter((w) => w.code === 'unrecognised-entry').map((w) => w.message);
      expect(warnings.sort()).toEqual([
        expect.stringMatching(/ip "203\.0\.113\.6", status "ACTIVE".*drift the reconciler cannot fix/),
        expect.stringMatching(/ip "203\.0\.113\.5", status "PENDING".*203\.0\.113\.5 is not added again/),
      ]);
      // The ACTIVE one is drift nothing here can fix; both are counted.
      expect(r.plan.drift).toEqual([{ kind: 'unrecognised-active', ip: '203.0.113.6', entryId: 0 }]);
      const points = metricsForResult(r);
      expect(points.find((p) => p.name === 'UnrecognisedEntries')?.value).toBe(2);
      expect(points.find((p) => p.name === 'DriftRemaining')?.value).toBe(1);
    }
    expect(posts()).toBe(0);
    expect(emu.listIpEntries(credentialId).filter((e) => e.ip === '203.0.113.5')).toHaveLength(1);
  });

  it('a POST whose re-read shows an entry of the IP it cannot use is not posted again in the run', async () => {
    arrange([]);
    emu.config.profiles.add('duplicate-post-accepted');
    // The POST is applied, then the reply is lost; the re-read lists the new entry without a usable id.
    emu.faults.add({ method: 'POST', route: ROUTES.ipList, fault: { type: 'apply-then-status', status: 500 } });
    const noIds: WhitelistPort = {
      listEntries: async () => (await port.listEntries()).map((e) => (e.ip === '203.0.113.7' ? { ...e, id: 0 } : e)),
      addEntry: (ip) => port.addEntry(ip),
      setStatus: (id, status) => port.setStatus(id, status),
    };
    const r = await reconcile({ desired: [d(CALLER), d('203.0.113.7')], config: config(), port: noIds, clock, callerIps: CALLER_IPS });
    expect(r.operations.map((o) => [o.operation.ip, o.outcome, o.error?.kind])).toEqual([['203.0.113.7', 'failed', 'unrecognised-entry']]);
    expect(r.error?.kind).toBe('unrecognised-entry');
    expect(posts()).toBe(1);
    expect(emu.listIpEntries(credentialId).filter((e) => e.ip === '203.0.113.7')).toHaveLength(1);
  });
});
