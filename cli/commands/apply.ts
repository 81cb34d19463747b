/**
 * `bunq-ip apply <credential>`: shows the plan, asks, then runs the very service the queue worker
 * runs (reconcileCredential), which re-reads bunq, re-plans with the same guards, applies, and
 * records status and history. `--via-queue` hands the run to the deployed worker instead.
 */
import { randomUUID } from 'node:crypto';
import { ReconcileQueue } from '../../lambdas/aws/queue';
import { deduplicationId, type ReconcileRequest } from '../../lambdas/aws/reconcile-request';
import { renderPlan } from '../../lambdas/core';
import { reconcileCredential, type WorkerDeps } from '../../lambdas/handlers/reconcile-credential';
import { flag, type CommandDef } from '../args';
import { contextStore, desiredStore, printJson, stateStore, type CommandContext } from '../context';
import { planCredential } from '../credential-plan';
import { CliError, ExitCode } from '../errors';
import { renderStatus } from '../format/status';
import { CollectingMetrics, renderMetricPoints } from '../metrics-collector';
import { requireQueueUrl } from '../settings';
import { colourPlanText } from '../style';
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
      description: 'send a reconcile request to the deployed worker (calls bunq from its egress IP) instead of running here',
    },
  },
  details:
    'The run re-reads bunq and re-plans under the same guards, so it never does more than a fresh plan\n' +
    'allows. Exit code 0 when the run succeeded, 1 when it failed or was cancelled.',
  async run(ctx, { positionals, values }) {
    const credential = positionals[0] ?? '';
    const requestedAt = new Date(ctx.clock.now()).toISOString();
    if (flag(values, 'via-queue')) return enqueue(ctx, credential, requestedAt, flag(values, 'yes'));

    const planned = await planCredential(planDeps(ctx), credential);
    if (!ctx.json) ctx.io.out(colourPlanText(renderPlan(planned.plan), ctx.style));
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
    };
    const request: ReconcileRequest = { credential, reason: 'cli', requestedAt };
    const report = await reconcileCredential(deps, request);
    const status = await state.readStatus(credential);
    if (ctx.json) {
      printJson(ctx, { credential, ok: report.ok, outcome: report.outcome, error: report.error, plan: planned.plan, status, metrics: metrics.last?.points ?? [] });
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
  const failure = report.failed[0];
  if (failure !== undefined) throw new CliError(`could not queue a run of ${credential}: ${failure.reason}`);
  if (ctx.json) printJson(ctx, { credential, queued: true, requestedAt });
  else ctx.io.out(`queued a reconcile run of "${credential}"; follow it with: bunq-ip status ${credential}`);
  return ExitCode.Ok;
}
