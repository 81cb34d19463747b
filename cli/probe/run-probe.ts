/**
 * `bunq-ip probe`: asks bunq's sandbox the open questions (questions.ts) with users it mints itself,
 * and reports per question which emulator profile bunq behaved like. Calls that the reconciler makes
 * go through our real client (BunqClient, createContext); calls whose raw reply is the evidence
 * (signatures, a 429's headers, timing, invalid input the client refuses to send) go through
 * rawExchange, with the client's own headers and signing. Nothing here touches a stored credential.
 */
import { randomUUID } from 'node:crypto';
import {
  BunqClient,
  createContext,
  createSandboxUser,
  isBunqError,
  rawExchange,
  RateLimiter,
  type BunqContext,
  type CallOptions,
  type RawExchange,
  type RawExchangeSpec,
  type RsaKeyPairPem,
  type Transport,
} from '../../lambdas/bunq';
import { makeCallEnvironment } from '../../lambdas/bunq/call-environment';
import { errorDescriptions, parseJson, responseItems, sessionServerReply } from '../../lambdas/bunq/envelope';
import { SecretRedactor } from '../../lambdas/shared/redact';
import { isCanonicalIpv4 } from '../../lambdas/shared/validate-ip';
import { systemClock, type Clock } from '../../lambdas/shared/clock';
import type { EmulatorProfile } from '../../emulator/profiles';
import { OBSERVATIONS, QUESTIONS, type CheckId, type ObservationId } from './questions';

export type Answer = 'default' | EmulatorProfile | 'inconclusive';
export type Evidence = Record<string, unknown>;

export interface CheckResult {
  id: CheckId;
  question: string;
  /** `default`, the profile whose behaviour bunq showed, or `inconclusive` (evidence says why). */
  answer: Answer;
  /** The profile that plays the non-default answer. */
  profile: EmulatorProfile;
  summary: string;
  evidence: Evidence;
}

export interface ObservationResult {
  id: ObservationId;
  question: string;
  summary: string;
  evidence: Evidence;
}

export interface ProbeReport {
  baseUrl: string;
  startedAt: string;
  durationMs: number;
  checks: CheckResult[];
  observations: ObservationResult[];
  /** Checks not run, with the reason (session-expiry without --long). */
  notRun: Array<{ id: CheckId; reason: string }>;
  /** The profiles bunq's answers call for, in QUESTIONS order: `npm run emulator -- --profile …`. */
  profiles: EmulatorProfile[];
  /** Set when a step failed and the probe stopped there; the checks before it are still reported. */
  stoppedBy?: string;
}

export interface ProbeOptions {
  /** No /v1, no trailing slash (see sandbox-url.ts). */
  baseUrl: string;
  /** Also run the session-expiry check, which waits about one session_timeout. */
  long?: boolean;
  clock?: Clock;
  /** Client-side limits (default bunq's classic table); tests pass scaled-down windows. */
  limiter?: RateLimiter;
  /** A key pair for every installation (tests; RSA generation is slow). */
  keyPair?: RsaKeyPairPem;
  transport?: Transport;
  timeoutMs?: number;
  /** Rate-limit check: calls (1..20, default 20); a call counts as slowed from this long (default 1500 ms). */
  burstCalls?: number;
  slowCallMs?: number;
  /** Pause after the burst so bunq's window clears (default 3500 ms). */
  settleMs?: number;
  /** --long gives up (inconclusive) when session_timeout is longer than this (default 70 min). */
  longMaxWaitMs?: number;
  /** Progress lines for a person watching (stderr). */
  progress?: (line: string) => void;
}

/** TEST-NET addresses (RFC 5737): never anyone's real IP. */
const PROBE_IPS = { standard: '192.0.2.10', entry: '198.51.100.20', noStatus: '198.51.100.21' } as const;
const MAX_BURST = 20;

interface Party {
  label: string;
  apiKey: string;
  context: BunqContext;
  client: BunqClient;
  credentialId: number;
}

