/**
 * Command-line grammar: `bunq-ip <command> [subcommand] <positionals> [--flags]`, parsed with
 * node:util parseArgs (strict: an unknown flag is an error, never ignored). Help text is generated
 * from the same definitions, so a flag cannot exist without being documented.
 */
import { parseArgs } from 'node:util';
import { usageError } from './errors';

export interface OptionDef {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  description: string;
  /** The value's name in help, e.g. DURATION. */
  valueName?: string;
  /** Advanced flags (emulator, tests) are accepted but not listed in help. */
  hidden?: boolean;
}

export interface PositionalDef {
  name: string;
  optional?: boolean;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface ParsedCommand {
  positionals: string[];
  values: OptionValues;
}

export interface CommandDef<Ctx> {
  /** e.g. ['desired', 'add']. */
  path: readonly string[];
  summary: string;
  positionals: readonly PositionalDef[];
  options: Readonly<Record<string, OptionDef>>;
  /** Extra help paragraphs. */
  details?: string;
  run(ctx: Ctx, input: ParsedCommand): Promise<number>;
}

/** Flags every command takes. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionDef>> = {
  help: { type: 'boolean', short: 'h', description: 'show help for this command' },
  json: { type: 'boolean', description: 'print machine-readable JSON instead of text' },
  verbose: { type: 'boolean', short: 'v', description: 'print details of errors and what is being done (to stderr)' },
  region: { type: 'string', valueName: 'REGION', description: 'AWS region (default: the SDK configuration, e.g. AWS_REGION)' },
  'endpoint-url': { type: 'string', valueName: 'URL', description: 'AWS endpoint override, e.g. moto (default: AWS_ENDPOINT_URL)' },
  'desired-table': { type: 'string', valueName: 'NAME', description: 'DesiredIps table (default: $DESIRED_TABLE_NAME)' },
  'state-table': { type: 'string', valueName: 'NAME', description: 'ReconcileState table (default: $STATE_TABLE_NAME)' },
  'secret-prefix': { type: 'string', valueName: 'PREFIX', description: 'secret name prefix (default: $SECRET_NAME_PREFIX or bunq-ip-reconciler/)' },
  'queue-url': { type: 'string', valueName: 'URL', description: 'reconcile FIFO queue (default: $RECONCILE_QUEUE_URL)', hidden: true },
  'base-url': { type: 'string', valueName: 'URL', description: 'bunq API base URL, e.g. the emulator (default: $BUNQ_BASE_URL)', hidden: true },
};

/** Flags that would put a secret into the process list or shell history. */
const SECRET_FLAGS = ['--api-key', '--apikey', '--key', '--secret'];

export function refuseSecretFlags(argv: readonly string[]): void {
  for (const arg of argv) {
    const name = arg.split('=', 1)[0] ?? arg;
    if (SECRET_FLAGS.includes(name.toLowerCase())) {
      throw usageError(
        `${name} is refused: an API key on the command line is visible in the process list and shell history`,
        'pipe it on standard input or set BUNQ_API_KEY',
      );
    }
  }
}

/** The longest command path that `argv` starts with, and the rest of argv. */
export function findCommand<C extends { path: readonly string[] }>(
  commands: readonly C[],
  argv: readonly string[],
): { command: C; rest: string[] } | undefined {
  let best: C | undefined;
  for (const c of commands) {
    if (c.path.every((p, i) => argv[i] === p) && (best === undefined || c.path.length > best.path.length)) best = c;
  }
  return best === undefined ? undefined : { command: best, rest: argv.slice(best.path.length) };
}

export function parseCommandLine<Ctx>(def: CommandDef<Ctx>, argv: readonly string[]): ParsedCommand {
  const options = { ...GLOBAL_OPTIONS, ...def.options };
  const config: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, o] of Object.entries(options)) {
    config[name] = { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: config, allowPositionals: true, strict: true });
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] ?? err.message : String(err);
    throw usageError(message.replace(/\. To specify a positional argument.*$/, ''), `see: bunq-ip ${def.path.join(' ')} --help`);
  }
  const values = parsed.values as OptionValues;
  if (values.help === true) return { positionals: parsed.positionals, values };
  const required = def.positionals.filter((p) => !p.optional).length;
  if (parsed.positionals.length < required) {
    const names = def.positionals.slice(parsed.positionals.length).filter((p) => !p.optional).map((p) => `<${p.name}>`);
    throw usageError(`missing ${names.join(' ')}`, `usage: ${usageLine(def)}`);
  }
  if (parsed.positionals.length > def.positionals.length) {
    throw usageError(
      `unexpected argument ${JSON.stringify(parsed.positionals[def.positionals.length])}`,
      `usage: ${usageLine(def)}`,
    );
  }
  return { positionals: parsed.positionals, values };
}

export function usageLine<Ctx>(def: CommandDef<Ctx>): string {
  const pos = def.positionals.map((p) => (p.optional ? `[${p.name}]` : `<${p.name}>`)).join(' ');
  return `bunq-ip ${def.path.join(' ')}${pos ? ` ${pos}` : ''} [options]`;
}

function optionLines(options: Readonly<Record<string, OptionDef>>): string[] {
  const rows = Object.entries(options)
    .filter(([, o]) => !o.hidden)
    .map(([name, o]) => {
      const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.valueName ?? 'VALUE'}` : ''}`;
      return [flag, o.description + (o.multiple ? ' (repeatable)' : '')] as const;
    });
  const width = Math.max(0, ...rows.map(([f]) => f.length));
  return rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`);
}

export function commandHelp<Ctx>(def: CommandDef<Ctx>): string {
  const lines = [`Usage: ${usageLine(def)}`, '', def.summary];
  if (def.details) lines.push('', def.details);
  if (Object.values(def.options).some((o) => !o.hidden)) lines.push('', 'Options:', ...optionLines(def.options));
  lines.push('', 'Common options:', ...optionLines(GLOBAL_OPTIONS));
  return lines.join('\n');
}

export function overviewHelp<Ctx>(commands: readonly CommandDef<Ctx>[], prefix: readonly string[] = []): string {
  const shown = commands.filter((c) => prefix.every((p, i) => c.path[i] === p));
  const width = Math.max(...shown.map((c) => c.path.join(' ').length));
  const lines = [
    prefix.length === 0
      ? 'bunq-ip: keep a bunq API credential\'s IP whitelist equal to the IPs declared in DynamoDB'
      : `bunq-ip ${prefix.join(' ')}: subcommands`,
    '',
    `Usage: bunq-ip ${prefix.length ? `${prefix.join(' ')} ` : ''}<command> [arguments] [options]`,
    '',
    'Commands:',
    ...shown.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'Run `bunq-ip <command> --help` for the options of a command.',
    'Exit codes: 0 ok, 1 failed, 2 drift found (plan), 64 wrong command line.',
  ];
  return lines.join('\n');
}

/** Typed access to parsed values. */
export function str(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

export function list(values: OptionValues, name: string): string[] {
  const v = values[name];
  if (Array.isArray(v)) return v;
  return typeof v === 'string' ? [v] : [];
}
