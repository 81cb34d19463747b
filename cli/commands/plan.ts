/** `bunq-ip plan <credential>`: what a run would do now, Terraform-style; exit 2 when there is drift. */
import { renderPlan } from '../../lambdas/core';
import type { CommandDef } from '../args';
import { CALLER_IP_OPTION, CALLER_IPS_ENV, callerIpsFor, callerLine } from '../caller-ips';
import { contextStore, credentialOwners, desiredStore, printJson, stateStore, type CommandContext } from '../context';
import { planCredential, type PlanDeps } from '../credential-plan';
import { ExitCode } from '../errors';
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
  options: { 'caller-ip': CALLER_IP_OPTION },
  details:
    'Reads the desired IPs and config, then bunq\'s current whitelist (from this machine: its IP must be\n' +
    'allowed on the credential). Symbols: + add, ~ re-activate, - deactivate, ! held back by a guard.\n' +
    `The IP this machine calls from is kept: --caller-ip, else $${CALLER_IPS_ENV}, else asked of\n` +
    'https://checkip.amazonaws.com (2 s; $BUNQ_IP_CHECKIP_URL overrides, "off" skips). When it cannot\n' +
    'be told, every deactivation is held.',
  async run(ctx, { positionals, values }) {
    const credential = positionals[0] ?? '';
    const caller = await callerIpsFor(ctx, values);
    const result = await planCredential(planDeps(ctx), credential, caller);
    const drift = result.plan.drift.length > 0;
    if (ctx.json) {
      printJson(ctx, { credential, inSync: !drift, caller, plan: result.plan, actual: result.actual, unknownEntries: result.unknownEntries });
    } else {
      // The plan's own first line leads (it says HELD when guards hold changes back); the caller follows.
      ctx.io.out(colourPlanText(renderPlan(result.plan), ctx.style));
      ctx.io.out(ctx.style.dim(callerLine(caller)));
      if (drift && result.plan.operations.length > 0) ctx.io.out(ctx.style.dim(`\nApply with: bunq-ip apply ${credential}`));
    }
    return drift ? ExitCode.Drift : ExitCode.Ok;
  },
};