export async function runProbe(options: ProbeOptions): Promise<ProbeReport> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const say = options.progress ?? (() => undefined);
  const secrets = new Set<string>();
  const callOptions: CallOptions = {
    clock,
    limiter: options.limiter ?? new RateLimiter({ clock }),
    ...(options.transport !== undefined ? { transport: options.transport } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  };
  const env = makeCallEnvironment(options.baseUrl, callOptions, () => [...secrets]);
  const raw = (spec: RawExchangeSpec): Promise<RawExchange> => rawExchange(env, spec);
  const checks = new Map<CheckId, CheckResult>();
  const observations: ObservationResult[] = [];
  const check = (id: CheckId, answer: Answer, summary: string, evidence: Evidence): void => {
    const q = QUESTIONS.find((x) => x.id === id);
    /* v8 ignore next -- ids are typed */
    if (q === undefined) throw new Error(`unknown check ${id}`);
    checks.set(id, { id, question: q.question, answer, profile: q.profile, summary, evidence });
    say(`  ${id}: ${answer}`);
  };
  const observe = (id: ObservationId, summary: string, evidence: Evidence): void => {
    observations.push({ id, question: OBSERVATIONS[id], summary, evidence });
  };

  const mint = async (label: string, permittedIps: string[] | undefined): Promise<Party> => {
    say(`minting a sandbox user (${label})…`);
    const { apiKey } = await createSandboxUser({ baseUrl: options.baseUrl, ...callOptions });
    secrets.add(apiKey);
    const context = await createContext({
      apiKey,
      environment: 'SANDBOX',
      baseUrl: options.baseUrl,
      deviceDescription: `bunq-ip probe (${label})`,
      ...(permittedIps !== undefined ? { permittedIps } : {}),
      ...(options.keyPair !== undefined ? { keyPair: options.keyPair } : {}),
      ...callOptions,
    });
    for (const s of [context.installationToken, context.session?.token, context.clientPrivateKeyPem]) if (s) secrets.add(s);
    const client = new BunqClient({
      context,
      ...callOptions,
      onSessionRefreshed: (c) => {
        if (c.session) secrets.add(c.session.token);
      },
    });
    const credentials = await client.listCredentials();
    const credential = credentials.find((c) => c.status === 'ACTIVE') ?? credentials[0];
    if (credential === undefined) throw new Error(`the minted sandbox user (${label}) has no CredentialPasswordIp`);
    return { label, apiKey, context, client, credentialId: credential.id };
  };
  const ipPath = (p: Party, entryId?: number): string =>
    `/v1/user/${p.context.userId}/credential-password-ip/${p.credentialId}/ip${entryId === undefined ? '' : `/${entryId}`}`;
  const session = (p: Party): { token: string; id: number } => {
    const s = p.client.context.session;
    /* v8 ignore next -- createContext always opens a session */
    if (s === null) throw new Error('no session');
    return { token: s.token, id: s.id };
  };
  const signed = (p: Party) => ({
    token: session(p).token,
    privateKeyPem: p.context.clientPrivateKeyPem,
    serverPublicKeyPem: p.context.serverPublicKeyPem,
  });

  const notRun: ProbeReport['notRun'] = [];
  let stoppedBy: string | undefined;
  try {
    // 1. A standard key: registered without permitted_ips, so bunq binds the calling IP.
    const standard = await mint('standard key', undefined);
    const bound = await standard.client.listIps(standard.credentialId);
    const ourIp = bound.find((e) => e.status === 'ACTIVE' && isCanonicalIpv4(e.ip))?.ip ?? null;
    say(`bunq sees this machine as ${ourIp ?? 'an unknown IP'}`);
    try {
      const id = await standard.client.addIp(standard.credentialId, PROBE_IPS.standard);
      check('standard-key-add', 'default', `POST of a new IP on a standard key worked (entry ${id})`, {
        registeredWith: 'no permitted_ips (bunq binds the calling IP)',
        whitelistBefore: bound.map(entryLine),
        post: { ip: PROBE_IPS.standard, status: 200, id },
      });
    } catch (err) {
      const refusal = refusalOf(err);
      check(
        'standard-key-add',
        refusal ? 'standard-key-cannot-add-ips' : 'inconclusive',
        refusal ? `bunq refused a new IP on a standard key (HTTP ${refusal.status})` : `POST failed without a refusal: ${errorLine(err)}`,
        { registeredWith: 'no permitted_ips (bunq binds the calling IP)', whitelistBefore: bound.map(entryLine), post: errorEvidence(err) },
      );
    }

    // 2. A wildcard key: ["<our ip>", "*"].
    const wildIps = ourIp === null ? ['*'] : [ourIp, '*'];
    const wild = await mint('wildcard key', wildIps);
    const listed = await raw({ method: 'GET', path: `${ipPath(wild)}?count=200`, ...signed(wild) });
    const listedEntries = permittedIps(listed);
    if (listed.response.status === 200 && listedEntries !== null) {
      const hasStar = listedEntries.some((e) => e.ip === '*');
      check(
        'wildcard-listing',
        hasStar ? 'default' : 'wildcard-unlisted',
        hasStar ? '"*" is listed as an entry' : '"*" is not among the listed entries',
        { registeredWith: wildIps, listed: listedEntries.map(entryLine) },
      );
    } else {
      check('wildcard-listing', 'inconclusive', `listing failed (HTTP ${listed.response.status})`, replyEvidence(listed));
    }

    // 3. Entry ids, re-activation and duplicates, on an entry of our own.
    let entryId: number | undefined;
    try {
      entryId = await wild.client.addIp(wild.credentialId, PROBE_IPS.entry);
    } catch (err) {
      const why = `POST ${PROBE_IPS.entry} on the wildcard key failed: ${errorLine(err)}`;
      for (const id of ['entry-ids', 'reactivation', 'duplicate-post'] as const) check(id, 'inconclusive', why, { post: errorEvidence(err) });
    }
    if (entryId !== undefined) {
      const list = await raw({ method: 'GET', path: `${ipPath(wild)}?count=200`, ...signed(wild) });
      const read = await raw({ method: 'GET', path: ipPath(wild, entryId), ...signed(wild) });
      const listObjects = permittedIps(list) ?? [];
      const readObject = (permittedIps(read) ?? [])[0];
      const listFields = [...new Set(listObjects.flatMap((o) => Object.keys(o)))].sort();
      const readFields = readObject === undefined ? [] : Object.keys(readObject).sort();
      const full = (o: Record<string, unknown>): boolean => typeof o.id === 'number' && 'created' in o && 'updated' in o;
      const noId = (o: Record<string, unknown>): boolean => !('id' in o);
      const evidence = { listFields, readFields, listSample: listObjects[0] ?? null, readReply: readObject ?? replyEvidence(read) };
      if (listObjects.length > 0 && readObject !== undefined && listObjects.every(full) && full(readObject)) {
        check('entry-ids', 'default', 'list and read carry id, created and updated', evidence);
      } else if (listObjects.length > 0 && readObject !== undefined && listObjects.every(noId) && noId(readObject)) {
        check('entry-ids', 'no-entry-ids', `list and read carry only ${readFields.join(', ')}`, evidence);
      } else {
        check('entry-ids', 'inconclusive', 'the replies are neither all with ids nor all without', evidence);
      }

      try {
        await wild.client.updateIpStatus(wild.credentialId, entryId, 'INACTIVE');
        try {
          await wild.client.updateIpStatus(wild.credentialId, entryId, 'ACTIVE');
          const after = await raw({ method: 'GET', path: ipPath(wild, entryId), ...signed(wild) });
          const status = (permittedIps(after) ?? [])[0]?.status;
          check(
            'reactivation',
            status === 'INACTIVE' ? 'reactivation-refused' : 'default',
            status === 'INACTIVE' ? 'PUT ACTIVE was answered 200 but the entry stayed INACTIVE' : 'PUT turned the INACTIVE entry ACTIVE again',
            { put: { status: 200 }, readBack: status ?? replyEvidence(after) },
          );
        } catch (err) {
          const refusal = refusalOf(err);
          check(
            'reactivation',
            refusal ? 'reactivation-refused' : 'inconclusive',
            refusal ? `bunq refused INACTIVE → ACTIVE (HTTP ${refusal.status})` : `PUT failed without a refusal: ${errorLine(err)}`,
            { put: errorEvidence(err) },
          );
        }
      } catch (err) {
        check('reactivation', 'inconclusive', `PUT INACTIVE failed: ${errorLine(err)}`, { put: errorEvidence(err) });
      }

      try {
        const second = await wild.client.addIp(wild.credentialId, PROBE_IPS.entry);
        check('duplicate-post', 'duplicate-post-accepted', `bunq added a second entry (${second}) for ${PROBE_IPS.entry}`, {
          first: entryId,
          second,
        });
      } catch (err) {
        const refusal = refusalOf(err);
        check(
          'duplicate-post',
          refusal ? 'default' : 'inconclusive',
          refusal ? `bunq refused the duplicate (HTTP ${refusal.status})` : `POST failed without a refusal: ${errorLine(err)}`,
          { post: errorEvidence(err) },
        );
      }
    }

    // 4. Are 4xx replies signed?
    const errorReplies = [
      await raw({ method: 'GET', path: ipPath(wild, 999_999_999), ...signed(wild) }),
      await raw({ method: 'POST', path: ipPath(wild), body: { ip: 'not-an-ip', status: 'ACTIVE' }, ...signed(wild) }),
    ];
    const fourXx = errorReplies.filter((r) => r.response.status >= 400 && r.response.status < 500 && r.response.status !== 429);
    const signatures = fourXx.map((r) => r.signature);
    check(
      'error-signing',
      fourXx.length === 0
        ? 'inconclusive'
        : signatures.every((s) => s === 'valid')
          ? 'default'
          : signatures.every((s) => s === 'missing')
            ? 'errors-unsigned'
            : 'inconclusive',
      fourXx.length === 0 ? 'no 4xx reply to look at' : `4xx replies: signature ${signatures.join(', ')}`,
      { replies: errorReplies.map((r) => replyEvidence(r)) },
    );

    // 5. Observations without a profile.
    const noStatus = await raw({ method: 'POST', path: ipPath(wild), body: { ip: PROBE_IPS.noStatus }, ...signed(wild) });
    const noStatusId = idOf(noStatus);
    let readBack: unknown = null;
    if (noStatusId !== undefined) {
      const r = await raw({ method: 'GET', path: ipPath(wild, noStatusId), ...signed(wild) });
      readBack = (permittedIps(r) ?? [])[0]?.status ?? null;
    }
    observe(
      'post-without-status',
      noStatusId === undefined ? `HTTP ${noStatus.response.status}: ${texts(noStatus).join(' ')}` : `HTTP 200; the entry reads back as ${String(readBack)}`,
      { ...replyEvidence(noStatus), statusReadBack: readBack },
    );
    for (const [id, ip] of [['post-ipv6', '2001:db8::1'], ['post-wildcard', '*'], ['post-cidr', '203.0.113.0/24']] as const) {
      const r = await raw({ method: 'POST', path: ipPath(wild), body: { ip, status: 'ACTIVE' }, ...signed(wild) });
      observe(id, `HTTP ${r.response.status}${texts(r).length > 0 ? `: ${texts(r).join(' ')}` : ''}`, { ip, ...replyEvidence(r) });
    }
    const reused = randomUUID();
    const firstUse = await raw({ method: 'GET', path: `/v1/user/${wild.context.userId}`, requestId: reused, ...signed(wild) });
    const secondUse = await raw({ method: 'GET', path: `/v1/user/${wild.context.userId}`, requestId: reused, ...signed(wild) });
    observe('request-id-reuse', `first HTTP ${firstUse.response.status}, second HTTP ${secondUse.response.status}${texts(secondUse).length ? `: ${texts(secondUse).join(' ')}` : ''}`, {
      first: replyEvidence(firstUse),
      second: replyEvidence(secondUse),
    });
    for (const [id, signature] of [['session-server-missing-signature', 'omit'], ['session-server-invalid-signature', 'corrupt']] as const) {
      say(`session-server with a ${signature === 'omit' ? 'missing' : 'wrong'} signature (bunq allows one session-server call per 30 s)…`);
      const r = await raw({ ...sessionServerSpec(wild), signature });
      // Should bunq accept it after all, the session it made is listed only as a fact, never used.
      observe(id, `HTTP ${r.response.status}${texts(r).length ? `: ${texts(r).join(' ')}` : ''}`, replyEvidence(r, r.response.status === 200));
    }
    const timeoutSeconds = wild.client.context.session?.timeoutSeconds ?? null;
    observe('session-timeout', `${String(timeoutSeconds)} s`, { sessionTimeoutSeconds: timeoutSeconds });

    // 6. The rate limit: a bounded burst of GETs, not held back by our own limiter.
    await rateLimitCheck(`${ipPath(wild)}?count=200`, options, raw, signed(wild), check, clock, say);

    const deleted = await raw({ method: 'DELETE', path: `/v1/session/${session(wild).id}`, ...signed(wild) });
    observe('delete-session', `HTTP ${deleted.response.status}: ${bodyText(deleted)}`, replyEvidence(deleted));
    try {
      await standard.client.deleteSession();
    } catch {
      // Only tidying up a throwaway sandbox user's session.
    }

    // 7. --long: does a call extend the session? (On a session of its own, opened last.)
    if (options.long === true) {
      await sessionExpiryCheck(wild, options, raw, check, clock, say, secrets);
    } else {
      notRun.push({ id: 'session-expiry', reason: 'waits about one session_timeout; run with --long' });
    }
  } catch (err) {
    // What was learnt so far is still worth reporting; the error says where it stopped.
    stoppedBy = errorLine(err);
    say(`probe stopped: ${stoppedBy}`);
  }

  const ordered = QUESTIONS.flatMap((q) => {
    const c = checks.get(q.id);
    return c === undefined ? [] : [c];
  });
  const report: ProbeReport = {
    baseUrl: options.baseUrl,
    startedAt: new Date(started).toISOString(),
    durationMs: clock.now() - started,
    checks: ordered,
    observations,
    notRun,
    profiles: ordered.flatMap((c) => (c.answer === c.profile ? [c.profile] : [])),
    ...(stoppedBy !== undefined ? { stoppedBy } : {}),
  };
  // The minted keys and tokens are throwaway, but a report is made to be pasted: none of them goes in.
  return JSON.parse(new SecretRedactor(secrets).redactString(JSON.stringify(report))) as ProbeReport;
}

