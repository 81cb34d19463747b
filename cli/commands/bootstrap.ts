/**
 * `bunq-ip bootstrap <credential>`: onboard a bunq API key. The key comes from an environment
 * variable or standard input, never from the command line.
 */
import { secretRedactor } from '../../lambdas/shared/redact';
import type { Mode } from '../../lambdas/core';
import type { CredentialPasswordIp } from '../../lambdas/bunq/types';
import { SecretsManagerContextSecrets } from '../adapters/secret-writer';
import { flag, list, str, type CommandDef } from '../args';
import { credentialOwners, desiredStore, desiredWriter, printJson, type CommandContext } from '../context';
import { bootstrapCredential, type BootstrapOptions, type BootstrapResult } from '../bootstrap-service';
import { CliError, ExitCode } from '../errors';
import { DEFAULT_API_KEY_ENV } from '../settings';
import type { Style } from '../style';
import { CALLER_IP_OPTION, callerIpsFor } from '../caller-ips';

const MODES: readonly Mode[] = ['enforce', 'additive', 'observe'];

async function readApiKey(ctx: CommandContext, envName: string): Promise<string> {
  const fromEnv = ctx.io.env[envName];
  let key: string;
  if (fromEnv !== undefined && fromEnv.trim() !== '') key = fromEnv.trim();
  else if (ctx.io.stdinIsTTY) key = (await ctx.io.prompt('bunq API key (input hidden): ', { hidden: true })).trim();
  else key = (await ctx.io.readStdin()).trim();
  // From here on the key is blanked in anything the CLI prints, whatever library wrote the text.
  secretRedactor.register(key);
  return key;
}

