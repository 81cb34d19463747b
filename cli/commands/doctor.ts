/**
 * `bunq-ip doctor <credential>`: checks the chain an operator worries about, one line per check with
 * its fix (cli/doctor-checks.ts judges; this gathers). It reads, and calls bunq once to list the
 * entries (renewing the session if needed, as every run does); it changes nothing else.
 * Exit 0 when nothing is a problem, 1 otherwise.
 */
import type { ContextStorePort } from '../../lambdas/aws/context-store';
import type { StatusRecord } from '../../lambdas/aws/state-store';
import { normaliseDesired, type ActualEntry, type CredentialConfig } from '../../lambdas/core';
import { resolveBaseUrl } from '../../lambdas/bunq/call-environment';
import { credentialPort, loadCredentialContext, runErrorOf } from '../../lambdas/service/reconcile-credential';
import { list, type CommandDef } from '../args';
import { CALLER_IP_OPTION, callerIpsFor, callerOrigin } from '../caller-ips';
import { contextStore, credentialOwners, desiredStore, printJson, stateStore, type CommandContext } from '../context';
import { doctorChecks, doctorOk, renderDoctor, type DoctorFacts, type Outcome } from '../doctor-checks';
import { EGRESS_IP_OPTION, resolveEgressIps } from '../egress-ips';
import { ExitCode } from '../errors';

async function attempt<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    const { kind, message } = runErrorOf(err);
    return { ok: false, kind, message };
  }
}

export const doctorCommand: CommandDef<CommandContext> = {
  path: ['doctor'],
  summary: 'check a credential end to end (secret, session, IPs, `*`, ownership, egress IP, last run), each problem with its fix',
  positionals: [{ name: 'credential' }],
  options: { 'caller-ip': CALLER_IP_OPTION, 'egress-ip': EGRESS_IP_OPTION },
  details:
    'Reads the config, the secret and the last run, and lists the credential\'s entries at bunq once (from\n' +
    'this machine, renewing the session if it expired). Changes nothing at bunq. The deployed egress IP\n' +
    'comes from --egress-ip or $EGRESS_IPS (the stack output EgressIp). Exit 0: no problem; 1: a problem.',
  async run(ctx, { positionals, values }) {
    const credential = positionals[0] ?? '';
    const egressIps = resolveEgressIps(list(values, 'egress-ip'), ctx.io.env);
    const desired = desiredStore(ctx);
    const state = await attempt(() => desired.readCredential(credential));
    const config: Outcome<CredentialConfig> = state.ok ? await attempt(async () => desired.configOf(state.value)) : state;
    const facts: DoctorFacts = {
      credential,
      config,
      // Replaced below by the caller as judged from the context's base URL once the secret loads.
      callerIps: { ips: [], detail: '' },
      egressIps,
      desiredIps: state.ok ? normaliseDesired(state.value.desired, ctx.clock.now()).ips : [],
      lastRun: await attempt<StatusRecord | null>(() => stateStore(ctx).readStatus(credential)),
    };

    if (config.ok) {
      const cfg = config.value;
      const contexts = contextStore(ctx);
      const secret = await attempt(async () => (await loadCredentialContext({ contexts }, cfg)).context);
      if (secret.ok) {
        // Judged from the URL this credential's context calls, as plan and apply do: a loopback
        // BUNQ_BASE_URL left in the shell must not make production look like the local emulator.
        const judged = await callerIpsFor(ctx, values, resolveBaseUrl(secret.value.environment, secret.value.baseUrl));
        facts.callerIps = { ips: judged.ips, detail: callerOrigin(judged) };
      }
      facts.secret = secret.ok
        ? { ok: true, value: { environment: secret.value.environment, userId: secret.value.userId, sessionExpiresAt: secret.value.session?.expiresAt ?? null } }
        : secret;
      if (secret.ok) {
        // Notes a renewal without changing how it is stored (the worker's own persister still runs).
        let renewedUntil: string | null = null;
        const watching: ContextStorePort = {
          load: (name) => contexts.load(name),
          invalidate: (name) => contexts.invalidate(name),
          saveSession: async (basis, session) => {
            renewedUntil = session.expiresAt;
            return contexts.saveSession(basis, session);
          },
        };
        const read = await attempt<ActualEntry[]>(async () => (await credentialPort({ contexts: watching, clock: ctx.clock, logger: ctx.logger }, cfg)).listEntries());
        facts.bunq = read.ok
          ? { ok: true, value: { entries: read.value, sessionRenewed: renewedUntil !== null, sessionExpiresAt: renewedUntil ?? secret.value.session?.expiresAt ?? null } }
          : read;
        const key = { environment: secret.value.environment, userId: cfg.userId, credentialPasswordIpId: cfg.credentialPasswordIpId };
        const verdict = await attempt(() => credentialOwners(ctx).verdict(credential, key));
        facts.ownership = verdict.ok
          ? {
              ok: true,
              value: {
                kind: verdict.value.kind,
                ...('record' in verdict.value && verdict.value.record !== null ? { owner: verdict.value.record.owner } : {}),
                ...(verdict.value.kind === 'contested' ? { rivals: verdict.value.rivals } : {}),
                ...(verdict.value.kind === 'stale' || verdict.value.kind === 'unreadable' ? { why: verdict.value.why } : {}),
              },
            }
          : verdict;
      }
    }

    if (facts.secret?.ok !== true) {
      // No context to judge from: the command line's (or $BUNQ_BASE_URL's) base URL is all there is.
      const caller = await callerIpsFor(ctx, values);
      facts.callerIps = { ips: caller.ips, detail: callerOrigin(caller) };
    }
    const checks = doctorChecks(facts);
    const ok = doctorOk(checks);
    if (ctx.json) printJson(ctx, { credential, ok, checks });
    else ctx.io.out(renderDoctor(credential, checks, ctx.style));
    return ok ? ExitCode.Ok : ExitCode.Failure;
  },
};