async function rateLimitCheck(
  path: string,
  options: ProbeOptions,
  raw: (spec: RawExchangeSpec) => Promise<RawExchange>,
  auth: Pick<RawExchangeSpec, 'token' | 'privateKeyPem' | 'serverPublicKeyPem'>,
  check: (id: CheckId, answer: Answer, summary: string, evidence: Evidence) => void,
  clock: Clock,
  say: (line: string) => void,
): Promise<void> {
  const calls = Math.min(MAX_BURST, Math.max(1, options.burstCalls ?? MAX_BURST));
  const slowMs = options.slowCallMs ?? 1500;
  say(`rate limit: up to ${calls} GETs of the whitelist in a row…`);
  // Start from a quiet window, so the calls before do not decide where the limit bites.
  await clock.sleep(options.settleMs ?? 3500);
  const durations: number[] = [];
  let limited: RawExchange | undefined;
  let slowed: number | undefined;
  for (let i = 0; i < calls; i++) {
    const r = await raw({ method: 'GET', path, ...auth, limited: false });
    durations.push(r.durationMs);
    // The sandbox answers bursts with 409 too (JORTT treats it as a rate limit): a refusal, not slowing.
    if (r.response.status === 429 || r.response.status === 409) {
      limited = r;
      break;
    }
    const baseline = median(durations.slice(0, 3));
    if (i >= 3 && r.durationMs >= slowMs && r.durationMs >= 3 * baseline) {
      slowed = i + 1;
      break;
    }
  }
  const evidence: Evidence = { calls: durations.length, durationsMs: durations };
  if (limited !== undefined) {
    const h = limited.response.headers;
    check('rate-limit', 'default', `HTTP ${limited.response.status} at call ${durations.length}: ${texts(limited).join(' ') || bodyText(limited)}`, {
      ...evidence,
      reply: replyEvidence(limited),
      headers: Object.fromEntries(Object.entries(h).filter(([k]) => k.startsWith('x-bunq') || k === 'retry-after' || k.startsWith('x-ratelimit'))),
    });
  } else if (slowed !== undefined) {
    check('rate-limit', 'slow-instead-of-429', `no 429; call ${slowed} took ${durations[slowed - 1]} ms (the first three: ${durations.slice(0, 3).join(', ')} ms)`, evidence);
  } else {
    check('rate-limit', 'inconclusive', `${durations.length} calls, neither a 429 nor a slowed reply`, evidence);
  }
  // Let bunq's window clear before anything else is sent.
  await clock.sleep(options.settleMs ?? 3500);
}

