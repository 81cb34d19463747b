/**
 * The bunq client for one API context: the IP-whitelist calls plus the session lifecycle around
 * them. Sessions are refreshed before expiry and once when bunq answers 401, single-flight, and every
 * new context is handed to `onSessionRefreshed` so the caller can persist it.
 */
import type { Clock } from '../shared/clock';
import { callBunq, malformed, routeOf, type BunqStats, type CallEnvironment, type CallResult, type CallSpec } from './api-call';
import { makeCallEnvironment, resolveBaseUrl, type CallOptions } from './call-environment';
import {
  allOfType,
  credentialPasswordIp,
  idReply,
  pagination,
  permittedIp,
  single,
  userFromItems,
  type JsonObject,
} from './envelope';
import { BunqError, isBunqError } from './errors';
import type { Logger } from '../shared/logger';
import { bunqContextOf } from './context';
import { isCanonicalIpv4 } from '../shared/validate-ip';
import { openSession } from './session-server';
import type { HttpMethod } from './transport';
import type { BunqContext, BunqUser, CredentialPasswordIp, PermittedIpAsRead, PermittedIpStatus } from './types';

export interface BunqClientOptions extends CallOptions {
  context: BunqContext;
  /** Called with the new context after every session change; failures are logged, not thrown. */
  onSessionRefreshed?: (context: BunqContext) => void | Promise<void>;
  /** Refresh this long before the computed expiry (default 30 s, as bunq's SDKs do). */
  sessionRefreshMarginMs?: number;
}

/** bunq's maximum page size (bunq-api.md §5.3). */
export const PAGE_SIZE = 200;
/** A list longer than this many pages is treated as a server bug (a pagination loop), not data. */
export const MAX_PAGES = 500;
export const DEFAULT_SESSION_REFRESH_MARGIN_MS = 30_000;

type SessionRefreshReason = 'missing' | 'expiring' | 'rejected';

/** What bunq answered to a write: the entry id, and its response id when the reply carried one. */
export interface WriteReceipt {
  id: number;
  responseId: string | null;
}

export class BunqClient {
  private ctx: BunqContext;
  private readonly env: CallEnvironment;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly onSessionRefreshed: ((context: BunqContext) => void | Promise<void>) | undefined;
  private readonly refreshMarginMs: number;
  private refreshing: Promise<void> | undefined;
  /** Every token this client has held: scrubbed from error texts even after rotation. */
  private readonly knownSecrets = new Set<string>();

  constructor(options: BunqClientOptions) {
    // The one context schema, as the context store checks it: a hand-built context gets no laxer check.
    bunqContextOf(options.context);
    this.ctx = options.context;
    this.rememberSecrets(options.context);
    this.env = makeCallEnvironment(resolveBaseUrl(options.context.environment, options.context.baseUrl), options, () => [
      ...this.knownSecrets,
    ]);
    this.clock = this.env.clock;
    this.logger = this.env.logger;
    this.onSessionRefreshed = options.onSessionRefreshed;
    this.refreshMarginMs = options.sessionRefreshMarginMs ?? DEFAULT_SESSION_REFRESH_MARGIN_MS;
  }

  /** The current context (with the newest session); store it to skip a session-server call next time. */
  get context(): BunqContext {
    return this.ctx;
  }

  get stats(): BunqStats {
    const s = this.env.stats;
    return { ...s, byMethod: { ...s.byMethod } };
  }

  /** Makes sure a session exists that will not expire within the refresh margin. */
  async ensureSession(): Promise<void> {
    const session = this.ctx.session;
    if (session === null) {
      await this.refreshSession('missing');
      return;
    }
    if (Date.parse(session.expiresAt) - this.refreshMarginMs <= this.clock.now()) {
      await this.refreshSession('expiring');
    }
  }

  /**
   * Ends the current session at bunq and forgets it (reported through onSessionRefreshed with
   * `session: null`). A session bunq no longer knows counts as ended.
   */
  async deleteSession(): Promise<void> {
    const session = this.ctx.session;
    if (session === null) return;
    try {
      await callBunq(this.env, this.spec('DELETE', `/v1/session/${session.id}`, { token: session.token }));
    } catch (err) {
      if (!(isBunqError(err) && (err.kind === 'session-expired' || err.kind === 'not-found'))) throw err;
    }
    this.ctx = { ...this.ctx, session: null };
    this.logger.info('bunq session deleted', { sessionId: session.id });
    await this.report(this.ctx);
  }

  async getUser(): Promise<BunqUser> {
    const res = await this.authed('GET', `/v1/user/${this.ctx.userId}`);
    return this.parse(res, 'GET', `/v1/user/${this.ctx.userId}`, (r) => userFromItems(r.items));
  }

  async listCredentials(): Promise<CredentialPasswordIp[]> {
    return await this.listAll(`/v1/user/${this.ctx.userId}/credential-password-ip`, 'CredentialPasswordIp', credentialPasswordIp);
  }

