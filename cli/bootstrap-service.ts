/**
 * Onboards one credential: a bunq API context from an API key (key pair, installation,
 * device-server, session), the CredentialPasswordIp it governs, the secret and the config item.
 *
 * Re-running is safe: when the secret already holds a context for the same key and environment, it
 * is reused (no second installation or device registration, which bunq never needs and rate-limits
 * hard); the config item keeps the operator's policy fields unless new ones are given; and a
 * credential name is never silently re-pointed at another bunq user.
 */
import { BunqClient, createContext, type CallOptions } from '../lambdas/bunq';
import type { BunqLogger } from '../lambdas/bunq/logger';
import type { BunqContext, BunqEnvironment, CredentialPasswordIp } from '../lambdas/bunq/types';
import type { DesiredStore } from '../lambdas/aws/desired-store';
import { assertCredentialName } from '../lambdas/aws/reconcile-request';
import { validateIpv4, type Mode } from '../lambdas/core';
import type { Clock } from '../lambdas/shared/clock';
import type { ConfigPolicy, DesiredWriter } from './adapters/desired-writer';
import type { ContextSecrets } from './adapters/secret-writer';
import { CliError, ExitCode } from './errors';

export interface BootstrapDeps {
  secrets: ContextSecrets;
  desired: DesiredStore;
  writer: Pick<DesiredWriter, 'putConfig' | 'putIp'>;
  /** Picks one of several credentials (asks the operator) or throws. */
  chooseCredential(choices: readonly CredentialPasswordIp[], deviceDescription: string): Promise<number>;
  clock: Clock;
  logger: BunqLogger;
  bunqOptions?: Omit<CallOptions, 'clock' | 'logger'>;
}

export interface BootstrapOptions {
  credential: string;
  apiKey: string;
  environment: BunqEnvironment;
  baseUrl?: string;
  secretPrefix: string;
  secretName?: string;
  /** IPs to bind at device registration; empty = bunq binds the calling IP. Never `*`. */
  permittedIps: string[];
  /** Adds `*` at device registration: any IP may call. Only on explicit request. */
  allowAllIps: boolean;
  deviceDescription?: string;
  credentialPasswordIpId?: number;
  policy: ConfigPolicy;
  /** Re-point an existing config at another bunq user. */
  force: boolean;
}

export interface BootstrapResult {
  credential: string;
  environment: BunqEnvironment;
  userId: number;
  credentialPasswordIpId: number;
  secretName: string;
  /** `unchanged`: the stored context was reused as it was. */
  secretOutcome: 'created' | 'updated' | 'unchanged';
  /** true: an existing installation was reused; false: a new installation and device were registered. */
  reusedContext: boolean;
  config: 'created' | 'updated';
  /**
   * Protected IPs this run also declared desired (they had no `ip#` item): a protected IP that is not
   * desired would show as drift on every run and keep the guard alarm firing.
   */
  declaredProtected: string[];
  deviceServerId: number;
  /** The credential's whitelist as bunq holds it now. */
  entries: Array<{ id: number; ip: string; status: string }>;
}

/** New configs start by only reporting: the operator switches to additive or enforce deliberately. */
export const BOOTSTRAP_DEFAULT_POLICY: Required<ConfigPolicy> = { mode: 'observe' satisfies Mode, maxDeactivationsPerRun: 5, protectedIps: [] };

export function validateBootstrapOptions(o: BootstrapOptions): { secretName: string; deviceDescription: string } {
  try {
    assertCredentialName(o.credential);
  } catch (err) {
    throw new CliError((err as Error).message, ExitCode.Usage);
  }
  const key = o.apiKey.trim();
  if (key === '') throw new CliError('no API key given: pipe it on standard input or set BUNQ_API_KEY', ExitCode.Usage);
  if (/\s/.test(key)) throw new CliError('the API key contains white space; check what was pasted', ExitCode.Usage);
  if (o.environment === 'PRODUCTION' && key.startsWith('sandbox_')) {
    throw new CliError('this is a sandbox API key (it starts with "sandbox_"); use --environment sandbox', ExitCode.Usage);
  }
  if (o.environment === 'SANDBOX' && !key.startsWith('sandbox_') && o.baseUrl === undefined) {
    throw new CliError('sandbox API keys start with "sandbox_"; for a production key use --environment production', ExitCode.Usage);
  }
  for (const ip of o.permittedIps) {
    if (ip.trim() === '*') {
      throw new CliError('--permitted-ip "*" is refused: to let every IP call, say so with --allow-all-ips', ExitCode.Usage);
    }
    const checked = validateIpv4(ip);
    if (!checked.ok) throw new CliError(`--permitted-ip ${JSON.stringify(ip)}: ${checked.reason}`, ExitCode.Usage);
  }
  for (const ip of o.policy.protectedIps ?? []) {
    const checked = validateIpv4(ip);
    if (!checked.ok) throw new CliError(`--protected-ip ${JSON.stringify(ip)}: ${checked.reason}`, ExitCode.Usage);
  }
  const secretName = o.secretName ?? `${o.secretPrefix}${o.credential}`;
  if (!secretName.startsWith(o.secretPrefix) || secretName === o.secretPrefix) {
    throw new CliError(
      `secret name ${JSON.stringify(secretName)} must start with the prefix ${JSON.stringify(o.secretPrefix)} (the reconciler may only read secrets under it)`,
      ExitCode.Usage,
    );
  }
  return { secretName, deviceDescription: o.deviceDescription ?? `bunq-ip-reconciler ${o.credential}` };
}