async function sessionExpiryCheck(
  party: Party,
  options: ProbeOptions,
  raw: (spec: RawExchangeSpec) => Promise<RawExchange>,
  check: (id: CheckId, answer: Answer, summary: string, evidence: Evidence) => void,
  clock: Clock,
  say: (line: string) => void,
  secrets: Set<string>,
): Promise<void> {
  // A fresh session, so nothing but the calls below can have touched its expiry.
  const opened = await raw(sessionServerSpec(party));
  const t0 = clock.now() - opened.durationMs;
  let token: string;
  let timeoutSeconds: number;
  try {
    const reply = sessionServerReply(responseItems(parseJson(opened.response.body)));
    token = reply.token;
    timeoutSeconds = reply.user.sessionTimeoutSeconds;
    secrets.add(token);
  } catch {
    check('session-expiry', 'inconclusive', `could not open a session (HTTP ${opened.response.status})`, replyEvidence(opened));
    return;
  }
  const timeoutMs = timeoutSeconds * 1000;
  const margin = Math.min(60_000, Math.max(200, timeoutMs * 0.2));
  const maxWait = options.longMaxWaitMs ?? 70 * 60_000;
  if (timeoutMs + margin > maxWait) {
    check('session-expiry', 'inconclusive', `session_timeout is ${timeoutSeconds} s, longer than this check waits`, {
      sessionTimeoutSeconds: timeoutSeconds,
      maxWaitMs: maxWait,
    });
    return;
  }
  const auth = { token, privateKeyPem: party.context.clientPrivateKeyPem, serverPublicKeyPem: party.context.serverPublicKeyPem };
  const timeline: Array<{ atMs: number; status: number }> = [];
  // Calls half-way and shortly before expiry (inside bunq's documented "last 30 s" too), then one after.
  for (const at of [timeoutMs / 2, timeoutMs - Math.min(20_000, timeoutMs / 4), timeoutMs + margin]) {
    const wait = t0 + at - clock.now();
    if (wait > 0) {
      say(`session expiry: waiting ${Math.round(wait / 1000)} s…`);
      await clock.sleep(wait);
    }
    const r = await raw({ method: 'GET', path: `/v1/user/${party.context.userId}`, ...auth });
    timeline.push({ atMs: Math.round(clock.now() - t0), status: r.response.status });
  }
  const [first, second, last] = timeline;
  const evidence = { sessionTimeoutSeconds: timeoutSeconds, timeline };
  if (first?.status !== 200 || second?.status !== 200) {
    check('session-expiry', 'inconclusive', 'the session failed before its timeout', evidence);
  } else if (last?.status === 200) {
    check('session-expiry', 'default', `still valid ${Math.round(last.atMs / 1000)} s after creation (timeout ${timeoutSeconds} s): calls extend it`, evidence);
  } else if (last?.status === 401) {
    check('session-expiry', 'fixed-session-expiry', `expired at creation + session_timeout despite the calls (HTTP 401)`, evidence);
  } else {
    check('session-expiry', 'inconclusive', `after the timeout: HTTP ${String(last?.status)}`, evidence);
  }
}

