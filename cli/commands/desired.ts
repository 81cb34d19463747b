/** `bunq-ip desired list|add|remove|import`: validated edits of the DesiredIps table. */
import { readFile } from 'node:fs/promises';
import { retirementOf } from '../../lambdas/aws/credential-owner';
import { validateIpv4 } from '../../lambdas/core';
import { ipEntry, MAX_TRANSACTION_ITEMS } from '../adapters/desired-writer';
import { flag, str, type CommandDef } from '../args';
import { desiredStore, desiredWriter, printJson, type CommandContext } from '../context';
import { CliError, ExitCode } from '../errors';
import { expiresAtFrom } from '../expiry';
import { desiredView, formatExpiry, renderDesired } from '../format/desired';
import { parseImportFile } from '../import-file';

/** `adding`: an addition to a retired config would never reach bunq, so it is refused; removals clean up. */
async function requireConfigured(ctx: CommandContext, credential: string, adding: boolean): Promise<Set<string>> {
  const state = await desiredStore(ctx).readCredential(credential);
  if (state.configItem === null) {
    throw new CliError(
      `credential ${JSON.stringify(credential)} has no config item in ${ctx.settings.desiredTable ?? 'DesiredIps'}: ` +
        'onboard it with `bunq-ip bootstrap` first (a misspelt name would otherwise create an unreconciled credential)',
    );
  }
  const retired = retirementOf(state.configItem);
  if (adding && retired !== null) {
    throw new CliError(
      `credential ${JSON.stringify(credential)} was retired in favour of "${retired.retiredInFavourOf}" at ${retired.retiredAt} ` +
        `and is not reconciled: edit "${retired.retiredInFavourOf}" instead`,
    );
  }
  return new Set(state.desired.map((d) => d.entry));
}

function validIp(raw: string): string {
  const checked = validateIpv4(raw);
  if (!checked.ok) throw new CliError(`refused ${JSON.stringify(raw)}: ${checked.reason}`, ExitCode.Usage);
  return checked.ip;
}

const expiryOptions = {
  note: { type: 'string', valueName: 'TEXT', description: 'why this IP is allowed (shown in list and status)' },
  for: { type: 'string', valueName: 'DURATION', description: 'temporary access, e.g. 8h, 90m, 2d (the entry expires)' },
  until: { type: 'string', valueName: 'TIME', description: 'temporary access until an ISO 8601 time with zone, e.g. 2026-03-01T18:00Z' },
} as const;

export const desiredList: CommandDef<CommandContext> = {
  path: ['desired', 'list'],
  summary: 'show the desired IPs of a credential and how the reconciler judges each',
  positionals: [{ name: 'credential' }],
  options: {},
  async run(ctx, { positionals }) {
    const credential = positionals[0] ?? '';
    const state = await desiredStore(ctx).readCredential(credential);
    const now = ctx.clock.now();
    const view = desiredView(state, now);
    if (ctx.json) printJson(ctx, view);
    else ctx.io.out(renderDesired(view, now, ctx.style));
    return ExitCode.Ok;
  },
};

export const desiredAdd: CommandDef<CommandContext> = {
  path: ['desired', 'add'],
  summary: 'declare an IP that must be ACTIVE (optionally temporary)',
  positionals: [{ name: 'credential' }, { name: 'ip' }],
  options: expiryOptions,
  details: 'The IP must be a plain dotted-quad IPv4 address: no CIDR, no IPv6, no "*", no leading zeros.\n' +
    'Re-adding an IP replaces its note and expiry.',
  async run(ctx, { positionals, values }) {
    const [credential = '', raw = ''] = positionals;
    const ip = validIp(raw);
    const now = ctx.clock.now();
    const expiresAt = expiresAtFrom({ for: str(values, 'for'), until: str(values, 'until') }, now);
    await requireConfigured(ctx, credential, true);
    const note = str(values, 'note')?.trim();
    const outcome = await desiredWriter(ctx).putIp(
      credential,
      { ip, ...(note ? { note } : {}), ...(expiresAt !== undefined ? { expiresAt } : {}) },
      new Date(now).toISOString(),
    );
    if (ctx.json) printJson(ctx, { credential, ip, outcome, note: note ?? null, expiresAt: expiresAt ?? null });
    else {
      const expiry = expiresAt !== undefined ? `, ${formatExpiry(expiresAt, now)}` : '';
      ctx.io.out(`${outcome === 'added' ? ctx.style.green('+ added') : ctx.style.cyan('~ updated')} ${ip} for "${credential}"${expiry}`);
      ctx.io.out(ctx.style.dim(`The stream trigger reconciles within seconds; preview with: bunq-ip plan ${credential}`));
    }
    return ExitCode.Ok;
  },
};

