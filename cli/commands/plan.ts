/** `bunq-ip plan <credential>`: what a run would do now, Terraform-style; exit 2 when there is drift. */
import { renderPlan } from '../../lambdas/core';
import { list, type CommandDef } from '../args';
import { CALLER_IP_OPTION, CALLER_IPS_ENV, callerLine, callerResolverFor } from '../caller-ips';
import { contextStore, credentialOwners, desiredStore, printJson, stateStore, type CommandContext } from '../context';
import { planCredential, type PlanDeps } from '../credential-plan';
import { EGRESS_IP_OPTION, resolveEgressIps } from '../egress-ips';
import { ExitCode } from '../errors';
import { wildcardAdvice } from '../format/wildcard';
import { colourPlanText } from '../style';

export function planDeps(ctx: CommandContext): PlanDeps {
  return {
    desired: desiredStore(ctx),
    contexts: contextStore(ctx),
    clock: ctx.clock,
    logger: ctx.logger,
    owners: credentialOwners(ctx),
    state: stateStore(ctx),
  };
}

export const planCommand: CommandDef<CommandContext> = {
  path: ['plan'],
  summary: 'show what a reconcile run would change at bunq now (exit 2 when there is drift)',
  positionals: [{ name: 'credential' }],
  options: { 'caller-ip': CALLER_IP_OPTION, 'egress-ip': EGRESS_IP_OPTION },
  details:
    'Reads the desired IPs and config, then bunq\'s current whitelist (from this machine: its IP must be\n' +
    'allowed on the credential). Symbols: + add, ~ re-activate, - deactivate, ! held back by a guard.\n' +
    `The IP this machine calls from is kept: --caller-ip, else $${CALLER_IPS_ENV}, else asked of\n` +
    'https://checkip.amazonaws.com (2 s; $BUNQ_IP_CHECKIP_URL overrides, "off" skips). When it cannot\n' +
    'be told, every deactivation is held.\n' +
    'With the deployed egress IP (--egress-ip or $EGRESS_IPS) an ACTIVE `*` comes with what to do about it.',
  async run(ctx, { positionals, values }) {
    const credential = positionals[0] ?? '';
    const egress = resolveEgressIps(list(values, 'egress-ip'), ctx.io.env);
    const result = await planCredential(planDeps(ctx), credential, callerResolverFor(ctx, values));
    const { caller } = result;
    const drift = result.plan.drift.length > 0;
    const wildcard = wildcardAdvice(result.actual, egress.ips, credential);
    if (ctx.json) {
      printJson(ctx, { credential, inSync: !drift, caller, workerCallerIps: result.workerCallerIps, plan: result.plan, actual: result.actual, unknownEntries: result.unknownEntries, wildcard });
    } else {
      // The plan's own first line leads (it says HELD when guards hold changes back); the caller follows.
      ctx.io.out(colourPlanText(renderPlan(result.plan), ctx.style));
      ctx.io.out(ctx.style.dim(callerLine(caller, result.workerCallerIps)));
      if (drift && result.plan.operations.length > 0) ctx.io.out(ctx.style.dim(`\nApply with: bunq-ip apply ${credential}`));
      if (wildcard.state !== 'closed') ctx.io.out(ctx.style.yellow(`\n! ${wildcard.message}`));
    }
    return drift ? ExitCode.Drift : ExitCode.Ok;
  },
};
