/** `bunq-ip status [credential]` and `bunq-ip history <credential>`: read the ReconcileState table. */
import { list, str, type CommandDef } from '../args';
import { desiredStore, printJson, stateStore, type CommandContext } from '../context';
import { EGRESS_IP_OPTION, resolveEgressIps } from '../egress-ips';
import { CliError, ExitCode } from '../errors';
import { renderHistory, renderOverview, renderStatus } from '../format/status';
import { wildcardAdvice } from '../format/wildcard';

export const statusCommand: CommandDef<CommandContext> = {
  path: ['status'],
  summary: 'the latest run of a credential (or of every credential): outcome, drift, guards, errors',
  positionals: [{ name: 'credential', optional: true }],
  options: { 'egress-ip': EGRESS_IP_OPTION },
  async run(ctx, { positionals, values }) {
    const credential = positionals[0];
    const egress = resolveEgressIps(list(values, 'egress-ip'), ctx.io.env);
    const state = stateStore(ctx);
    if (credential === undefined) {
      const credentials = await desiredStore(ctx).listCredentials();
      const rows = await Promise.all(credentials.map(async (c) => ({ credential: c, status: await state.readStatus(c) })));
      if (ctx.json) printJson(ctx, rows);
      else ctx.io.out(renderOverview(rows, ctx.style));
      return ExitCode.Ok;
    }
    const status = await state.readStatus(credential);
    if (status === null) {
      throw new CliError(`no run recorded for "${credential}" yet (is the name right? \`bunq-ip status\` lists all)`);
    }
    // From what the last run read (or, when it could not read, the last successful read).
    const wildcard = wildcardAdvice(status.actual ?? status.lastKnownActual ?? [], egress.ips, credential);
    if (ctx.json) printJson(ctx, { ...status, wildcard });
    else {
      ctx.io.out(renderStatus(status, ctx.style));
      if (wildcard.state !== 'closed') ctx.io.out(ctx.style.yellow(`  ! ${wildcard.message}`));
    }
    return ExitCode.Ok;
  },
};

export const historyCommand: CommandDef<CommandContext> = {
  path: ['history'],
  summary: 'past runs of a credential, newest first (the audit log)',
  positionals: [{ name: 'credential' }],
  options: { limit: { type: 'string', valueName: 'N', description: 'how many runs to show (default 20, at most 1000)' } },
  async run(ctx, { positionals, values }) {
    const credential = positionals[0] ?? '';
    const rawLimit = str(values, 'limit') ?? '20';
    if (!/^\d+$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > 1000) {
      throw new CliError(`--limit must be a whole number from 1 to 1000, got ${JSON.stringify(rawLimit)}`, ExitCode.Usage);
    }
    const records = await stateStore(ctx).listHistory(credential, Number(rawLimit));
    if (ctx.json) printJson(ctx, records);
    else ctx.io.out(renderHistory(credential, records, ctx.style));
    return ExitCode.Ok;
  },
};
