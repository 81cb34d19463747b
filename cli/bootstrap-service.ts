/**
 * Onboards one credential: a bunq API context from an API key (key pair, installation,
 * device-server, session), the CredentialPasswordIp it governs, the secret and the config item.
 *
 * Re-running is safe: when the secret already holds a context for the same key and environment, it
 * is reused (no second installation or device registration, which bunq never needs and rate-limits
 * hard); the config item keeps the operator's policy fields unless new ones are given; and a
 * credential name is never silently re-pointed at another bunq user.
 *
 * Lock-out by construction (issue 10): the IPs bound at device registration (`--permitted-ip`, or
 * the IP this machine calls from) are declared desired and protected unless the operator opts out;
 * `adopt` declares every IP ACTIVE at bunq now, so an existing credential onboarded in enforce mode
 * changes nothing. One owner per bunq credential: the owner record is claimed in the same
 * transaction that writes the config (lambdas/aws/credential-owner.ts); a second name is refused
 * and `force` moves ownership, retiring the old config.
 */
import { BunqClient, createContext, type CallOptions } from '../lambdas/bunq';
import type { Logger } from '../lambdas/shared/logger';
import type { BunqContext, BunqEnvironment, CredentialPasswordIp } from '../lambdas/bunq/types';
import { describeKey, type BunqCredentialKey, type CredentialOwners, type OwnerVerdict } from '../lambdas/aws/credential-owner';
import type { DesiredStore } from '../lambdas/aws/desired-store';
import { assertCredentialName } from '../lambdas/aws/reconcile-request';
import { normaliseDesired, validateIpv4, type DesiredItem, type Mode } from '../lambdas/core';
import type { Clock } from '../lambdas/shared/clock';
import type { ConfigPolicy, DesiredIpInput, DesiredWriter } from './adapters/desired-writer';
import { callerOrigin, type CallerIps } from './caller-ips';
import type { ContextSecrets } from './adapters/secret-writer';
import { CliError, ExitCode } from './errors';

export interface BootstrapDeps {
  secrets: ContextSecrets;
  desired: DesiredStore;
  writer: Pick<DesiredWriter, 'configUpdateItem' | 'ipPutItem'>;
  owners: Pick<CredentialOwners, 'verdict' | 'claimItem' | 'retireItem' | 'commit'>;
  /** Picks one of several credentials (asks the operator) or throws. */
  chooseCredential(choices: readonly CredentialPasswordIp[], deviceDescription: string): Promise<number>;
  clock: Clock;
  logger: Logger;
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
  /**
   * Re-point an existing config at another bunq user, and move ownership of a bunq credential that
   * another config owns to this one (that config is retired).
   */
  force: boolean;
  /** Declare and protect the IPs bound at registration (default true; --no-protect-bound-ips). */
  protectBoundIps?: boolean;
  /** Declare every IP ACTIVE at bunq now as desired. */
  adopt?: boolean;
  /** The IPs this machine calls bunq from: what bunq binds when no --permitted-ip is given. */
  caller?: CallerIps;
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
  /** The IPs bound at device registration by this run (or restated with --permitted-ip). */
  boundIps: string[];
  /** The config's protectedIps after this run. */
  protectedIps: string[];
  /** IPs declared desired by this run, each with the note written. */
  declared: Array<{ ip: string; note: string }>;
  /** ACTIVE IPs declared desired by --adopt (a subset of `declared`). */
  adopted: string[];
  /** Who owns the bunq credential now, and what this run changed about it. */
  /**
   * `previousOwner`: the config ownership came from; for a contested credential (no record, several
   * live configs) the first of `previousOwners`, which lists every config that was retired.
   */
  owner: { outcome: 'claimed' | 'already-owner' | 'took-over' | 'moved'; previousOwner?: string; previousOwners?: string[] };
  /** Things the operator should know (why IPs were declared, what could not be told). */
  notes: string[];
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
  const key: BunqCredentialKey = { environment: context.environment, userId: context.userId, credentialPasswordIpId };
  const verdict = await deps.owners.verdict(o.credential, key);
  const fresh = reusedContext ? undefined : { context, secretName };
  if (verdict.kind === 'claimed' && !o.force) throw twinRefusal(o, verdict.record.owner, key, fresh);
  if (verdict.kind === 'contested' && !o.force) throw contestedRefusal(o, verdict.rivals, key, fresh);
  if (verdict.kind === 'unreadable' && !o.force) throw unreadableOwnerRefusal(o, key, verdict.why, fresh);

