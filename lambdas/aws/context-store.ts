import { randomUUID } from 'node:crypto';
import {
  GetSecretValueCommand,
  InvalidParameterException,
  PutSecretValueCommand,
  ResourceNotFoundException,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { BunqContextError, bunqContextOf } from '../bunq/context';
import type { BunqContext, BunqSession } from '../bunq/types';
import { systemClock, type Clock } from '../shared/clock';
import { secretRedactor, type SecretRedactor } from '../shared/redact';

/**
 * The bunq API context of each credential, one Secrets Manager secret each. Read once per warm
 * container (cached briefly), and written back only when the client refreshed the session, with a
 * compare-and-swap so a concurrent writer (another container, the CLI's bootstrap) is never lost.
 */

export type ContextErrorCode = 'secret-name-refused' | 'secret-missing' | 'secret-unreadable' | 'secret-invalid';

/** Names the secret and what is wrong with it; never a byte of its content. */
export class ContextStoreError extends Error {
  constructor(
    readonly code: ContextErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ContextStoreError';
  }
}

export interface LoadedContext {
  secretName: string;
  context: BunqContext;
  /** The secret version this context was read from: the expected value of the next write. */
  versionId: string;
}

export interface SessionWriteResult {
  outcome: SessionWriteOutcome;
  /** The context now stored (AWSCURRENT), the basis for the next write. */
  current: LoadedContext;
}

export type SessionWriteOutcome =
  /** Our session is now AWSCURRENT. */
  | 'written'
  /** Someone else wrote a session at least as fresh: theirs is kept (and cached). */
  | 'kept-newer'
  /** The secret now belongs to another installation (re-bootstrapped): our session is dropped. */
  | 'kept-replaced';

/** Validates the secret's JSON against the one context schema (bunq/context.ts). Errors name fields, never values. */
export function parseBunqContext(secretName: string, text: string): BunqContext {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw invalid(secretName, ['it is not JSON']);
  }
  try {
    return bunqContextOf(raw);
  } catch (err) {
    if (err instanceof BunqContextError) throw invalid(secretName, err.issues);
    throw err;
  }
}

function invalid(secretName: string, issues: readonly string[]): ContextStoreError {
  return new ContextStoreError('secret-invalid', `secret ${secretName} does not hold a valid bunq context: ${issues.join('; ')}`);
}

/** The same installation and key: a session made for one is valid for the other. */
function sameIdentity(a: BunqContext, b: BunqContext): boolean {
  return (
    a.installationToken === b.installationToken &&
    a.apiKey === b.apiKey &&
    a.deviceServerId === b.deviceServerId &&
    a.userId === b.userId &&
    (a.baseUrl ?? '') === (b.baseUrl ?? '') &&
    a.environment === b.environment
  );
}

function sessionExpiry(s: BunqSession | null): number {
  return s === null ? -Infinity : Date.parse(s.expiresAt);
}

export interface ContextStoreOptions {
  secretPrefix: string;
  clock?: Clock;
  /** How long a read stays cached in a warm container. */
  cacheTtlMs?: number;
  redactor?: SecretRedactor;
  /** Compare-and-swap attempts before giving up on a write. */
  maxWriteAttempts?: number;
}

/** What a reconcile run needs from a context store; the demo backs it with memory, Lambda with Secrets Manager. */
export type ContextStorePort = Pick<ContextStore, 'load' | 'invalidate' | 'saveSession'>;

export class ContextStore {
  private readonly cache = new Map<string, { loaded: LoadedContext; at: number }>();
  private readonly clock: Clock;
  private readonly cacheTtlMs: number;
  private readonly redactor: SecretRedactor;
  private readonly maxWriteAttempts: number;

  constructor(
    private readonly sm: SecretsManagerClient,
    private readonly options: ContextStoreOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.cacheTtlMs = options.cacheTtlMs ?? 5 * 60_000;
    this.redactor = options.redactor ?? secretRedactor;
    this.maxWriteAttempts = options.maxWriteAttempts ?? 3;
  }

  /** Refuses names outside the prefix the stack's IAM policy is scoped to. */
  assertAllowedName(secretName: string): void {
    const prefix = this.options.secretPrefix;
    if (!secretName.startsWith(prefix) || secretName.length === prefix.length) {
      throw new ContextStoreError(
        'secret-name-refused',
        `secret name ${JSON.stringify(secretName)} does not start with the allowed prefix ${JSON.stringify(prefix)}`,
      );
    }
  }

