/**
 * `bunq-ip apply <credential>`. With a reconcile queue configured (RECONCILE_QUEUE_URL or
 * --queue-url), the run goes through the queue by default: the deployed worker runs one credential
 * at a time (one FIFO group each), so an operator's apply never races a scheduled run. `--local`
 * (or no queue) runs the very service the worker runs (reconcileCredential) on this machine: it
 * shows the plan, asks, and then applies only if the run's own fresh plan has exactly the confirmed
 * operations; otherwise it stops before any change. A local run can still overlap a worker run on
 * the same credential (both may add the same missing IP, leaving a duplicate a later run removes).
 */
import { randomUUID } from 'node:crypto';
import { ReconcileQueue } from '../../lambdas/aws/queue';
import { deduplicationId, type ReconcileRequest } from '../../lambdas/aws/reconcile-request';
import { renderPlan } from '../../lambdas/core';
import { approveIfUnchanged } from '../../lambdas/core/approval';
import { reconcileCredential, type WorkerDeps } from '../../lambdas/service/reconcile-credential';
import { flag, type CommandDef } from '../args';
import { contextStore, credentialOwners, desiredStore, printJson, stateStore, type CommandContext } from '../context';
import { planCredential } from '../credential-plan';
import { CliError, ExitCode, usageError } from '../errors';
import { renderStatus } from '../format/status';
import { CollectingMetrics, renderMetricPoints } from '../metrics-collector';
import { requireQueueUrl } from '../settings';
import { colourPlanText } from '../style';
import { CALLER_IP_OPTION, callerLine, callerResolverFor } from '../caller-ips';
import { planDeps } from './plan';

async function confirm(ctx: CommandContext, question: string): Promise<boolean> {
  if (!ctx.io.stdinIsTTY) {
    throw new CliError('refusing to change bunq without confirmation: standard input is not a terminal; re-run with --yes');
  }
  const answer = await ctx.io.prompt(`${question} Only "yes" is accepted: `);
  return answer.trim().toLowerCase() === 'yes';
}