function integerOption(raw: string | undefined, name: string, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new CliError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`, ExitCode.Usage);
  }
  return Number(raw);
}

function describeCredential(c: CredentialPasswordIp): string {
  const device = c.permittedDevice ? `${c.permittedDevice.description ?? '?'} @ ${c.permittedDevice.ip ?? '?'}` : 'no device yet';
  return `${c.id}  ${c.status}  ${device}`;
}

function chooser(ctx: CommandContext) {
  return async (choices: readonly CredentialPasswordIp[], deviceDescription: string): Promise<number> => {
    const listText = choices.map((c) => `  ${describeCredential(c)}${c.permittedDevice?.description === deviceDescription ? '  (this device)' : ''}`).join('\n');
    if (!ctx.io.stdinIsTTY) {
      throw new CliError(
        `this bunq user has ${choices.length} CredentialPasswordIps; choose one with --credential-id: ${choices.map((c) => c.id).join(', ')}`,
        ExitCode.Usage,
        [listText],
      );
    }
    ctx.io.err(`This bunq user has ${choices.length} API credentials (CredentialPasswordIp):\n${listText}`);
    const answer = (await ctx.io.prompt('Which id should this reconciler govern? ')).trim();
    const chosen = choices.find((c) => String(c.id) === answer);
    if (chosen === undefined) throw new CliError(`${JSON.stringify(answer)} is not one of the listed ids; nothing was written`);
    return chosen.id;
  };
}

export function renderBootstrap(r: BootstrapResult, style: Style): string {
  const lines = [
    style.bold(`Credential "${r.credential}" is onboarded (${r.environment.toLowerCase()}).`),
    `  bunq user ${r.userId}, CredentialPasswordIp ${r.credentialPasswordIpId}, device-server ${r.deviceServerId}`,
    `  API context: ${r.reusedContext ? 'existing installation reused' : 'new key pair, installation and device registration'}; secret ${r.secretName} ${r.secretOutcome}`,
    `  config item ${r.config}; ${ownerText(r)}`,
    `  protected IPs: ${r.protectedIps.length > 0 ? r.protectedIps.join(', ') : 'none'}`,
    ...(r.declared.length > 0 ? [`  declared desired: ${r.declared.map((d) => d.ip).join(', ')}`] : []),
    ...r.notes.map((n) => `  note: ${n}`),
    `  whitelist at bunq now: ${r.entries.length > 0 ? r.entries.map((e) => `${e.ip} ${e.status}`).join(', ') : 'empty'}`,
    '',
    'Next steps:',
    `  bunq-ip desired add ${r.credential} <ip> --note "why"   declare the IPs that must stay ACTIVE`,
    `  bunq-ip plan ${r.credential}                           preview; new configs start in mode "observe"`,
    '  then set mode to "additive" or "enforce" with `bunq-ip bootstrap … --mode` or in the console',
  ];
  return lines.join('\n');
}

function ownerText(r: BootstrapResult): string {
  switch (r.owner.outcome) {
    case 'claimed':
      return 'owns this bunq credential';
    case 'already-owner':
      return 'already owned this bunq credential';
    case 'took-over':
      return `owns this bunq credential (the stale claim of "${r.owner.previousOwner ?? '?'}" was taken over)`;
    case 'moved':
      return r.owner.previousOwners !== undefined
        ? `ownership moved here from ${r.owner.previousOwners.map((p) => `"${p}"`).join(', ')} (now retired)`
        : `ownership moved here from "${r.owner.previousOwner ?? '?'}" (now retired)`;
  }
}

export const bootstrapCommand: CommandDef<CommandContext> = {
  path: ['bootstrap'],
  summary: 'onboard a bunq API key: key pair, installation, device, session, secret and config item',
  positionals: [{ name: 'credential' }],
  options: {
    environment: { type: 'string', valueName: 'ENV', description: 'sandbox or production (required)' },
    'api-key-env': { type: 'string', valueName: 'NAME', description: `environment variable holding the API key (default ${DEFAULT_API_KEY_ENV}); else read from standard input` },
    'permitted-ip': { type: 'string', multiple: true, valueName: 'IP', description: 'IP to bind at device registration (default: the IP this runs from)' },
    'allow-all-ips': { type: 'boolean', description: 'also bind "*": any IP may use the key (needed when the reconciler has no fixed egress IP)' },
    'credential-id': { type: 'string', valueName: 'ID', description: 'the CredentialPasswordIp to govern, when the user has several' },
    'secret-name': { type: 'string', valueName: 'NAME', description: 'secret to write (default <prefix><credential>)' },
    'kms-key-id': { type: 'string', valueName: 'KEY', description: 'KMS key for a new secret (e.g. the stack output DataKeyArn)' },
    mode: { type: 'string', valueName: 'MODE', description: 'enforce, additive or observe (new configs: observe; re-runs keep the current one)' },
    'max-deactivations': { type: 'string', valueName: 'N', description: 'maxDeactivationsPerRun (new configs: 5)' },
    'protected-ip': { type: 'string', multiple: true, valueName: 'IP', description: 'never deactivate this IP, and declare it desired (e.g. the stack output EgressIp)' },
    description: { type: 'string', valueName: 'TEXT', description: 'device name shown in the bunq app' },
    'caller-ip': { ...CALLER_IP_OPTION, description: 'the public IPv4 this machine calls bunq from: what bunq binds without --permitted-ip (default: $BUNQ_IP_CALLER_IPS, else detected)' },
    'no-protect-bound-ips': {
      type: 'boolean',
      description: 'do not declare and protect the IPs bound at registration (only when this machine is not where the reconciler runs)',
    },
    adopt: { type: 'boolean', description: 'declare every IP ACTIVE at bunq now as desired, so enforce mode changes nothing you did not ask for' },
    force: {
      type: 'boolean',
      description: 're-point an existing name at another bunq user, or move ownership of a bunq credential another config owns (retires that config)',
    },
  },
  details:
    'Re-running is safe: an existing context for the same key is reused, and the config keeps its mode,\n' +
    'limits and protected IPs unless given again. A new API key for the same credential replaces the context.\n' +
    'The IPs bound at registration (--permitted-ip, else the IP this machine calls from) are declared\n' +
    'desired and protected, so no run switches off the address this key calls from. One config per bunq\n' +
    'credential: a second name for the same bunq user and CredentialPasswordIp is refused, naming the\n' +
    'first; --force moves ownership and retires the first config.',
  async run(ctx, { positionals, values }) {
    const credential = positionals[0] ?? '';
    const envRaw = str(values, 'environment')?.toLowerCase();
    if (envRaw !== 'sandbox' && envRaw !== 'production') {
      throw new CliError('--environment must be sandbox or production', ExitCode.Usage);
    }
    const modeRaw = str(values, 'mode');
    if (modeRaw !== undefined && !(MODES as readonly string[]).includes(modeRaw)) {
      throw new CliError(`--mode must be one of ${MODES.join(', ')}, got ${JSON.stringify(modeRaw)}`, ExitCode.Usage);
    }
    const credentialId = integerOption(str(values, 'credential-id'), 'credential-id', 1, Number.MAX_SAFE_INTEGER);
    const maxDeactivations = integerOption(str(values, 'max-deactivations'), 'max-deactivations', 0, 1000);
    const protectedIps = list(values, 'protected-ip');
    const secretName = str(values, 'secret-name');
    const description = str(values, 'description');
    const options: BootstrapOptions = {
      credential,
      apiKey: '',
      environment: envRaw === 'sandbox' ? 'SANDBOX' : 'PRODUCTION',
      ...(ctx.settings.bunqBaseUrl !== undefined ? { baseUrl: ctx.settings.bunqBaseUrl } : {}),
      secretPrefix: ctx.settings.secretPrefix,
      ...(secretName !== undefined ? { secretName } : {}),
      permittedIps: list(values, 'permitted-ip'),
      allowAllIps: flag(values, 'allow-all-ips'),
      ...(description !== undefined ? { deviceDescription: description } : {}),
      ...(credentialId !== undefined ? { credentialPasswordIpId: credentialId } : {}),
      policy: {
        ...(modeRaw !== undefined ? { mode: modeRaw as Mode } : {}),
        ...(maxDeactivations !== undefined ? { maxDeactivationsPerRun: maxDeactivations } : {}),
        ...(protectedIps.length > 0 ? { protectedIps } : {}),
      },
      force: flag(values, 'force'),
      protectBoundIps: !flag(values, 'no-protect-bound-ips'),
      adopt: flag(values, 'adopt'),
    };
    // Always asked: bunq's list is then checked against it, with or without --permitted-ip.
    options.caller = await callerIpsFor(ctx, values);
    options.apiKey = await readApiKey(ctx, str(values, 'api-key-env') ?? DEFAULT_API_KEY_ENV);
    const kmsKeyId = str(values, 'kms-key-id');
    const result = await bootstrapCredential(
      {
        secrets: new SecretsManagerContextSecrets(ctx.aws.secrets(), kmsKeyId !== undefined ? { kmsKeyId } : {}),
        desired: desiredStore(ctx),
        writer: desiredWriter(ctx),
        owners: credentialOwners(ctx),
        chooseCredential: chooser(ctx),
        clock: ctx.clock,
        logger: ctx.logger,
      },
      options,
    );
    if (ctx.json) printJson(ctx, result);
    else ctx.io.out(renderBootstrap(result, ctx.style));
    return ExitCode.Ok;
  },
};