  async getCredential(credentialId: number): Promise<CredentialPasswordIp> {
    const path = `/v1/user/${this.ctx.userId}/credential-password-ip/${checkId(credentialId, 'credentialId')}`;
    const res = await this.authed('GET', path);
    return this.parse(res, 'GET', path, (r) => credentialPasswordIp(single(r.items, 'CredentialPasswordIp')));
  }

  async listIps(credentialId: number): Promise<PermittedIpAsRead[]> {
    return (await this.listIpPages(credentialId)).entries;
  }

  /** Like listIps, and says how many pages (GET calls, retries aside) the list took. */
  async listIpPages(credentialId: number): Promise<{ entries: PermittedIpAsRead[]; pages: number }> {
    return await this.listAllPages(this.ipListPath(credentialId), 'PermittedIp', permittedIp);
  }

  async getIp(credentialId: number, ipId: number): Promise<PermittedIpAsRead> {
    const path = `${this.ipListPath(credentialId)}/${checkId(ipId, 'ipId')}`;
    const res = await this.authed('GET', path);
    return this.parse(res, 'GET', path, (r) => permittedIp(single(r.items, 'PermittedIp')));
  }

  /** POSTs a new whitelist entry and returns its id. Never retried once it may have reached bunq. */
  async addIp(credentialId: number, ip: string, status: PermittedIpStatus = 'ACTIVE'): Promise<number> {
    return (await this.addIpWithReceipt(credentialId, ip, status)).id;
  }

  /** As addIp, with bunq's response id (X-Bunq-Client-Response-Id) for audit trails. */
  async addIpWithReceipt(credentialId: number, ip: string, status: PermittedIpStatus = 'ACTIVE'): Promise<WriteReceipt> {
    const path = this.ipListPath(credentialId);
    refuseUnless(typeof ip === 'string' && isCanonicalIpv4(ip), `POST ${path}`, 'ip must be a dotted-quad IPv4 address (bunq manages `*` only in its app)');
    refuseUnless(isStatus(status), `POST ${path}`, 'status must be ACTIVE or INACTIVE');
    const res = await this.authed('POST', path, { ip, status });
    return { id: this.parse(res, 'POST', path, (r) => idReply(r.items)), responseId: res.responseId ?? null };
  }

  /** PUTs the status of an entry (the IP itself is immutable at bunq) and returns bunq's id. */
  async updateIpStatus(credentialId: number, ipId: number, status: PermittedIpStatus): Promise<number> {
    return (await this.updateIpStatusWithReceipt(credentialId, ipId, status)).id;
  }

  /** As updateIpStatus, with bunq's response id. */
  async updateIpStatusWithReceipt(credentialId: number, ipId: number, status: PermittedIpStatus): Promise<WriteReceipt> {
    const path = `${this.ipListPath(credentialId)}/${checkId(ipId, 'ipId')}`;
    refuseUnless(isStatus(status), `PUT ${path}`, 'status must be ACTIVE or INACTIVE');
    const res = await this.authed('PUT', path, { status });
    return { id: this.parse(res, 'PUT', path, (r) => idReply(r.items)), responseId: res.responseId ?? null };
  }

  private ipListPath(credentialId: number): string {
    return `/v1/user/${this.ctx.userId}/credential-password-ip/${checkId(credentialId, 'credentialId')}/ip`;
  }

  /** Follows `older_url` from the newest page until bunq says there is nothing older. */
  private async listAll<T extends { id: number }>(basePath: string, type: string, parseOne: (v: JsonObject) => T): Promise<T[]> {
    return (await this.listAllPages(basePath, type, parseOne)).entries;
  }

  private async listAllPages<T extends { id: number }>(
    basePath: string,
    type: string,
    parseOne: (v: JsonObject) => T,
  ): Promise<{ entries: T[]; pages: number }> {
    const out: T[] = [];
    const ids = new Set<number>();
    const visited = new Set<string>();
    let path = `${basePath}?count=${PAGE_SIZE}`;
    for (let page = 1; ; page++) {
      const res = await this.authed('GET', path);
      const { entries, olderUrl } = this.parse(res, 'GET', basePath, (r) => ({
        entries: allOfType(r.items, type).map(parseOne),
        olderUrl: pagination(r.json).olderUrl,
      }));
      for (const entry of entries) {
        // Pages overlap when entries are added while we page; an entry without a usable id (0)
        // cannot be matched, so it is kept rather than mistaken for another id-less one.
        if (entry.id > 0 && ids.has(entry.id)) continue;
        ids.add(entry.id);
        out.push(entry);
      }
      if (olderUrl === null) return { entries: out, pages: page };
      const next = nextPagePath(olderUrl, basePath);
      if (next === null || visited.has(next) || page >= MAX_PAGES) {
        throw new BunqError(`GET ${basePath}: bunq reply not understood: unusable Pagination.older_url`, {
          kind: 'malformed-reply', operation: `GET ${basePath}`, requestId: res.requestId,
          ...(res.responseId !== undefined ? { responseId: res.responseId } : {}),
        });
      }
      visited.add(next);
      path = next;
    }
  }