export const desiredRemove: CommandDef<CommandContext> = {
  path: ['desired', 'remove'],
  summary: 'stop declaring an IP (the reconciler then sets it INACTIVE, guards permitting)',
  positionals: [{ name: 'credential' }, { name: 'ip' }],
  options: {},
  details: 'An entry that is not a valid IP (typed in the console) is removed by its exact text.',
  async run(ctx, { positionals }) {
    const [credential = '', raw = ''] = positionals;
    const entries = await requireConfigured(ctx, credential, false);
    const checked = validateIpv4(raw);
    // Invalid items typed in the console are removable by their exact text: that is how they get fixed.
    const entry = checked.ok && entries.has(ipEntry(checked.ip)) ? ipEntry(checked.ip) : ipEntry(raw);
    const removed = await desiredWriter(ctx).removeEntry(credential, entry);
    if (!removed) {
      throw new CliError(
        `"${credential}" has no desired entry ${JSON.stringify(raw)}${checked.ok ? '' : ` (and it is not a valid IP: ${checked.reason})`}`,
      );
    }
    if (ctx.json) printJson(ctx, { credential, entry, outcome: 'removed' });
    else ctx.io.out(`${ctx.style.red('- removed')} ${entry.slice(3)} from "${credential}"`);
    return ExitCode.Ok;
  },
};

export const desiredImport: CommandDef<CommandContext> = {
  path: ['desired', 'import'],
  summary: 'add (or with --replace: set) the desired IPs from a file, all or nothing',
  positionals: [{ name: 'credential' }, { name: 'file' }],
  options: {
    replace: { type: 'boolean', description: 'also remove desired entries that the file does not list' },
  },
  details:
    'FILE is a text file with one "IP [note…]" per line (# starts a comment), or a JSON array of IPs or\n' +
    '{"ip", "note", "for", "until"} objects; "-" reads standard input. Every line is validated first; one\n' +
    `bad line refuses the whole file. The write is one DynamoDB transaction (at most ${MAX_TRANSACTION_ITEMS} changes).`,
  async run(ctx, { positionals, values }) {
    const [credential = '', file = ''] = positionals;
    let text: string;
    try {
      text = file === '-' ? await ctx.io.readStdin() : await readFile(file, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const now = ctx.clock.now();
    const inputs = parseImportFile(text, now);
    const existing = await requireConfigured(ctx, credential, true);
    const listed = new Set(inputs.map((i) => ipEntry(i.ip)));
    const deletions = flag(values, 'replace') ? [...existing].filter((e) => !listed.has(e)).sort() : [];
    const added = inputs.filter((i) => !existing.has(ipEntry(i.ip))).length;
    if (inputs.length + deletions.length > MAX_TRANSACTION_ITEMS) {
      throw new CliError(
        `import refused: ${inputs.length + deletions.length} changes exceed the ${MAX_TRANSACTION_ITEMS} one transaction can hold; split the file`,
      );
    }
    await desiredWriter(ctx).importAll(credential, inputs, deletions, new Date(now).toISOString());
    const summary = { credential, added, updated: inputs.length - added, removed: deletions.length };
    if (ctx.json) printJson(ctx, { ...summary, removedEntries: deletions });
    else {
      ctx.io.out(
        `imported ${inputs.length} IP${inputs.length === 1 ? '' : 's'} into "${credential}": ${summary.added} added, ${summary.updated} updated, ${summary.removed} removed`,
      );
    }
    return ExitCode.Ok;
  },
};
