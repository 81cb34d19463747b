/**
 * The comparison bundle's bunq layer: the same exports the worker handler takes from
 * lambdas/bunq (BunqClient, whitelistPort, RateLimiter), with every bunq call made by
 * @bunq-community/bunq-js-client@1.1.2 instead of our client. bench/sections/cold-start.ts swaps
 * this module in for `../bunq` when bundling, so the handler code itself is identical.
 *
 * It restores the stored context (keys, installation token, session) into the package's Session
 * rather than letting it redo installation and device registration, which the reconciler never
 * does by itself. Known limits of the package, kept as they are: it lists only the first page
 * (count=200), has no typed errors (the core sees them as non-retryable), no session refresh
 * hook, and PUT needs the IP as well as the id.
 */
import BunqJSClient from '@bunq-community/bunq-js-client';
import { privateKeyFromPem, publicKeyFromPem } from '@bunq-community/bunq-js-client/dist/Crypto/Rsa';
import type { ActualEntry, EntryStatus, WhitelistPort } from '../../lambdas/core/types';
import { BUNQ_BASE_URLS, type BunqContext } from '../../lambdas/bunq/types';

export { RateLimiter } from '../../lambdas/bunq/rate-limiter';

const quiet = { log: () => {}, info: () => {}, error: () => {}, debug: () => {}, trace: () => {}, warn: () => {} };

function memoryStorage(): { get(k: string): unknown; set(k: string, v: unknown): void; remove(k: string): void } {
  const store = new Map<string, unknown>();
  return { get: (k) => store.get(k), set: (k, v) => void store.set(k, v), remove: (k) => void store.delete(k) };
}

export class BunqClient {
  readonly js: BunqJSClient;
  readonly context: BunqContext;
  private ready: Promise<void> | undefined;

  constructor(options: { context: BunqContext }) {
    this.context = options.context;
    this.js = new BunqJSClient(memoryStorage(), quiet);
  }

  /** Loads the stored context into the package's session (once). */
  start(): Promise<void> {
    this.ready ??= (async () => {
      const ctx = this.context;
      if (ctx.session === null) throw new Error('jsclient comparison: the stored context has no session');
      const s = this.js.Session;
      s.environmentUrl = ctx.baseUrl ?? BUNQ_BASE_URLS[ctx.environment];
      s.installToken = ctx.installationToken;
      s.sessionToken = ctx.session.token;
      s.sessionId = ctx.session.id;
      s.sessionExpiryTime = new Date(ctx.session.expiresAt);
      s.sessionTimeout = ctx.session.timeoutSeconds * 1000;
      s.privateKey = await privateKeyFromPem(ctx.clientPrivateKeyPem);
      s.publicKey = await publicKeyFromPem(ctx.clientPublicKeyPem);
      s.serverPublicKey = await publicKeyFromPem(ctx.serverPublicKeyPem);
    })();
    return this.ready;
  }
}

function field(item: unknown, type: string): Record<string, unknown> {
  const inner = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[type] : undefined;
  if (typeof inner !== 'object' || inner === null) throw new Error(`jsclient comparison: reply item has no ${type}`);
  return inner as Record<string, unknown>;
}

export function whitelistPort(client: BunqClient, credentialId: number): WhitelistPort {
  const userId = client.context.userId;
  const ipOf = new Map<number, string>();
  return {
    async listEntries(): Promise<ActualEntry[]> {
      await client.start();
      const items = await client.js.api.ip.list(userId, credentialId, { count: 200 });
      return items.map((item) => {
        const p = field(item, 'PermittedIp');
        const entry: ActualEntry = {
          id: Number(p.id),
          ip: String(p.ip),
          status: p.status === 'ACTIVE' ? 'ACTIVE' : 'INACTIVE',
          created: typeof p.created === 'string' ? p.created : null,
        };
        ipOf.set(entry.id, entry.ip);
        return entry;
      });
    },
    async addEntry(ip: string): Promise<number> {
      await client.start();
      const reply = await client.js.api.ip.post(userId, credentialId, ip, 'ACTIVE');
      const id = Number(field(reply[0], 'Id').id);
      ipOf.set(id, ip);
      return id;
    },
    async setStatus(entryId: number, status: EntryStatus): Promise<void> {
      await client.start();
      const ip = ipOf.get(entryId);
      if (ip === undefined) throw new Error(`jsclient comparison: entry ${entryId} was not listed before`);
      await client.js.api.ip.put(userId, credentialId, entryId, ip, status);
    },
  };
}
