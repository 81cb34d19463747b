/**
 * `bunq-ip doctor`: the chain an operator worries about, judged from facts the command gathered
 * (config, secret, one bunq read, caller and egress IPs, the owner record, the last run). Pure: one
 * line per check, each problem with its fix. A check whose input is missing because an earlier link
 * broke is `skipped`, never guessed.
 */
import type { StatusRecord } from '../lambdas/aws/state-store';
import type { ActualEntry, CredentialConfig } from '../lambdas/core';
import { wildcardAdvice } from './format/wildcard';
import { plainStyle, type Style } from './style';

export type CheckStatus = 'ok' | 'warn' | 'problem' | 'skipped';

export type CheckId = 'config' | 'secret' | 'session' | 'caller-ip' | 'wildcard' | 'ownership' | 'egress-ip' | 'last-run';

export interface DoctorCheck {
  id: CheckId;
  status: CheckStatus;
  summary: string;
  /** What to do; present on every `problem` and `warn`. */
  fix?: string;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; kind: string; message: string };

export interface DoctorFacts {
  credential: string;
  config: Outcome<CredentialConfig>;
  /** Absent when the config could not be read. */
  secret?: Outcome<{ environment: string; userId: number; sessionExpiresAt: string | null }>;
  /** One list of the credential's entries; absent when config or secret failed. */
  bunq?: Outcome<{ entries: ActualEntry[]; sessionRenewed: boolean; sessionExpiresAt: string | null }>;
  callerIps: { ips: string[]; detail: string };
  /** The owner record's verdict; absent when config or secret failed. */
  ownership?: Outcome<{ kind: 'ours' | 'unclaimed' | 'stale' | 'claimed' | 'contested' | 'unreadable'; owner?: string; why?: string; rivals?: string[] }>;
  egressIps: { ips: string[]; source: 'flag' | 'env' | 'none' };
  desiredIps: string[];
  lastRun: Outcome<StatusRecord | null>;
}

const SESSION_KINDS = new Set(['session-expired', 'signature-invalid', 'signature-required', 'response-signature-invalid']);

function isActive(entries: readonly ActualEntry[], ip: string): boolean {
  return entries.some((e) => e.status === 'ACTIVE' && e.ip === ip);
}

function skipped(id: CheckId, why: string): DoctorCheck {
  return { id, status: 'skipped', summary: `not checked: ${why}` };
}