  const today = new Date(deps.clock.now()).toISOString().slice(0, 10);
  const now = new Date(deps.clock.now()).toISOString();
  const notes: string[] = [];
  const boundIps = boundAtRegistration(o, reusedContext && state.configItem !== null, entries, notes);
  // Moving ownership (--force) must change nothing at bunq: the new config keeps what the old one
  // kept. Of a contested credential nobody knows which config last ran, so it keeps what any kept.
  const predecessors = verdict.kind === 'claimed' ? [verdict.record.owner] : verdict.kind === 'contested' ? verdict.rivals : [];
  const inherited = await Promise.all(predecessors.map((name) => deps.desired.readCredential(name)));
  for (const state of inherited) refuseInvalidInherited(o, state, deps.clock.now(), fresh);
  const protectBound = o.protectBoundIps ?? true;
  if (!protectBound && boundIps.length > 0) {
    notes.push(`bound IP(s) ${boundIps.join(', ')} are neither declared nor protected (--no-protect-bound-ips): a run in enforce mode may switch them off`);
  }
  const existingProtected = protectedOf(state.configItem);
  const basis = o.policy.protectedIps?.map((p) => p.trim()) ?? existingProtected;
  const protectedIps = unique([...basis, ...(protectBound ? boundIps : []), ...inherited.flatMap((i) => protectedOf(i.configItem))]);
  const policy: ConfigPolicy = { ...o.policy };
  if (o.policy.protectedIps !== undefined || !sameSet(protectedIps, existingProtected)) policy.protectedIps = protectedIps;
  else delete policy.protectedIps;

  const alreadyDesired = new Set(state.desired.map((d) => (typeof d.ip === 'string' ? d.ip.trim() : d.ip)));
  const declared: Array<DesiredIpInput & { note: string }> = [];
  const declare = (ip: string, note: string): void => {
    if (alreadyDesired.has(ip) || declared.some((d) => d.ip === ip)) return;
    declared.push({ ip, note });
  };
  if (protectBound) {
    for (const ip of boundIps) {
      declare(ip, `bound at device registration by bootstrap ${today}: this API key calls bunq from it; protected so no run switches it off`);
    }
  }
  for (const predecessor of inherited) {
    const from = predecessor.credential;
    // Every item is valid here (refuseInvalidInherited), expired ones included: copied as they are.
    for (const item of predecessor.desired) {
      const checked = validateIpv4(item.ip);
      if (!checked.ok) continue;
      const expiresAt = typeof item.expiresAt === 'number' ? item.expiresAt : undefined;
      const note = `${item.note ? `${item.note}; ` : ''}taken over from "${from}" at bootstrap ${today}`;
      const earlier = declared.find((d) => d.ip === checked.ip);
      if (earlier !== undefined) {
        // Two predecessors (a contested credential) declare the IP: it stays as long as either keeps
        // it; no expiry beats any, else the later one.
        if (earlier.expiresAt !== undefined) {
          if (expiresAt === undefined) delete earlier.expiresAt;
          else earlier.expiresAt = Math.max(earlier.expiresAt, expiresAt);
        }
        if (!earlier.note.includes(`"${from}"`)) earlier.note = `${earlier.note}; also ${note}`;
        continue;
      }
      const before = declared.length;
      declare(checked.ip, note);
      const added = declared[before];
      if (added !== undefined && expiresAt !== undefined) added.expiresAt = expiresAt;
    }
    notes.push(`took over the desired and protected IPs of "${from}"`);
  }
  for (const ip of protectedIps) declare(ip, 'protected: the reconciler\'s own egress IP (declared by bootstrap)');
  const adopted: string[] = [];
  if (o.adopt === true) {
    for (const e of entries) {
      if (e.status !== 'ACTIVE' || e.ip === '*' || !validateIpv4(e.ip).ok) continue;
      const before = declared.length;
      declare(e.ip, `adopted at bootstrap ${today}`);
      if (declared.length > before) adopted.push(e.ip);
    }
  }
  if (declared.some((d) => boundIps.includes(d.ip))) {
    notes.push(`declared desired and protected: ${boundIps.join(', ')} (bound at device registration: the IP this key calls bunq from; opt out with --no-protect-bound-ips)`);
  }
  if (adopted.length > 0) notes.push(`adopted (declared desired as ACTIVE at bunq now): ${adopted.join(', ')}`);