/** POST /session-server on the party's installation, signed unless the caller says otherwise. */
function sessionServerSpec(party: Party): RawExchangeSpec {
  return {
    method: 'POST',
    path: '/v1/session-server',
    body: { secret: party.apiKey },
    token: party.context.installationToken,
    privateKeyPem: party.context.clientPrivateKeyPem,
    serverPublicKeyPem: party.context.serverPublicKeyPem,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function bodyText(r: RawExchange): string {
  const text = r.response.body.toString('utf8');
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function replyTypes(r: RawExchange): string[] {
  try {
    return responseItems(parseJson(r.response.body)).map((i) => i.type);
  } catch {
    return ['(not a bunq envelope)'];
  }
}

function texts(r: RawExchange): string[] {
  return r.response.status >= 400 ? errorDescriptions(r.response.body) : [];
}

/** status, bunq's texts, the reply's signature state and (for successes) its shape. */
function replyEvidence(r: RawExchange, bodyIsSecret = false): Evidence {
  const out: Evidence = { status: r.response.status, signature: r.signature, durationMs: r.durationMs };
  const t = texts(r);
  if (t.length > 0) out.texts = t;
  else if (!bodyIsSecret) {
    const text = bodyText(r);
    // A long success body is a user object or a list: its shape is the evidence, not its data.
    if (text.length <= 120) out.body = text;
    else out.types = replyTypes(r);
  }
  const responseId = r.response.headers['x-bunq-client-response-id'];
  if (responseId !== undefined) out.responseId = responseId;
  return out;
}

/** The PermittedIp objects of a reply, or null when it is not a list of them. */
function permittedIps(r: RawExchange): Array<Record<string, unknown>> | null {
  if (r.response.status !== 200) return null;
  try {
    return responseItems(parseJson(r.response.body)).filter((i) => i.type === 'PermittedIp').map((i) => i.value);
  } catch {
    return null;
  }
}

function idOf(r: RawExchange): number | undefined {
  if (r.response.status !== 200) return undefined;
  try {
    const id = responseItems(parseJson(r.response.body)).find((i) => i.type === 'Id')?.value.id;
    return typeof id === 'number' ? id : undefined;
  } catch {
    return undefined;
  }
}

function entryLine(e: { ip?: unknown; status?: unknown }): string {
  return `${String(e.ip)} ${String(e.status)}`;
}

/** A 4xx that is bunq's answer (not a rate limit, not an outage): the question's "no". */
function refusalOf(err: unknown): { status: number } | undefined {
  if (!isBunqError(err) || err.status === undefined) return undefined;
  if (err.status < 400 || err.status >= 500 || err.status === 429 || err.status === 409) return undefined;
  if (err.kind === 'session-expired' || err.kind === 'credentials-rejected') return undefined;
  return { status: err.status };
}

function errorLine(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errorEvidence(err: unknown): Evidence {
  if (isBunqError(err)) {
    return { kind: err.kind, status: err.status ?? null, texts: [...err.descriptions], responseId: err.responseId ?? null };
  }
  return { error: errorLine(err) };
}
