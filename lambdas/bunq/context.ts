/**
 * The one schema of a BunqContext (types.ts): the context store checks what it reads from Secrets
 * Manager with it, and the client checks what it is given with it, so both accept exactly the same
 * contexts. Issues name the field and what is wrong, never a value: the values are secrets.
 */
import type { BunqContext, BunqEnvironment, BunqSession } from './types';

const ENVIRONMENTS: ReadonlySet<unknown> = new Set<BunqEnvironment>(['PRODUCTION', 'SANDBOX']);

type Fields = Record<string, unknown>;

function isObject(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringIssue(o: Fields, key: string, pem?: 'private' | 'public'): string | undefined {
  const v = o[key];
  if (typeof v !== 'string' || v.trim() === '') return `${key} is missing: it must be a non-empty string`;
  if (pem === 'private' && !/-----BEGIN (RSA )?PRIVATE KEY-----/.test(v)) return `${key} is not a PEM private key`;
  if (pem === 'public' && !v.includes('-----BEGIN PUBLIC KEY-----')) return `${key} is not an SPKI PEM public key`;
  return undefined;
}

function idIssue(o: Fields, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? undefined : `${key} must be a positive integer`;
}

function sessionIssues(raw: unknown): string[] {
  if (raw === null || raw === undefined) return [];
  if (!isObject(raw)) return ['session must be an object or null'];
  const issues = [idIssue(raw, 'id'), stringIssue(raw, 'token'), stringIssue(raw, 'expiresAt')]
    .filter((i): i is string => i !== undefined)
    .map((i) => `session.${i}`);
  if (typeof raw.expiresAt === 'string' && raw.expiresAt.trim() !== '' && Number.isNaN(Date.parse(raw.expiresAt))) {
    issues.push('session.expiresAt is not a date (an ISO-8601 time)');
  }
  const timeout = raw.timeoutSeconds;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) issues.push('session.timeoutSeconds must be a positive number');
  return issues;
}

function baseUrlIssue(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string' || raw.trim() === '') return 'baseUrl is missing: it must be a non-empty string';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'baseUrl is not a URL';
  }
  return url.protocol === 'https:' || url.protocol === 'http:' ? undefined : 'baseUrl must be http(s)';
}

/** Everything wrong with `raw` as a BunqContext, in field order; empty when it is one. */
export function bunqContextIssues(raw: unknown): string[] {
  if (!isObject(raw)) return ['it is not an object'];
  // A version we do not know may name every field differently: its other issues would mislead.
  if (raw.version !== 1) {
    return [`unsupported version${typeof raw.version === 'number' ? ` ${raw.version}` : ''} (expected 1)`];
  }
  return [
    ENVIRONMENTS.has(raw.environment) ? undefined : 'environment must be PRODUCTION or SANDBOX',
    baseUrlIssue(raw.baseUrl),
    stringIssue(raw, 'apiKey'),
    stringIssue(raw, 'clientPrivateKeyPem', 'private'),
    stringIssue(raw, 'clientPublicKeyPem', 'public'),
    idIssue(raw, 'installationId'),
    stringIssue(raw, 'installationToken'),
    stringIssue(raw, 'serverPublicKeyPem', 'public'),
    idIssue(raw, 'deviceServerId'),
    idIssue(raw, 'userId'),
    ...sessionIssues(raw.session),
  ].filter((i): i is string => i !== undefined);
}

/** Thrown by bunqContextOf: `issues` name fields, never values. */
export class BunqContextError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`invalid bunq context: ${issues.join('; ')}`);
    this.name = 'BunqContextError';
  }
}

/** `raw` as a BunqContext with only its known fields, or a BunqContextError naming every issue. */
export function bunqContextOf(raw: unknown): BunqContext {
  const issues = bunqContextIssues(raw);
  if (issues.length > 0 || !isObject(raw)) throw new BunqContextError(issues);
  const o = raw as unknown as BunqContext;
  const session: BunqSession | null =
    o.session === null || o.session === undefined
      ? null
      : { id: o.session.id, token: o.session.token, expiresAt: o.session.expiresAt, timeoutSeconds: o.session.timeoutSeconds };
  const context: BunqContext = {
    version: 1,
    environment: o.environment,
    apiKey: o.apiKey,
    clientPrivateKeyPem: o.clientPrivateKeyPem,
    clientPublicKeyPem: o.clientPublicKeyPem,
    installationId: o.installationId,
    installationToken: o.installationToken,
    serverPublicKeyPem: o.serverPublicKeyPem,
    deviceServerId: o.deviceServerId,
    userId: o.userId,
    session,
  };
  if (o.baseUrl !== undefined && o.baseUrl !== null) context.baseUrl = o.baseUrl;
  return context;
}
