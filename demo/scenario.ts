/**
 * The `npm start` story: one credential drifts, is planned, applied and converges; a guard stops an
 * unsafe change; the metrics of the runs are shown. Every step runs the production code (bootstrap
 * service, DesiredIps writer, planCredential, reconcileCredential, metrics) against the bunq
 * emulator over real HTTP, dynalite and an in-memory context store. Each step checks what bunq
 * holds afterwards and throws if it is not what the story claims, so a regression fails the demo.
 */
import { CredentialOwners } from '../lambdas/aws/credential-owner';
import { DesiredStore } from '../lambdas/aws/desired-store';
import type { MetricPoint } from '../lambdas/aws/metrics';
import { StateStore } from '../lambdas/aws/state-store';
import { CLASSIC_RATE_LIMITS, RateLimiter, silentLogger, type RateLimitRule } from '../lambdas/bunq';
import { renderPlan } from '../lambdas/core';
import { reconcileCredential, type WorkerDeps } from '../lambdas/service/reconcile-credential';
import type { Logger } from '../lambdas/shared/logger';
import { MetricName } from '../lambdas/shared/metric-names';
import { systemClock } from '../lambdas/shared/clock';
import { DesiredWriter } from '../cli/adapters/desired-writer';
import { bootstrapCredential } from '../cli/bootstrap-service';
import type { CallerIps } from '../cli/caller-ips';
import { planCredential, type PlanDeps } from '../cli/credential-plan';
import { desiredView, renderDesired } from '../cli/format/desired';
import { renderHistory, renderStatus } from '../cli/format/status';
import { CollectingMetrics, renderMetricPoints } from '../cli/metrics-collector';
import { colourPlanText, type Style } from '../cli/style';
import { DEFAULT_RATE_LIMITS, startEmulator, type BunqEmulator } from '../emulator';
import { startLocalDynamo, type LocalDynamo } from './local-dynamodb';
import { MemoryContextStore } from './memory-context-store';

/** bunq's classic windows (3 s, 30 s) shrunk 20×: the same limits, a demo that takes seconds. */
export const RATE_WINDOW_SCALE = 20;
const DESIRED_TABLE = 'DesiredIps';
const STATE_TABLE = 'ReconcileState';
const PREFIX = 'bunq-ip-reconciler/';
const CREDENTIAL = 'demo';
/** The emulator sees this process as 127.0.0.1: in the story, the reconciler's fixed egress IP. */
const EGRESS_IP = '127.0.0.1';
const OFFICE = '203.0.113.10';
const VPN = '203.0.113.11';
const BUILD = '203.0.113.12';
const ROGUE = '198.51.100.7';

export interface DemoSummary {
  converged: boolean;
  guardHeld: boolean;
  finalActive: string[];
}

const quietLogger: Logger = silentLogger;

function scaled<T extends { windowMs: number }>(rules: readonly T[]): T[] {
  return rules.map((r) => ({ ...r, windowMs: r.windowMs / RATE_WINDOW_SCALE }));
}

function check(condition: boolean, claim: string): void {
  if (!condition) throw new Error(`demo check failed: ${claim}`);
}

function activeIps(emu: BunqEmulator, credentialId: number): string[] {
  return emu.listIpEntries(credentialId).filter((e) => e.status === 'ACTIVE').map((e) => e.ip).sort();
}

function metricValue(points: readonly MetricPoint[] | undefined, name: string): number | undefined {
  return points?.find((p) => p.name === name)?.value;
}

