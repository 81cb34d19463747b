/** `bunq-ip status [credential]` and `bunq-ip history <credential>`: read the ReconcileState table. */
import { str, type CommandDef } from '../args';
import { desiredStore, printJson, stateStore, type CommandContext } from '../context';
import { CliError, ExitCode } from '../errors';
import { renderHistory, renderOverview, renderStatus } from '../format/status';

export const statusCommand: CommandDef<CommandContext> = {
  path: ['status'],
  summary: 'the latest run of a credential (or of every credential): outcome, drift, guards, errors',
  positionals: [{ name: 'credential', optional: true }],
  options: {},
  async run(ctx, { positionals }) {
    const credential = positionals[0];
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
    if (ctx.json) printJson(ctx, status);
    else ctx.io.out(renderStatus(status, ctx.style));
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
