/**
 * Item 1 — bunq calls per reconcile run versus the minimum the input allows. Each scenario runs
 * the real core (reconcile) through the real bunq client against the emulator, with bunq's
 * classic rate limits enforced on a manual clock (so windows pass instantly); the calls are
 * counted where bunq would count them: in the emulator's request log.
 */
import { BunqClient, whitelistPort } from '../../lambdas/bunq';
import { reconcile, type CredentialConfig, type DesiredItem } from '../../lambdas/core';
import { ManualClock } from '../../test/support/manual-clock';
import { bunqWorld, OWN_IP, whitelistCalls } from '../lib/bunq-world';
import { differences, minimumCalls, type EntryLike } from '../lib/lower-bound';
import { round } from '../lib/stats';
import { fmt, formatTable } from '../lib/table';
import { ipAt } from './ip';

export interface CallsRow {
  scenario: string;
  entries: number;
  differences: number;
  /** Measured at the emulator. */
  reads: number;
  writes: number;
  /** ExecutionResult.reads / .writes as the core reports them. */
  reportedReads: number;
  reportedWrites: number;
  minReads: number;
  minWrites: number;
  minReadsWithVerify: number;
  /** (reads + writes) / (minReads + minWrites): the minimum. */
  ratio: number;
  /** Same, against the minimum with make-before-break's verifying read. */
  ratioWithVerify: number;
  rateLimited: number;
  outcome: string;
  converged: boolean;
}


interface Scenario {
  name: string;
  desired: string[];
  /** bunq's entries, oldest first; our own IP is always among them (device registration put it there). */
  entries: EntryLike[];
}

const range = (from: number, count: number): string[] => Array.from({ length: count }, (_, k) => ipAt(from + k));
const active = (ips: string[]): EntryLike[] => ips.map((ip) => ({ ip, status: 'ACTIVE' }));
const inactive = (ips: string[]): EntryLike[] => ips.map((ip) => ({ ip, status: 'INACTIVE' }));

export function scenarios(): Scenario[] {
  const base = range(1, 4);
  const keep = range(100, 10);
  const revive = range(200, 10);
  const drop = range(300, 10);
  const fresh = range(400, 30);
  const big = range(1000, 999);
  const d = range(2000, 20);
  return [
    { name: 'in sync', desired: [OWN_IP, ...base], entries: active([OWN_IP, ...base]) },
    { name: '1 change', desired: [OWN_IP, ...base, ipAt(50)], entries: active([OWN_IP, ...base]) },
    {
      name: '50 changes (30 add, 10 re-activate, 10 deactivate)',
      desired: [OWN_IP, ...keep, ...revive, ...fresh],
      entries: [...active([OWN_IP, ...keep]), ...inactive(revive), ...active(drop)],
    },
    { name: '1,000 entries in sync (5 pages)', desired: [OWN_IP, ...big], entries: active([OWN_IP, ...big]) },
    {
      name: 'drift + duplicates',
      desired: [OWN_IP, ...d],
      entries: [
        ...active([OWN_IP, ...d.slice(0, 15)]),
        ...inactive(d.slice(15, 17)), // re-activate 2; d[17..19] are missing: add 3
        ...active(range(3000, 3)), // undesired: deactivate 3
        ...active(d.slice(0, 2)), // duplicates of desired IPs: deactivate 2
        ...inactive([d[2] as string, ipAt(3100)]), // history: left alone
      ],
    },
  ];
}

function config(credentialPasswordIpId: number, userId: number): CredentialConfig {
  return {
    credential: 'bench',
    userId,
    credentialPasswordIpId,
    secretName: 'bunq-ip-reconciler/bench',
    mode: 'enforce',
    maxDeactivationsPerRun: 1000,
    protectedIps: [OWN_IP],
  };
}

async function runScenario(s: Scenario): Promise<CallsRow> {
  const clock = new ManualClock();
  const world = await bunqWorld({ clock, seed: 7 });
  try {
    const { emulator } = world;
    emulator.replaceIpEntries(world.credentialId, s.entries);
    const client = new BunqClient({ context: world.context, clock });
    const desired: DesiredItem[] = s.desired.map((ip) => ({ entry: `ip#${ip}`, ip }));
    emulator.clearRequestLog();
    // The emulator sees this client as OWN_IP: the run knows it calls from there (caller-ip guard).
    const result = await reconcile({ desired, config: config(world.credentialId, world.userId), port: whitelistPort(client, world.credentialId), clock, callerIps: [OWN_IP] });
    const counted = whitelistCalls(emulator);
    const shape = differences(s.desired, s.entries);
    const min = minimumCalls(shape);
    const after = emulator.listIpEntries(world.credentialId);
    const activeAfter = after.filter((e) => e.status === 'ACTIVE').map((e) => e.ip);
    const converged = activeAfter.length === s.desired.length && new Set(activeAfter).size === activeAfter.length &&
      s.desired.every((ip) => activeAfter.includes(ip));
    const total = counted.reads + counted.writes;
    return {
      scenario: s.name,
      entries: s.entries.length,
      differences: min.writes,
      reads: counted.reads,
      writes: counted.writes,
      reportedReads: result.reads,
      reportedWrites: result.writes,
      minReads: min.reads,
      minWrites: min.writes,
      minReadsWithVerify: min.readsWithVerify,
      ratio: round(total / (min.reads + min.writes), 3),
      ratioWithVerify: round(total / (min.readsWithVerify + min.writes), 3),
      rateLimited: counted.rateLimited,
      outcome: result.outcome,
      converged,
    };
  } finally {
    await world.close();
  }
}

export async function runCalls(): Promise<CallsRow[]> {
  const rows: CallsRow[] = [];
  for (const s of scenarios()) rows.push(await runScenario(s));
  return rows;
}

export function formatCalls(rows: readonly CallsRow[]): string[] {
  return formatTable(
    [
      { header: 'scenario' },
      { header: 'entries' },
      { header: 'diffs' },
      { header: 'reads (min)' },
      { header: 'writes (min)' },
      { header: 'ratio' },
      { header: 'ratio w/ verify' },
      { header: '429s' },
      { header: 'outcome' },
      { header: 'converged' },
    ],
    rows.map((r) => [
      r.scenario,
      r.entries,
      r.differences,
      `${r.reads} (${r.minReads})`,
      `${r.writes} (${r.minWrites})`,
      fmt(r.ratio, 2),
      fmt(r.ratioWithVerify, 2),
      r.rateLimited,
      r.outcome,
      r.converged ? 'yes' : 'NO',
    ]),
  );
}