  // Owner record, config, retirement of the previous owner and the declared IPs in one transaction:
  // two concurrent bootstraps cannot both own the credential, and no run ever sees the new config
  // without the IPs it must keep.
  const items = [
    deps.owners.claimItem(o.credential, key, expectedOwner(verdict), 'bootstrap', now),
    deps.writer.configUpdateItem(o.credential, { userId: context.userId, credentialPasswordIpId, secretName }, policy, BOOTSTRAP_DEFAULT_POLICY, now),
    ...predecessors.map((name) => deps.owners.retireItem(name, o.credential, key, now)),
    ...declared.map((d) => deps.writer.ipPutItem(o.credential, d, now)),
  ];
  if (items.length > MAX_BOOTSTRAP_ITEMS) {
    throw new CliError(
      `bootstrap would write ${items.length} items in one transaction (at most ${MAX_BOOTSTRAP_ITEMS}): declare the IPs first with bunq-ip desired import, then re-run`,
    );
  }
  if (!(await deps.owners.commit(items))) {
    const now2 = await deps.owners.verdict(o.credential, key);
    if (now2.kind !== 'claimed' && now2.kind !== 'stale' && now2.kind !== 'unreadable' && predecessors.length > 0) {
      // Nobody claimed: a config this bootstrap was to retire changed (re-pointed, retired, deleted).
      throw new CliError(
        `${describeKey(key)}: ${predecessors.map((r) => `"${r}"`).join(', ')} changed while this bootstrap ran, so none was retired and nothing was written. ` +
          'Check those configs, then re-run.',
      );
    }
    const winner =
      now2.kind === 'claimed' || now2.kind === 'stale'
        ? now2.record.owner
        : now2.kind === 'unreadable'
          ? '(an unreadable owner record)'
          : 'another bootstrap';
    throw new CliError(
      `${describeKey(key)} was claimed by "${winner}" while this bootstrap ran; nothing was written to the config. ` +
        `Use "${winner}", or re-run with --force to move ownership here.`,
    );
  }
  if (verdict.kind === 'unreadable') notes.push(`replaced the unreadable owner record of ${describeKey(key)} (${verdict.why}) by --force`);
  if (predecessors.length > 0) {
    const names = predecessors.map((r) => `"${r}"`).join(', ');
    notes.push(`ownership moved from ${names}, ${predecessors.length === 1 ? 'which is' : 'which are'} retired (the config stays, marked retiredAt / retiredInFavourOf; it is no longer reconciled)`);
  }
  const owner: BootstrapResult['owner'] =
    verdict.kind === 'unclaimed'
      ? { outcome: 'claimed' }
      : verdict.kind === 'ours'
        ? { outcome: 'already-owner' }
        : verdict.kind === 'unreadable'
          ? { outcome: 'took-over' }
          : verdict.kind === 'contested'
            ? { outcome: 'moved', previousOwner: verdict.rivals[0], previousOwners: [...verdict.rivals] }
            : { outcome: verdict.kind === 'claimed' ? 'moved' : 'took-over', previousOwner: verdict.record.owner };
  return {
    credential: o.credential,
    environment: o.environment,
    userId: context.userId,
    credentialPasswordIpId,
    secretName,
    secretOutcome,
    reusedContext,
    config: state.configItem === null ? 'created' : 'updated',
    declaredProtected: declared.filter((d) => protectedIps.includes(d.ip)).map((d) => d.ip),
    boundIps,
    protectedIps,
    declared: declared.map((d) => ({ ip: d.ip, note: d.note })),
    adopted,
    owner,
    notes,
    deviceServerId: context.deviceServerId,
    entries: entries.map((e) => ({ id: e.id, ip: e.ip, status: e.status })),
  };
}