export function doctorChecks(f: DoctorFacts): DoctorCheck[] {
  const c = f.credential;
  const checks: DoctorCheck[] = [];
  const bootstrapFix = `re-run \`bunq-ip bootstrap ${c} --environment …\` with the API key (it keeps the config's policy)`;

  // config
  if (!f.config.ok) {
    checks.push({
      id: 'config',
      status: 'problem',
      summary: `config item: ${f.config.kind}: ${f.config.message}`,
      fix: f.config.kind === 'config-missing' ? `onboard it: \`bunq-ip bootstrap ${c} --environment …\` (\`bunq-ip status\` lists the configured names)` : 'correct the named fields of the config item in DesiredIps',
    });
  } else {
    const cfg = f.config.value;
    checks.push({ id: 'config', status: 'ok', summary: `config item: mode ${cfg.mode}, bunq user ${cfg.userId}, CredentialPasswordIp ${cfg.credentialPasswordIpId}, secret ${cfg.secretName}` });
  }
  const config = f.config.ok ? f.config.value : undefined;

  // secret
  if (f.secret === undefined) checks.push(skipped('secret', 'no valid config item'));
  else if (!f.secret.ok) checks.push({ id: 'secret', status: 'problem', summary: `secret: ${f.secret.kind}: ${f.secret.message}`, fix: bootstrapFix });
  else checks.push({ id: 'secret', status: 'ok', summary: `secret ${config?.secretName ?? ''}: readable, a ${f.secret.value.environment.toLowerCase()} context of bunq user ${f.secret.value.userId}` });

  // session, caller IP: both judged from the one bunq read
  const callers = f.callerIps.ips;
  const callerText = callers.length > 0 ? callers.join(', ') : 'an unknown IP';
  if (f.bunq === undefined) {
    const why = f.secret === undefined ? 'no valid config item' : 'the secret is not usable';
    checks.push(skipped('session', why), skipped('caller-ip', why));
  } else if (!f.bunq.ok) {
    const b = f.bunq;
    if (b.kind === 'credentials-rejected') {
      checks.push(
        skipped('session', 'bunq refused the call before a session could be used'),
        {
          id: 'caller-ip',
          status: 'problem',
          summary: `bunq refused the call from ${callerText} (${f.callerIps.detail}): that IP is not ACTIVE on the credential, or the API key was revoked`,
          fix: 'run doctor from an allowed machine (the bunq app shows the allowed IPs), or allow this IP in the bunq app; a revoked key needs a new key and bootstrap',
        },
      );
    } else if (SESSION_KINDS.has(b.kind)) {
      checks.push(
        { id: 'session', status: 'problem', summary: `session: could not be used or renewed: ${b.kind}: ${b.message}`, fix: bootstrapFix },
        skipped('caller-ip', 'no session'),
      );
    } else {
      checks.push(
        { id: 'session', status: 'problem', summary: `bunq could not be read: ${b.kind}: ${b.message}`, fix: 'retry in a minute; runbook: DLQ not empty lists these transient kinds' },
        skipped('caller-ip', 'bunq could not be read'),
      );
    }
  } else {
    const b = f.bunq.value;
    const until = b.sessionExpiresAt ?? 'unknown';
    checks.push({ id: 'session', status: 'ok', summary: b.sessionRenewed ? `session renewed now (the stored one had expired); valid until ${until}` : `session valid until ${until}` });
    if (callers.length === 0) {
      checks.push({
        id: 'caller-ip',
        status: 'warn',
        summary: `bunq answered, but this run cannot tell which IP it calls from (${f.callerIps.detail})`,
        fix: 'pass --caller-ip <your public IPv4> or set BUNQ_IP_CALLER_IPS',
      });
    } else {
      const inactive = callers.filter((ip) => !isActive(b.entries, ip));
      const wildcard = isActive(b.entries, '*');
      if (inactive.length === 0) checks.push({ id: 'caller-ip', status: 'ok', summary: `this run calls from ${callerText} (${f.callerIps.detail}), ACTIVE` });
      else {
        checks.push({
          id: 'caller-ip',
          status: wildcard ? 'warn' : 'problem',
          summary: `this run calls from ${inactive.join(', ')} (${f.callerIps.detail}), which is not ACTIVE${wildcard ? ': only the ACTIVE `*` lets it in' : ''}`,
          fix: `declare it if this machine must keep access: \`bunq-ip desired add ${c} ${inactive[0] ?? ''} --note "operator"\`, then \`bunq-ip apply ${c}\``,
        });
      }
    }
  }

  // wildcard
  if (f.bunq === undefined || !f.bunq.ok) checks.push(skipped('wildcard', 'bunq\'s entries were not read'));
  else {
    const advice = wildcardAdvice(f.bunq.value.entries, f.egressIps.ips, c);
    if (advice.state === 'closed') checks.push({ id: 'wildcard', status: 'ok', summary: '`*` is not ACTIVE: bunq filters this credential by IP' });
    else if (advice.state === 'egress-unknown') checks.push({ id: 'wildcard', status: 'warn', summary: '`*` is ACTIVE: bunq\'s IP filtering is off for this credential', fix: advice.message });
    else checks.push({ id: 'wildcard', status: 'problem', summary: '`*` is ACTIVE although the reconciler has a fixed egress IP: bunq\'s IP filtering is off for this credential', fix: advice.message });
  }

  // ownership
  if (f.ownership === undefined) checks.push(skipped('ownership', 'no valid config and secret'));
  else if (!f.ownership.ok) checks.push({ id: 'ownership', status: 'problem', summary: `owner record could not be read: ${f.ownership.kind}: ${f.ownership.message}`, fix: 'check the ReconcileState table name and access (STATE_TABLE_NAME)' });
  else {
    const o = f.ownership.value;
    if (o.kind === 'ours') checks.push({ id: 'ownership', status: 'ok', summary: `the only config claiming this bunq credential` });
    else if (o.kind === 'unclaimed') checks.push({ id: 'ownership', status: 'ok', summary: 'no other config claims this bunq credential (the next run records the claim)' });
    else if (o.kind === 'stale') checks.push({ id: 'ownership', status: 'ok', summary: `the owner record names "${o.owner ?? '?'}", which no longer governs it (${o.why ?? 'stale'}); the next run takes it over` });
    else if (o.kind === 'unreadable') {
      checks.push({
        id: 'ownership',
        status: 'problem',
        summary: `the owner record of this bunq credential names no owner that can be read (${o.why ?? 'edited by hand'}): the worker refuses this config (owner-record-unreadable)`,
        fix: `if this config is the one to keep: \`bunq-ip bootstrap ${c} --force\` replaces the record`,
      });
    } else if (o.kind === 'contested') {
      const names = (o.rivals ?? []).map((r) => `"${r}"`).join(', ');
      checks.push({
        id: 'ownership',
        status: 'problem',
        summary: `live config(s) ${names} govern this bunq credential too and no owner record says which one reconciles it: the worker refuses all of them (credential-claimed-twice)`,
        fix: `remove the configs you do not want, or make this one the owner: \`bunq-ip bootstrap ${c} --force\` (retires the others, keeps their IPs)`,
      });
    } else {
      checks.push({
        id: 'ownership',
        status: 'problem',
        summary: `config "${o.owner ?? '?'}" already reconciles this bunq credential: the worker refuses this config (credential-claimed-twice)`,
        fix: `remove one of the two configs, or move ownership here: \`bunq-ip bootstrap ${c} --force\``,
      });
    }
  }

  // egress IP
  const egress = f.egressIps.ips;
  if (egress.length === 0) {
    checks.push(skipped('egress-ip', 'no deployed egress IP given (egress=none, or pass --egress-ip <EgressIp> / set EGRESS_IPS)'));
  } else if (f.bunq === undefined || !f.bunq.ok || config === undefined) {
    checks.push(skipped('egress-ip', 'bunq\'s entries were not read'));
  } else {
    const entries = f.bunq.value.entries;
    const notActive = egress.filter((ip) => !isActive(entries, ip));
    const notProtected = egress.filter((ip) => !config.protectedIps.includes(ip));
    const notDesired = egress.filter((ip) => !f.desiredIps.includes(ip));
    if (notActive.length === 0 && notProtected.length === 0 && notDesired.length === 0) {
      checks.push({ id: 'egress-ip', status: 'ok', summary: `the deployed egress IP ${egress.join(', ')} is ACTIVE, protected and desired` });
    } else {
      const parts = [
        notActive.length > 0 ? `${notActive.join(', ')} not ACTIVE at bunq (the deployed worker is refused)` : '',
        notProtected.length > 0 ? `${notProtected.join(', ')} not in protectedIps` : '',
        notDesired.length > 0 ? `${notDesired.join(', ')} not desired` : '',
      ].filter((p) => p !== '');
      const ip = [...notActive, ...notProtected, ...notDesired][0] ?? '';
      checks.push({
        id: 'egress-ip',
        status: 'problem',
        summary: `deployed egress IP: ${parts.join('; ')}`,
        fix: `\`bunq-ip bootstrap ${c} --environment … --protected-ip ${ip}\` (protects and declares it), then \`bunq-ip apply ${c}\``,
      });
    }
  }

  // last run
  if (!f.lastRun.ok) checks.push({ id: 'last-run', status: 'problem', summary: `last run could not be read: ${f.lastRun.kind}: ${f.lastRun.message}`, fix: 'check the ReconcileState table name and access (STATE_TABLE_NAME)' });
  else if (f.lastRun.value === null) checks.push({ id: 'last-run', status: 'warn', summary: 'no run recorded yet', fix: `\`bunq-ip apply ${c}\`, or wait for the next scheduled run` });
  else {
    const s = f.lastRun.value;
    const when = `last run ${s.lastRunAt}: ${s.outcome.toUpperCase()}`;
    if (s.error) {
      checks.push({ id: 'last-run', status: 'problem', summary: `${when}, ${s.error.kind}: ${s.error.message}`, fix: `\`bunq-ip status ${c}\`; docs/runbook.md has a section per error kind` });
    } else if (s.outcome === 'failed' || s.outcome === 'partial') {
      checks.push({ id: 'last-run', status: 'problem', summary: `${when}, ${s.failed.length} operation(s) failed`, fix: `\`bunq-ip status ${c}\` lists them with their errors` });
    } else {
      checks.push({ id: 'last-run', status: 'ok', summary: `${when}, drift found ${s.drift.length}, applied ${s.applied.length}, blocked ${s.blocked.length}` });
    }
  }
  return checks;
}

export function doctorOk(checks: readonly DoctorCheck[]): boolean {
  return checks.every((c) => c.status !== 'problem');
}

const MARK: Record<CheckStatus, string> = { ok: 'ok', warn: 'warn', problem: 'FAIL', skipped: 'skip' };

export function renderDoctor(credential: string, checks: readonly DoctorCheck[], style: Style = plainStyle): string {
  const colour: Record<CheckStatus, (t: string) => string> = { ok: style.green, warn: style.yellow, problem: style.red, skipped: style.dim };
  const width = Math.max(...checks.map((c) => c.id.length));
  const lines = [style.bold(`Doctor: credential "${credential}"`)];
  for (const c of checks) {
    const fix = c.fix !== undefined ? ` — fix: ${c.fix}` : '';
    lines.push(`  ${colour[c.status](MARK[c.status].padEnd(4))}  ${c.id.padEnd(width)}  ${c.summary}${fix}`);
  }
  const problems = checks.filter((c) => c.status === 'problem').length;
  lines.push('', problems === 0 ? style.green('No problems found.') : style.red(`${problems} problem${problems === 1 ? '' : 's'} found.`));
  return lines.join('\n');
}