export async function runDemo(say: (text: string) => void, style: Style): Promise<DemoSummary> {
  const heading = (n: number, title: string): void => say(`\n${style.bold(style.cyan(`━━ ${n}. ${title}`))}`);
  const note = (text: string): void => say(style.dim(text));
  const indent = (text: string): string => text.split('\n').map((l) => `    ${l}`).join('\n');

  const emu = await startEmulator({ rateLimits: scaled(DEFAULT_RATE_LIMITS), sessionTimeoutSeconds: 600 });
  let dynamo: LocalDynamo | undefined;
  try {
    dynamo = await startLocalDynamo([DESIRED_TABLE, STATE_TABLE]);
    const contexts = new MemoryContextStore(PREFIX);
    const desired = new DesiredStore(dynamo.client, DESIRED_TABLE);
    const writer = new DesiredWriter(dynamo.client, DESIRED_TABLE);
    const state = new StateStore(dynamo.client, STATE_TABLE, 90);
    const clientRules: RateLimitRule[] = scaled(CLASSIC_RATE_LIMITS);
    // One limiter for every client: they all call bunq from this one IP, as workers behind a NAT do.
    const bunqOptions = { limiter: new RateLimiter({ rules: clientRules, clock: systemClock, marginMs: 10 }) };
    const metrics = new CollectingMetrics();
    // dynalite has no TransactWriteItems: bootstrap's owner claim and config are written one by one.
    const owners = new CredentialOwners(dynamo.client, { stateTable: STATE_TABLE, desiredTable: DESIRED_TABLE }, false);
    const planDeps: PlanDeps = { desired, contexts, clock: systemClock, logger: quietLogger, owners, bunqOptions };
    // The reconciler knows the IP it calls bunq from (EGRESS_IPS in AWS): it is never deactivated.
    const callerIps = [EGRESS_IP];
    const caller: CallerIps = { ips: callerIps, source: 'detected', detail: 'the emulator is on this machine (loopback)' };
    const workerDeps: WorkerDeps = {
      desired,
      state,
      contexts,
      metrics,
      logger: quietLogger,
      clock: systemClock,
      owners,
      bunqOptions,
    };
    const now = (): string => new Date().toISOString();
    const showPlan = async (): Promise<number> => {
      const planned = await planCredential(planDeps, CREDENTIAL, caller);
      say(indent(colourPlanText(renderPlan(planned.plan), style)));
      return planned.plan.drift.length;
    };
    const apply = async (): Promise<string> => {
      const report = await reconcileCredential(workerDeps, { credential: CREDENTIAL, reason: 'cli', requestedAt: now() }, { callerIps, workerRun: true });
      const status = await state.readStatus(CREDENTIAL);
      if (status !== null) say(indent(renderStatus(status, style)));
      check(report.ok, `the run succeeded (got ${report.outcome}${report.error ? `: ${report.error.message}` : ''})`);
      return report.outcome;
    };

    say(style.bold('bunq-ip-reconciler: a local run of the whole reconcile loop'));
    note(
      [
        `  bunq API     the emulator at ${emu.url} (real HTTP, RSA-signed requests and replies, IP whitelist enforced)`,
        `               rate limits: bunq's classic table (GET 3, POST 5, PUT 2 per window; session-server 1 per long window)`,
        `               with windows scaled down ${RATE_WINDOW_SCALE}× (3 s → ${3000 / RATE_WINDOW_SCALE} ms, 30 s → ${30000 / RATE_WINDOW_SCALE} ms) so the demo takes seconds`,
        `  DynamoDB     dynalite in this process (tables ${DESIRED_TABLE}, ${STATE_TABLE})`,
        '  secrets      an in-memory context store (Secrets Manager in AWS)',
        '  No AWS account, credentials or network are used.',
      ].join('\n'),
    );

    heading(1, 'Onboard a credential (what `bunq-ip bootstrap` does)');
    const minted = await fetch(`${emu.url}/v1/sandbox-user-person`, {
      method: 'POST',
      headers: { 'User-Agent': 'bunq-ip-demo', 'Cache-Control': 'no-cache' },
    });
    const mintedBody = (await minted.json()) as { Response?: Array<{ ApiKey?: { api_key?: unknown } }> };
    const apiKey = mintedBody.Response?.[0]?.ApiKey?.api_key;
    check(typeof apiKey === 'string', 'the emulator minted a sandbox API key');
    const boot = await bootstrapCredential(
      {
        secrets: contexts,
        desired,
        writer,
        owners,
        chooseCredential: () => Promise.reject(new Error('the demo user has one credential')),
        clock: systemClock,
        logger: quietLogger,
        bunqOptions,
      },
      {
        credential: CREDENTIAL,
        apiKey: apiKey as string,
        environment: 'SANDBOX',
        baseUrl: emu.url,
        secretPrefix: PREFIX,
        permittedIps: [],
        allowAllIps: false,
        policy: { mode: 'enforce', maxDeactivationsPerRun: 2, protectedIps: [EGRESS_IP] },
        force: false,
        caller,
      },
    );
    say(
      indent(
        [
          'minted a sandbox API key (POST /v1/sandbox-user-person), generated an RSA key pair, then',
          'POST /installation → POST /device-server (binds the calling IP) → POST /session-server',
          `bunq user ${boot.userId}, CredentialPasswordIp ${boot.credentialPasswordIpId}; secret ${boot.secretName} ${boot.secretOutcome}`,
          `config: mode enforce, at most 2 deactivations per run, ${EGRESS_IP} protected (the reconciler's own egress IP)`,
          `whitelist at bunq: ${boot.entries.map((e) => `${e.ip} ${e.status}`).join(', ')}`,
        ].join('\n'),
      ),
    );
    const credentialId = boot.credentialPasswordIpId;

    heading(2, 'Declare the desired IPs (what `bunq-ip desired add` does)');
    await writer.putIp(CREDENTIAL, { ip: EGRESS_IP, note: 'reconciler egress' }, now());
    await writer.putIp(CREDENTIAL, { ip: OFFICE, note: 'office' }, now());
    await writer.putIp(CREDENTIAL, { ip: VPN, note: 'VPN gateway' }, now());
    say(indent(renderDesired(desiredView(await desired.readCredential(CREDENTIAL), Date.now()), Date.now(), style)));

    heading(3, 'First run: plan, then apply');
    check((await showPlan()) > 0, 'the first plan found the two missing IPs');
    say('');
    await apply();
    check(activeIps(emu, credentialId).join() === [EGRESS_IP, OFFICE, VPN].sort().join(), 'bunq holds exactly the desired IPs');

    heading(4, 'Drift: someone changes the whitelist in the bunq app, and a new IP is declared');
    emu.addIpEntryAsApp(credentialId, ROGUE, 'ACTIVE');
    const vpnEntry = emu.listIpEntries(credentialId).find((e) => e.ip === VPN && e.status === 'ACTIVE');
    check(vpnEntry !== undefined, 'the VPN entry exists');
    if (vpnEntry) emu.setIpStatusAsApp(credentialId, vpnEntry.id, 'INACTIVE');
    await writer.putIp(CREDENTIAL, { ip: BUILD, note: 'build server', expiresAt: Math.floor(Date.now() / 1000) + 8 * 3600 }, now());
    note(`    in the app: ${ROGUE} added ACTIVE, ${VPN} set INACTIVE; declared: ${BUILD} for 8h (\`desired add --for 8h\`)`);
    say('');
    check((await showPlan()) === 3, 'the plan shows three differences');
    say('');
    await apply();
    const converged = activeIps(emu, credentialId).join() === [EGRESS_IP, OFFICE, VPN, BUILD].sort().join();
    check(converged, 'bunq converged to the desired IPs');
    const convergedMetrics = metrics.last?.points;

    heading(5, 'Converged: the next plan finds nothing to do (exit code 0 for `bunq-ip plan`)');
    check((await showPlan()) === 0, 'no drift remains');

    heading(6, 'A guard stops an unsafe change');
    note('    an operator removes three desired IPs at once (say, a truncated import); the config allows 2 per run');
    for (const ip of [OFFICE, VPN, BUILD]) await writer.removeEntry(CREDENTIAL, `ip#${ip}`);
    say('');
    await showPlan();
    say('');
    const guardedOutcome = await apply();
    check(guardedOutcome === 'held', `the guarded run is recorded as held, not converged (got ${guardedOutcome})`);
    const guardHeld = activeIps(emu, credentialId).join() === [EGRESS_IP, OFFICE, VPN, BUILD].sort().join();
    check(guardHeld, 'the guard kept every IP ACTIVE');
    note('    nothing was deactivated: the DriftRemaining and GuardBlockedOperations alarms would now tell the operator');
    const guardMetrics = metrics.last?.points;

    heading(7, 'The metrics each run emits (CloudWatch EMF in AWS; alarms watch these)');
    say(`    the converging run (step 4):\n${indent(renderMetricPoints(convergedMetrics ?? []))}`);
    say(`    the guarded run (step 6):\n${indent(renderMetricPoints(guardMetrics ?? []))}`);
    check(metricValue(guardMetrics, MetricName.OperationsBlocked) === 3, 'the guarded run reported 3 blocked operations');
    check(metricValue(convergedMetrics, MetricName.DriftRemaining) === 0, 'the converging run left no drift');

    heading(8, 'The audit log (what `bunq-ip history demo` shows)');
    say(indent(renderHistory(CREDENTIAL, await state.listHistory(CREDENTIAL, 10), style)));

    const finalActive = activeIps(emu, credentialId);
    say(`\n${style.green(style.bold('Done.'))} Drift was found, planned, applied and converged; the guard held. bunq ACTIVE now: ${finalActive.join(', ')}`);
    return { converged, guardHeld, finalActive };
  } finally {
    await dynamo?.close();
    await emu.close();
  }
}