/** DynamoDB's limit on items in one transaction. */
const MAX_BOOTSTRAP_ITEMS = 100;

function expectedOwner(verdict: OwnerVerdict): Parameters<CredentialOwners['claimItem']>[2] {
  if (verdict.kind === 'unclaimed') return null;
  return verdict.kind === 'unreadable' ? 'unreadable' : verdict.record;
}

/** Other live configs govern the credential and no owner record says which: bootstrap does not pick one by itself. */
function contestedRefusal(o: BootstrapOptions, rivals: readonly string[], key: BunqCredentialKey, fresh?: { context: BunqContext; secretName: string }): CliError {
  const names = rivals.map((r) => `"${r}"`).join(', ');
  return new CliError(
    `${describeKey(key)} is also governed by live config(s) ${names}, and no owner record says which config reconciles it ` +
      `(it was deleted, or never written): one config per bunq credential. Use one of them, or re-run with --force to make "${o.credential}" ` +
      `the owner, keep every IP those configs desire or protect, and retire them.${storedNothingNote(fresh)}`,
  );
}

function storedNothingNote(fresh: { context: BunqContext; secretName: string } | undefined): string {
  return fresh === undefined
    ? ''
    : ` This run registered device-server ${fresh.context.deviceServerId} and stored its context in secret ${fresh.secretName}; ` +
      'delete both if you do not re-run.';
}

function unreadableOwnerRefusal(o: BootstrapOptions, key: BunqCredentialKey, why: string, fresh?: { context: BunqContext; secretName: string }): CliError {
  return new CliError(
    `the owner record of ${describeKey(key)} cannot be read (${why}; edited by hand?): it may name another config of this bunq credential, ` +
      `so nothing was written. Check the configs that name bunq user ${key.userId}, then re-run with --force to make "${o.credential}" the owner.` +
      storedNothingNote(fresh),
  );
}

/**
 * `--force` refuses to move ownership while the old config has invalid desired items: such an item
 * freezes deactivations there (it may mean an IP that must stay), and the new config could not carry
 * that meaning over. The operator fixes or deletes the items in the old config, then re-runs.
 */
function refuseInvalidInherited(
  o: BootstrapOptions,
  inherited: { credential: string; desired: readonly DesiredItem[] },
  now: number,
  fresh?: { context: BunqContext; secretName: string },
): void {
  const invalid = normaliseDesired(inherited.desired, now).invalid;
  if (invalid.length === 0) return;
  const listed = invalid.map((i) => `${i.entry} (${i.value}): ${i.reason}`).join('; ');
  throw new CliError(
    `not moving ownership from "${inherited.credential}" to "${o.credential}": "${inherited.credential}" has ${invalid.length} invalid desired item(s), ` +
      `which freeze its deactivations and cannot be carried over: ${listed}. Fix or delete them (bunq-ip desired list ${inherited.credential}), then re-run with --force.` +
      storedNothingNote(fresh),
  );
}

function twinRefusal(o: BootstrapOptions, owner: string, key: BunqCredentialKey, fresh?: { context: BunqContext; secretName: string }): CliError {
  const stored = fresh === undefined
    ? ''
    : ` This run registered device-server ${fresh.context.deviceServerId} and stored its context in secret ${fresh.secretName}; ` +
      'delete both if you do not re-run with --force.';
  return new CliError(
    `${describeKey(key)} is already reconciled by credential "${owner}": one config per bunq credential ` +
      `(two would undo each other's protected IPs and can together switch off every IP). Use "${owner}" ` +
      `(bunq-ip bootstrap ${owner} …), or re-run with --force to move ownership to "${o.credential}" and retire "${owner}".${stored}`,
  );
}