export const applyCommand: CommandDef<CommandContext> = {
  path: ['apply'],
  summary: 'apply the plan: add, re-activate and deactivate IPs at bunq (asks first)',
  positionals: [{ name: 'credential' }],
  options: {
    yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation' },
    'via-queue': {
      type: 'boolean',
      description: 'send a reconcile request to the deployed worker; the default when a queue URL is set',
    },
    local: {
      type: 'boolean',
      description: 'run here even when a queue URL is set (may overlap a worker run on the same credential)',
    },
    'queue-url': { type: 'string', valueName: 'URL', description: 'reconcile FIFO queue (default: $RECONCILE_QUEUE_URL)' },
    'caller-ip': { ...CALLER_IP_OPTION, description: `${CALLER_IP_OPTION.description}; local runs only` },
  },
  details:
    'With a reconcile queue set (--queue-url or $RECONCILE_QUEUE_URL, the stack output ReconcileQueueUrl),\n' +
    'apply asks the deployed worker to run: it serialises runs per credential and calls bunq from its\n' +
    'egress IP; follow the result with `bunq-ip status`. Without a queue, or with --local, apply shows\n' +
    'the plan here, asks, and runs here; if bunq or DesiredIps changed after you confirmed, so that the\n' +
    'fresh plan differs from the one you saw, it changes nothing and exits 1. A local run can overlap a\n' +
    'worker run on the same credential (both may add the same IP; a later run removes the duplicate).\n' +
    'Exit code 0 when the run succeeded (or was queued), 1 when it failed, was cancelled or the plan changed.',
  async run(ctx, { positionals, values }) {
    const credential = positionals[0] ?? '';
    const requestedAt = new Date(ctx.clock.now()).toISOString();
    if (flag(values, 'local') && flag(values, 'via-queue')) {
      throw usageError('--local and --via-queue contradict each other', 'pick one: bunq-ip apply --help');
    }
    if (flag(values, 'via-queue') || (!flag(values, 'local') && ctx.settings.queueUrl !== undefined)) {
      if (values['caller-ip'] !== undefined) {
        throw usageError('--caller-ip applies to local runs: the worker calls bunq from its egress IPs (EGRESS_IPS)', 'add --local to run here');
      }
      return enqueue(ctx, credential, requestedAt, flag(values, 'yes'));
    }

    const planned = await planCredential(planDeps(ctx), credential, callerResolverFor(ctx, values));
    const { caller } = planned;
    if (!ctx.json) {
      // The plan's own first line leads (it says HELD when guards hold changes back); the caller follows.
      ctx.io.out(colourPlanText(renderPlan(planned.plan), ctx.style));
      ctx.io.out(ctx.style.dim(callerLine(caller, planned.workerCallerIps)));
    }
    if (planned.plan.operations.length > 0 && !flag(values, 'yes')) {
      const n = planned.plan.operations.length;
      if (!(await confirm(ctx, `\nApply ${n} change${n === 1 ? '' : 's'} to "${credential}" at bunq?`))) {
        ctx.io.err('Cancelled; nothing was changed.');
        return ExitCode.Failure;
      }
    }

    const metrics = new CollectingMetrics();
    const state = stateStore(ctx);
    const deps: WorkerDeps = {
      desired: desiredStore(ctx),
      state,
      contexts: contextStore(ctx),
      metrics,
      logger: ctx.logger,
      clock: ctx.clock,
      owners: credentialOwners(ctx),
    };
    const request: ReconcileRequest = { credential, reason: 'cli', requestedAt };
    // The run reads bunq afresh and plans once; its approval step lets it write only when that
    // plan has exactly the operations confirmed above (a change meanwhile stops it before any write).
    const report = await reconcileCredential(deps, request, { approve: approveIfUnchanged(planned.plan.operations), callerIps: caller.ips });
    if (report.outcome === 'refused') {
      const reason = `${report.refusal?.reason ?? 'the run was refused at approval'}; nothing was changed at bunq: run apply again to see and confirm the new plan`;
      // `error` keeps the shape scripts read before approval became a step (kind plan-changed).
      if (ctx.json) printJson(ctx, { credential, ok: false, outcome: 'aborted', error: { kind: report.refusal?.code ?? 'plan-changed', message: reason }, refusal: report.refusal, plan: planned.plan });
      throw new CliError(`apply aborted for ${credential}: ${reason}`);
    }
    const status = await state.readStatus(credential);
    if (ctx.json) {
      printJson(ctx, { credential, ok: report.ok, outcome: report.outcome, error: report.error, caller, plan: planned.plan, status, metrics: metrics.last?.points ?? [] });
    } else {
      ctx.io.out('');
      if (status !== null) ctx.io.out(renderStatus(status, ctx.style));
      if (ctx.verbose && metrics.last) ctx.io.err(`metrics of this run (not sent to CloudWatch from the CLI):\n${renderMetricPoints(metrics.last.points)}`);
    }
    if (!report.ok) {
      throw new CliError(`apply failed for ${credential}: ${report.error?.kind ?? report.outcome}: ${report.error?.message ?? 'see status'}`);
    }
    return ExitCode.Ok;
  },
};

async function enqueue(ctx: CommandContext, credential: string, requestedAt: string, yes: boolean): Promise<number> {
  const queueUrl = requireQueueUrl(ctx.settings);
  if (!yes && !(await confirm(ctx, `Ask the deployed reconciler to apply the current plan of "${credential}"?`))) {
    ctx.io.err('Cancelled; nothing was sent.');
    return ExitCode.Failure;
  }
  const request: ReconcileRequest = { credential, reason: 'cli', requestedAt };
  const report = await new ReconcileQueue(ctx.aws.sqs(), queueUrl).send([
    { request, deduplicationId: deduplicationId('cli', credential, requestedAt, randomUUID()) },
  ]);
  // A refused name (it cannot be a FIFO group) is as much a failure here as an SQS error: saying
  // "queued" would send the operator to wait for a run that never comes.
  const failure = report.refused[0] ?? report.failed[0];
  if (failure !== undefined) throw new CliError(`could not queue a run of ${credential}: ${failure.reason}`);
  if (report.sent !== 1) throw new CliError(`could not queue a run of ${credential}: SQS accepted ${report.sent} messages, expected 1`);
  if (ctx.json) printJson(ctx, { credential, queued: true, requestedAt });
  else ctx.io.out(`queued a reconcile run of "${credential}"; follow it with: bunq-ip status ${credential}`);
  return ExitCode.Ok;
}