function sameKey(existing: BunqContext, o: BootstrapOptions): boolean {
  return existing.apiKey === o.apiKey.trim() && existing.environment === o.environment && (existing.baseUrl ?? undefined) === o.baseUrl;
}

export async function bootstrapCredential(deps: BootstrapDeps, o: BootstrapOptions): Promise<BootstrapResult> {
  const { secretName, deviceDescription } = validateBootstrapOptions(o);
  const apiKey = o.apiKey.trim();

  // The config's user is known now, but the key's user only after registering it at bunq (a new
  // key has no context yet): a re-point is refused after that, before anything is stored, and the
  // refusal names the device-server just registered so the operator can remove it.
  const state = await deps.desired.readCredential(o.credential);
  const existingUserId = state.configItem?.userId;

  const existing = await deps.secrets.read(secretName);
  const reusedContext = existing !== null && sameKey(existing, o);
  const context: BunqContext = reusedContext
    ? existing
    : await createContext({
        ...deps.bunqOptions,
        clock: deps.clock,
        logger: deps.logger,
        apiKey,
        environment: o.environment,
        ...(o.baseUrl !== undefined ? { baseUrl: o.baseUrl } : {}),
        ...(o.permittedIps.length > 0 || o.allowAllIps
          ? { permittedIps: [...o.permittedIps.map((ip) => ip.trim()), ...(o.allowAllIps ? ['*'] : [])] }
          : {}),
        deviceDescription,
      });

  if (typeof existingUserId === 'number' && existingUserId !== context.userId && !o.force) {
    const registered = reusedContext
      ? ''
      : ` This run registered device-server ${context.deviceServerId} ("${deviceDescription}") for the key at bunq and stored nothing; ` +
        'remove that device in the bunq app if you do not re-run with --force or another name.';
    throw new CliError(
      `credential ${o.credential} is configured for bunq user ${existingUserId}, but this API key belongs to user ${context.userId}; ` +
        `use another credential name, or --force to re-point it.${registered}`,
    );
  }

  // A new context is stored before anything else can go wrong (several credentials to choose from,
  // a typo in --credential-id): a re-run then reuses this installation instead of registering another.
  let secretOutcome: BootstrapResult['secretOutcome'] = reusedContext ? 'unchanged' : await deps.secrets.write(secretName, context);
  const client = new BunqClient({ ...deps.bunqOptions, clock: deps.clock, logger: deps.logger, context });
  const credentials = await client.listCredentials();
  const credentialPasswordIpId = await pickCredential(deps, credentials, o.credentialPasswordIpId, deviceDescription);
  const entries = await client.listIps(credentialPasswordIpId);
  if (client.context !== context) {
    // The client opened a session: keep it, so the reconciler does not need to open another.
    const written = await deps.secrets.write(secretName, client.context);
    if (secretOutcome === 'unchanged') secretOutcome = written;
  }
  const config = await deps.writer.putConfig(
    o.credential,
    { userId: context.userId, credentialPasswordIpId, secretName },
    o.policy,
    BOOTSTRAP_DEFAULT_POLICY,
    new Date(deps.clock.now()).toISOString(),
  );
  const alreadyDesired = new Set(state.desired.map((d) => (typeof d.ip === 'string' ? d.ip.trim() : d.ip)));
  const declaredProtected: string[] = [];
  for (const ip of (o.policy.protectedIps ?? []).map((p) => p.trim())) {
    if (alreadyDesired.has(ip) || declaredProtected.includes(ip)) continue;
    await deps.writer.putIp(
      o.credential,
      { ip, note: 'protected: the reconciler\'s own egress IP (declared by bootstrap)' },
      new Date(deps.clock.now()).toISOString(),
    );
    declaredProtected.push(ip);
  }
  return {
    credential: o.credential,
    environment: o.environment,
    userId: context.userId,
    credentialPasswordIpId,
    secretName,
    secretOutcome,
    reusedContext,
    config,
    declaredProtected,
    deviceServerId: context.deviceServerId,
    entries: entries.map((e) => ({ id: e.id, ip: e.ip, status: e.status })),
  };
}

async function pickCredential(
  deps: BootstrapDeps,
  credentials: readonly CredentialPasswordIp[],
  wanted: number | undefined,
  deviceDescription: string,
): Promise<number> {
  if (wanted !== undefined) {
    if (!credentials.some((c) => c.id === wanted)) {
      throw new CliError(
        `bunq user has no CredentialPasswordIp ${wanted}; it has ${credentials.map((c) => c.id).join(', ') || 'none'}`,
      );
    }
    return wanted;
  }
  if (credentials.length === 0) throw new CliError('bunq lists no CredentialPasswordIp for this API key\'s user');
  const only = credentials[0];
  if (credentials.length === 1 && only !== undefined) return only.id;
  return deps.chooseCredential(credentials, deviceDescription);
}
