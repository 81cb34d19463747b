/** `bunq-ip probe`: settles bunq's open questions against its sandbox, with users it mints itself. */
import { flag, str, type CommandDef } from '../args';
import { printJson, type CommandContext } from '../context';
import { ExitCode } from '../errors';
import { renderProbeReport } from '../probe/render';
import { runProbe } from '../probe/run-probe';
import { probeBaseUrl, SANDBOX_BASE_URL } from '../probe/sandbox-url';

export const probeCommand: CommandDef<CommandContext> = {
  path: ['probe'],
  summary: "check bunq's real behaviour on its sandbox (mints throwaway users; no AWS, no credential of yours)",
  positionals: [],
  options: {
    'base-url': { type: 'string', valueName: 'URL', description: `bunq sandbox API (default: ${SANDBOX_BASE_URL}); production is refused` },
    long: { type: 'boolean', description: 'also check whether calls extend a session (waits about one session_timeout)' },
  },
  details:
    'Mints sandbox users through POST /v1/sandbox-user-person and asks, one check per question, what the\n' +
    'reconciler relies on: may a standard key add IPs, is "*" listed, do entries carry ids, does PUT\n' +
    're-activate, is a duplicate POST refused, are errors signed, what does a rate limit look like. Each\n' +
    'answer is `default` (as the emulator plays it by default) or the emulator profile bunq behaved like\n' +
    '(npm run emulator -- --profile NAME). Takes about two minutes: bunq allows one session-server call\n' +
    'per 30 s. Paste the text output into an issue; --json for machines.',
  async run(ctx, { values }) {
    const baseUrl = probeBaseUrl(str(values, 'base-url'));
    const report = await runProbe({
      baseUrl,
      long: flag(values, 'long'),
      clock: ctx.clock,
      progress: (line) => ctx.io.err(ctx.style.dim(line)),
    });
    if (ctx.json) printJson(ctx, report);
    else ctx.io.out(renderProbeReport(report));
    return report.stoppedBy === undefined ? ExitCode.Ok : ExitCode.Failure;
  },
};