  async load(secretName: string): Promise<LoadedContext> {
    this.assertAllowedName(secretName);
    const hit = this.cache.get(secretName);
    if (hit && this.clock.now() - hit.at < this.cacheTtlMs) return hit.loaded;
    return this.readCurrent(secretName);
  }

  /** Forget a cached context (after a run failed: the secret may have been fixed meanwhile). */
  invalidate(secretName: string): void {
    this.cache.delete(secretName);
  }

  private async readCurrent(secretName: string): Promise<LoadedContext> {
    let reply;
    try {
      // VersionStage explicitly: moto (and caches in front of AWS) may otherwise serve a stale value
      // after UpdateSecretVersionStage.
      reply = await this.sm.send(new GetSecretValueCommand({ SecretId: secretName, VersionStage: 'AWSCURRENT' }));
    } catch (err) {
      if (err instanceof ResourceNotFoundException) {
        throw new ContextStoreError('secret-missing', `secret ${secretName} does not exist (run the CLI's bootstrap first)`);
      }
      throw new ContextStoreError(
        'secret-unreadable',
        `secret ${secretName} could not be read: ${(err as Error).name}: ${(err as Error).message}`,
      );
    }
    if (typeof reply.SecretString !== 'string' || reply.VersionId === undefined) {
      throw new ContextStoreError('secret-invalid', `secret ${secretName} has no string value`);
    }
    // Register before parsing: a parse error message never carries values, but logs of later
    // steps might, and the redactor should know these values from the first moment.
    const context = parseBunqContext(secretName, reply.SecretString);
    this.registerSecrets(context);
    const loaded: LoadedContext = { secretName, context, versionId: reply.VersionId };
    this.cache.set(secretName, { loaded, at: this.clock.now() });
    return loaded;
  }

  private registerSecrets(context: BunqContext): void {
    this.redactor.register(context.apiKey, context.installationToken, context.session?.token, context.clientPrivateKeyPem);
  }

  /**
   * Store a refreshed session on top of the version `basis` was read from. Compare-and-swap:
   * stage the new value as AWSPENDING, then move AWSCURRENT to it only if AWSCURRENT is still on
   * the version we read; Secrets Manager refuses the move otherwise. On conflict, re-read: a
   * session at least as fresh wins over ours, a re-bootstrapped secret wins outright, and
   * otherwise our session is written on top of the new version.
   */
  async saveSession(basis: LoadedContext, session: BunqSession): Promise<SessionWriteResult> {
    this.redactor.register(session.token);
    let current = basis;
    for (let attempt = 1; attempt <= this.maxWriteAttempts; attempt++) {
      const next: BunqContext = { ...current.context, session };
      const put = await this.sm.send(
        new PutSecretValueCommand({
          SecretId: current.secretName,
          SecretString: JSON.stringify(next),
          VersionStages: ['AWSPENDING'],
          ClientRequestToken: randomUUID(),
        }),
      );
      if (put.VersionId === undefined) throw new Error(`PutSecretValue on ${current.secretName} returned no version id`);
      try {
        await this.sm.send(
          new UpdateSecretVersionStageCommand({
            SecretId: current.secretName,
            VersionStage: 'AWSCURRENT',
            MoveToVersionId: put.VersionId,
            RemoveFromVersionId: current.versionId,
          }),
        );
        const loaded: LoadedContext = { secretName: current.secretName, context: next, versionId: put.VersionId };
        this.cache.set(current.secretName, { loaded, at: this.clock.now() });
        return { outcome: 'written', current: loaded };
      } catch (err) {
        if (!(err instanceof InvalidParameterException)) throw err;
      }
      // Lost the race: see what the other writer stored.
      const theirs = await this.readCurrent(current.secretName);
      if (!sameIdentity(theirs.context, basis.context)) return { outcome: 'kept-replaced', current: theirs };
      if (sessionExpiry(theirs.context.session) >= sessionExpiry(session)) return { outcome: 'kept-newer', current: theirs };
      current = theirs;
    }
    throw new Error(
      `could not store the refreshed session in ${basis.secretName}: ${this.maxWriteAttempts} concurrent writes in a row`,
    );
  }
}