  /** An authenticated call: a fresh-enough session first, and one refresh + retry on a 401. */
  private async authed(method: HttpMethod, path: string, body?: unknown): Promise<CallResult> {
    await this.ensureSession();
    const token = this.sessionToken();
    try {
      return await callBunq(this.env, this.spec(method, path, { token, body }));
    } catch (err) {
      if (!(isBunqError(err) && err.kind === 'session-expired')) throw err;
      // Several calls may see the same 401; only the first one's token is stale at bunq's side.
      if (this.ctx.session?.token === token) await this.refreshSession('rejected');
      else if (this.refreshing !== undefined) await this.refreshing;
      return await callBunq(this.env, this.spec(method, path, { token: this.sessionToken(), body }));
    }
  }

  private sessionToken(): string {
    const session = this.ctx.session;
    if (session === null) throw new Error('no bunq session after refresh');
    return session.token;
  }

  private spec(method: HttpMethod, path: string, extra: { token: string; body?: unknown }): CallSpec {
    return {
      method,
      path,
      route: routeOf(path),
      token: extra.token,
      ...(extra.body !== undefined ? { body: extra.body } : {}),
      privateKeyPem: this.ctx.clientPrivateKeyPem,
      serverPublicKeyPem: this.ctx.serverPublicKeyPem,
      repeatable: method !== 'POST',
    };
  }

  private refreshSession(reason: SessionRefreshReason): Promise<void> {
    if (this.refreshing === undefined) {
      this.refreshing = this.createSession(reason).finally(() => {
        this.refreshing = undefined;
      });
    }
    return this.refreshing;
  }

  private async createSession(reason: SessionRefreshReason): Promise<void> {
    const startedAt = this.clock.now();
    const session = await openSession(this.env, this.ctx, startedAt);
    if (session.userId !== this.ctx.userId) {
      throw new BunqError(
        `POST /v1/session-server: bunq reply not understood: the session belongs to user ${session.userId}, the context to user ${this.ctx.userId}`,
        { kind: 'malformed-reply', operation: 'POST /v1/session-server' },
      );
    }
    this.ctx = { ...this.ctx, session: session.session };
    this.rememberSecrets(this.ctx);
    this.env.stats.sessionRefreshes++;
    this.logger.info('bunq session created', { reason, sessionId: session.session.id, expiresAt: session.session.expiresAt });
    await this.report(this.ctx);
  }

  private async report(context: BunqContext): Promise<void> {
    if (this.onSessionRefreshed === undefined) return;
    try {
      await this.onSessionRefreshed(context);
    } catch (err) {
      // The session in memory is valid; losing it only costs a session-server call next run.
      this.logger.warn('onSessionRefreshed failed; continuing with the in-memory session', {
        error: err instanceof Error ? err.name : typeof err,
      });
    }
  }

  private parse<T>(res: CallResult, method: HttpMethod, path: string, fn: (r: CallResult) => T): T {
    try {
      return fn(res);
    } catch (err) {
      throw malformed(err, `${method} ${path.split('?')[0] ?? path}`, res.requestId, res.status, res.responseId);
    }
  }

  private rememberSecrets(ctx: BunqContext): void {
    this.knownSecrets.add(ctx.apiKey);
    this.knownSecrets.add(ctx.installationToken);
    this.knownSecrets.add(ctx.clientPrivateKeyPem);
    if (ctx.session !== null) this.knownSecrets.add(ctx.session.token);
  }
}

function checkId(id: number, name: string): number {
  if (!Number.isSafeInteger(id) || id <= 0) {
    throw new BunqError(`refusing to call bunq: ${name} must be a positive integer, got ${String(id)}`, { kind: 'bad-request' });
  }
  return id;
}

function refuseUnless(ok: boolean, operation: string, why: string): void {
  if (!ok) throw new BunqError(`${operation}: refusing to send: ${why}`, { kind: 'bad-request', operation });
}

function isStatus(value: unknown): value is PermittedIpStatus {
  return value === 'ACTIVE' || value === 'INACTIVE';
}

/**
 * The path to request for bunq's `older_url`, or null if it is not a continuation of the same list:
 * we never follow a URL to another host or path (our session token would go with it).
 */
export function nextPagePath(olderUrl: string, basePath: string): string | null {
  const [pathPart, query = ''] = olderUrl.split('?', 2);
  if (pathPart !== basePath) return null;
  const params = new URLSearchParams(query);
  const olderId = params.get('older_id');
  if (olderId === null || !/^\d{1,15}$/.test(olderId) || Number(olderId) <= 0) return null;
  return `${basePath}?count=${PAGE_SIZE}&older_id=${olderId}`;
}