/**
 * What bunq bound at device registration, judged by bunq's own list right after it: bunq binds the
 * IP it saw, which a what-is-my-IP answer or `--caller-ip` may not be (a proxy, a VPN, a NAT with
 * several addresses), and bunq has just let this run read its whitelist, so its IP is ACTIVE there.
 *
 * - `--permitted-ip` given: those, plus any ACTIVE entry bunq shows this run called from (a caller
 *   IP that is ACTIVE but was not given; when the caller is not confirmed ACTIVE, every other ACTIVE
 *   entry), with a warning: protecting only the given IPs would let an enforce run switch off the IP
 *   the operator's machine actually uses.
 * - none given: the ACTIVE entry that is the caller's; else the only ACTIVE entry (with a note when
 *   the detected or given caller IP disagrees: bunq's is protected, the other ignored); else, with
 *   several ACTIVE entries and no caller among them, nothing (a note says so).
 * A re-run of a configured name registered nothing, so only restated --permitted-ip values count.
 * With `*` alone nothing concrete was bound.
 */
function boundAtRegistration(
  o: BootstrapOptions,
  rerun: boolean,
  entries: ReadonlyArray<{ ip: string; status: string }>,
  notes: string[],
): string[] {
  const given = unique(o.permittedIps.map((ip) => ip.trim()));
  // A re-run of a configured name registered nothing; a reused context for a name without a config
  // (a refused first attempt) did register, with the caller bound unless --permitted-ip said otherwise.
  if (rerun) return given;
  const active = unique(entries.filter((e) => e.status === 'ACTIVE' && e.ip !== '*' && validateIpv4(e.ip).ok).map((e) => e.ip));
  const callerIps = o.caller?.ips ?? [];
  const seen = callerIps.filter((ip) => active.includes(ip));
  const told = o.caller === undefined ? '' : ` (${callerOrigin(o.caller)})`;
  if (given.length > 0) {
    // bunq binds the given IPs; it has just let this run read, so the IP it saw is ACTIVE. When the
    // run cannot confirm its own IP there, every other ACTIVE entry may be it: all are kept.
    const confirmed = seen.length > 0;
    const extra = (confirmed ? seen : active).filter((ip) => !given.includes(ip));
    if (extra.length > 0) {
      notes.push(
        confirmed
          ? `warning: this run calls bunq from ${extra.join(', ')}${told}, which bunq lists ACTIVE but --permitted-ip did not name; ` +
              'it is protected as well, so no run switches off the IP this machine uses'
          : `warning: bunq lists ${extra.join(', ')} ACTIVE besides --permitted-ip, and this run could not confirm which IP it calls from${told}; ` +
              'protected as well, so no run switches off the IP this machine may use (remove from protectedIps what you do not need)',
      );
    }
    return [...given, ...extra];
  }
  if (o.allowAllIps) return [];
  if (seen.length > 0) return seen;
  const only = active.length === 1 ? active[0] : undefined;
  if (only !== undefined) {
    if (callerIps.length > 0) {
      notes.push(
        `warning: this machine's IP was given as ${callerIps.join(', ')}${told}, but bunq bound ${only} (the credential's only ACTIVE entry): ` +
          `${only} is protected, ${callerIps.join(', ')} is not; pass --caller-ip ${only} to later local runs, or set BUNQ_IP_CALLER_IPS`,
      );
    } else {
      notes.push(`the bound IP ${only} is the credential's only ACTIVE entry (this machine's IP could not be told${told})`);
    }
    return [only];
  }
  notes.push(
    `could not tell which IP bunq bound at registration${told}: bunq lists ${active.length === 0 ? 'no' : active.length} ACTIVE entr${active.length === 1 ? 'y' : 'ies'}` +
      `${active.length > 0 ? ` (${active.join(', ')})` : ''} and none is this machine's; ` +
      'declare it with bunq-ip desired add and --protected-ip, or re-run with --permitted-ip (or --adopt to keep every ACTIVE IP)',
  );
  return [];
}

function protectedOf(configItem: Record<string, unknown> | null): string[] {
  const raw = configItem?.protectedIps;
  const list = Array.isArray(raw) ? raw : raw instanceof Set ? [...(raw as Set<unknown>)] : [];
  return list.filter((ip): ip is string => typeof ip === 'string').map((ip) => ip.trim());
}

function unique(ips: readonly string[]): string[] {
  return [...new Set(ips)];
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((ip) => b.includes(ip));
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
