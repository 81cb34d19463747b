/**
 * The demo's stand-in for Secrets Manager: the same contract as lambdas/aws/context-store.ts
 * (load, invalidate, compare-and-swap saveSession) and as bootstrap's ContextSecrets, kept in memory
 * so `npm start` needs no AWS. Names outside the prefix are refused, as IAM would.
 */
import {
  ContextStoreError,
  type LoadedContext,
  type SessionWriteResult,
} from '../lambdas/aws/context-store';
import type { BunqContext, BunqSession } from '../lambdas/bunq/types';
import type { ContextSecrets } from '../cli/adapters/secret-writer';
import type { ContextStorePort } from '../lambdas/aws/context-store';

export class MemoryContextStore implements ContextStorePort, ContextSecrets {
  private readonly secrets = new Map<string, { context: BunqContext; version: number }>();

  constructor(private readonly prefix: string) {}

  private check(secretName: string): void {
    if (!secretName.startsWith(this.prefix) || secretName === this.prefix) {
      throw new ContextStoreError('secret-name-refused', `secret name ${JSON.stringify(secretName)} is outside ${JSON.stringify(this.prefix)}`);
    }
  }

  async read(secretName: string): Promise<BunqContext | null> {
    this.check(secretName);
    return this.secrets.get(secretName)?.context ?? null;
  }

  async write(secretName: string, context: BunqContext): Promise<'created' | 'updated'> {
    this.check(secretName);
    const existing = this.secrets.get(secretName);
    this.secrets.set(secretName, { context: structuredClone(context), version: (existing?.version ?? 0) + 1 });
    return existing === undefined ? 'created' : 'updated';
  }

  async load(secretName: string): Promise<LoadedContext> {
    this.check(secretName);
    const stored = this.secrets.get(secretName);
    if (stored === undefined) throw new ContextStoreError('secret-missing', `secret ${secretName} does not exist (run bootstrap first)`);
    return { secretName, context: structuredClone(stored.context), versionId: String(stored.version) };
  }

  invalidate(): void {
    // Nothing cached: every load reads the map.
  }

  async saveSession(basis: LoadedContext, session: BunqSession): Promise<SessionWriteResult> {
    const current = await this.load(basis.secretName);
    if (current.versionId !== basis.versionId) {
      const theirs = current.context;
      if (theirs.installationToken !== basis.context.installationToken) return { outcome: 'kept-replaced', current };
      const theirExpiry = theirs.session === null ? -Infinity : Date.parse(theirs.session.expiresAt);
      if (theirExpiry >= Date.parse(session.expiresAt)) return { outcome: 'kept-newer', current };
    }
    await this.write(basis.secretName, { ...current.context, session });
    return { outcome: 'written', current: await this.load(basis.secretName) };
  }
}
