/**
 * bunq-ip: the operator CLI. Dispatches to one module per command, turns every failure into one
 * clear line on stderr (details with --verbose) and a non-zero exit code.
 */
import { secretRedactor } from '../lambdas/shared/redact';
import { isBunqError } from '../lambdas/bunq/errors';
import { systemClock, type Clock } from '../lambdas/shared/clock';
import { cliAwsClients } from './adapters/aws';
import {
  commandHelp,
  findCommand,
  overviewHelp,
  parseCommandLine,
  refuseSecretFlags,
  str,
  type CommandDef,
} from './args';
import { applyCommand } from './commands/apply';
import { bootstrapCommand } from './commands/bootstrap';
import { desiredAdd, desiredImport, desiredList, desiredRemove } from './commands/desired';
import { doctorCommand } from './commands/doctor';
import { localUpCommand } from './commands/local';
import { planCommand } from './commands/plan';
import { probeCommand } from './commands/probe';
import { historyCommand, statusCommand } from './commands/status';
import { cliLogger, type CommandContext } from './context';
import { CliError, ExitCode } from './errors';
import { processIo, type CliIo } from './io';
import { resolveSettings } from './settings';
import { colourEnabled, createStyle } from './style';

export const COMMANDS: readonly CommandDef<CommandContext>[] = [
  bootstrapCommand,
  desiredList,
  desiredAdd,
  desiredRemove,
  desiredImport,
  planCommand,
  applyCommand,
  statusCommand,
  historyCommand,
  doctorCommand,
  localUpCommand,
  probeCommand,
];

const GROUPS = new Set(COMMANDS.filter((c) => c.path.length > 1).map((c) => c.path[0]));

function oneLine(text: string): string {
  return secretRedactor.redactString(text).replace(/\s*\n\s*/g, ' ').trim();
}

/** The message an operator sees for an error, and the lines --verbose adds. */
export function describeError(err: unknown): { message: string; details: string[] } {
  if (err instanceof CliError) return { message: oneLine(err.message), details: [...err.details] };
  if (isBunqError(err)) {
    const details = [`kind: ${err.kind}`];
    if (err.status !== undefined) details.push(`HTTP status: ${err.status}`);
    if (err.responseId) details.push(`bunq response id (for bunq support): ${err.responseId}`);
    if (err.operation) details.push(`operation: ${err.operation}`);
    return { message: `bunq: ${oneLine(err.message)}`, details };
  }
  if (err instanceof Error && err.name === 'CredentialsProviderError') {
    return { message: 'no AWS credentials found: configure a profile or SSO (AWS_PROFILE), or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY', details: [oneLine(err.message)] };
  }
  if (err instanceof Error && err.name === 'ResourceNotFoundException' && !/secret/i.test(err.message)) {
    return {
      message: `AWS: ${oneLine(err.message)} (check the table names, DESIRED_TABLE_NAME / STATE_TABLE_NAME, and the region)`,
      details: err.stack ? [secretRedactor.redactString(err.stack)] : [],
    };
  }
  if (err instanceof Error) {
    const name = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
    return { message: oneLine(`${name}${err.message}`), details: err.stack ? [secretRedactor.redactString(err.stack)] : [] };
  }
  return { message: oneLine(String(err)), details: [] };
}

export async function main(argv: readonly string[], io: CliIo, clock: Clock = systemClock): Promise<number> {
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  try {
    refuseSecretFlags(argv);
    const first = argv[0];
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      io.out(overviewHelp(COMMANDS));
      return first === undefined ? ExitCode.Usage : ExitCode.Ok;
    }
    const found = findCommand(COMMANDS, argv);
    if (found === undefined) {
      if (GROUPS.has(first)) {
        const wantsHelp = argv.includes('--help') || argv.includes('-h');
        if (wantsHelp) {
          io.out(overviewHelp(COMMANDS, [first]));
          return ExitCode.Ok;
        }
        const sub = argv[1];
        throw new CliError(
          `${sub === undefined ? 'missing' : `unknown`} ${first} subcommand${sub === undefined ? '' : ` ${JSON.stringify(sub)}`} ` +
            `(one of: ${COMMANDS.filter((c) => c.path[0] === first).map((c) => c.path[1]).join(', ')})`,
          ExitCode.Usage,
        );
      }
      throw new CliError(`unknown command ${JSON.stringify(first)} (see: bunq-ip --help)`, ExitCode.Usage);
    }
    const { command, rest } = found;
    const parsed = parseCommandLine(command, rest);
    if (parsed.values.help === true) {
      io.out(commandHelp(command));
      return ExitCode.Ok;
    }
    const settings = resolveSettings(
      {
        'desired-table': str(parsed.values, 'desired-table'),
        'state-table': str(parsed.values, 'state-table'),
        'secret-prefix': str(parsed.values, 'secret-prefix'),
        'queue-url': str(parsed.values, 'queue-url'),
        region: str(parsed.values, 'region'),
        'endpoint-url': str(parsed.values, 'endpoint-url'),
        'base-url': str(parsed.values, 'base-url'),
      },
      io.env,
    );
    const ctx: CommandContext = {
      io,
      style: createStyle(colourEnabled(io.stdoutIsTTY, io.env)),
      json: parsed.values.json === true,
      verbose,
      settings,
      aws: cliAwsClients(settings),
      clock,
      logger: cliLogger(io, verbose),
    };
    return await command.run(ctx, parsed);
  } catch (err) {
    const { message, details } = describeError(err);
    const style = createStyle(colourEnabled(io.stdoutIsTTY, io.env));
    io.err(`${style.red('error:')} ${message}`);
    if (verbose) for (const d of details) io.err(d);
    else if (!(err instanceof CliError)) io.err('(run again with --verbose for details)');
    return err instanceof CliError ? err.exitCode : ExitCode.Failure;
  }
}

if (require.main === module) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  main(process.argv.slice(2), processIo()).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`error: ${String(err)}\n`);
      process.exitCode = ExitCode.Failure;
    },
  );
}
