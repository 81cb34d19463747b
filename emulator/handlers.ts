import { createPublicKey, type KeyObject } from 'node:crypto';
import { hasProfile, type MutableEmulatorConfig } from './config';
import { EmulatorHttpError } from './http-error';
import { classifyIp } from './ipv4';
import type { Credential, EmulatorState, EntryStatus, Installation, IpEntry, Session, UserKind } from './model';
import { credentialObject, permittedIpObject, userObject } from './objects';
import { paginate, parsePageQuery } from './pagination';
import { ROUTES, type RoutePattern } from './routes';
import { bunqTimestamp, responseBody, TEXT } from './wire';

/**
 * One function per endpoint. They run after the HTTP layer has checked headers, tokens, signatures
 * and the whitelist for the session, and return the reply body (status 200) or throw an
 * EmulatorHttpError.
 */
export interface HandlerContext {
  state: EmulatorState;
  config: MutableEmulatorConfig;
  route: RoutePattern;
  method: string;
  ids: number[];
  query: URLSearchParams;
  /** Parsed JSON body for POST/PUT (undefined for GET/DELETE and for an empty sandbox-user body). */
  body: unknown;
  callerIp: string;
  serverPublicKeyPem: string;
  installation?: Installation;
  session?: Session;
  now: number;
}

type Handler = (ctx: HandlerContext) => string;

function credentialsIncorrect(): EmulatorHttpError {
  return new EmulatorHttpError(400, TEXT.credentialsIncorrect);
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new EmulatorHttpError(400, 'The request body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

function requiredString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new EmulatorHttpError(400, `The field "${field}" is required and must be a non-empty string.`);
  }
  return value;
}

function parseStatus(value: unknown): EntryStatus {
  if (value === 'ACTIVE' || value === 'INACTIVE') return value;
  throw new EmulatorHttpError(400, `The status ${JSON.stringify(value)} is not valid. Use ACTIVE or INACTIVE.`);
}

function idAt(ctx: HandlerContext, index: number): number {
  const id = ctx.ids[index];
  /* v8 ignore next -- the router only dispatches paths with the pattern's ids */
  if (id === undefined) throw new Error(`route ${ctx.route} has no id at ${index}`);
  return id;
}

function requireSession(ctx: HandlerContext): Session {
  /* v8 ignore next -- the HTTP layer always sets the session for session routes */
  if (ctx.session === undefined) throw new Error('session route without a session');
  return ctx.session;
}

function requireInstallation(ctx: HandlerContext): Installation {
  /* v8 ignore next -- the HTTP layer always sets the installation for these routes */
  if (ctx.installation === undefined) throw new Error('installation route without an installation');
  return ctx.installation;
}

/** The path's user id must be the session's user: another user's objects are invisible. */
function ownUser(ctx: HandlerContext): number {
  const userId = idAt(ctx, 0);
  if (userId !== requireSession(ctx).userId) throw new EmulatorHttpError(404, TEXT.notFound('User', userId));
  return userId;
}

function ownCredential(ctx: HandlerContext): Credential {
  const userId = ownUser(ctx);
  const credentialId = idAt(ctx, 1);
  const credential = ctx.state.credentials.get(credentialId);
  if (credential === undefined || credential.userId !== userId) {
    throw new EmulatorHttpError(404, TEXT.notFound('CredentialPasswordIp', credentialId));
  }
  return credential;
}

function ownEntry(ctx: HandlerContext): { credential: Credential; entry: IpEntry } {
  const credential = ownCredential(ctx);
  const entryId = idAt(ctx, 2);
  const entry = credential.entries.find((e) => e.id === entryId);
  if (entry === undefined) throw new EmulatorHttpError(404, TEXT.notFound('PermittedIp', entryId));
  return { credential, entry };
}

/** Validates an `ip` for the PermittedIp endpoint, where only concrete IPv4 addresses are allowed. */
function apiIp(value: unknown): string {
  if (typeof value !== 'string') throw new EmulatorHttpError(400, 'The field "ip" is required and must be a string.');
  switch (classifyIp(value)) {
    case 'ipv4':
      return value;
    case 'wildcard':
      throw new EmulatorHttpError(400, 'The wildcard "*" cannot be added through the API. Allow all IP addresses in the bunq app instead.');
    case 'ipv6':
      throw new EmulatorHttpError(400, `IPv6 addresses are not supported: "${value}". Only IPv4 addresses can be whitelisted.`);
    default:
      throw new EmulatorHttpError(400, `"${value}" is not a valid IPv4 address.`);
  }
}

const installation: Handler = (ctx) => {
  const body = asObject(ctx.body);
  const pem = requiredString(body, 'client_public_key');
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new EmulatorHttpError(400, 'The client public key is not a valid PEM public key.');
  }
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new EmulatorHttpError(400, 'The client public key must be an RSA key of at least 2048 bits.');
  }
  const inst = ctx.state.createInstallation(key);
  const created = bunqTimestamp(inst.createdMs);
  return responseBody([
    { Id: { id: inst.id } },
    { Token: { id: inst.tokenId, created, updated: created, token: inst.token } },
    { ServerPublicKey: { server_public_key: ctx.serverPublicKeyPem } },
  ]);
};

const deviceServer: Handler = (ctx) => {
  const inst = requireInstallation(ctx);
  const body = asObject(ctx.body);
  const description = requiredString(body, 'description');
  const secret = requiredString(body, 'secret');
  const rawIps = body.permitted_ips;
  if (rawIps !== undefined && rawIps !== null && !(Array.isArray(rawIps) && rawIps.every((v) => typeof v === 'string'))) {
    throw new EmulatorHttpError(400, 'The field "permitted_ips" must be a list of IP addresses.');
  }
  const given: string[] = Array.isArray(rawIps) ? (rawIps as string[]) : [];
  for (const ip of given) {
    const kind = classifyIp(ip);
    if (kind === 'ipv6') throw new EmulatorHttpError(400, `IPv6 addresses are not supported: "${ip}". Only IPv4 addresses can be whitelisted.`);
    if (kind === 'invalid') throw new EmulatorHttpError(400, `"${ip}" is not a valid IPv4 address.`);
  }
  const credential = ctx.state.credentialForKey(secret);
  if (credential === undefined) throw credentialsIncorrect();
  if (credential.status === 'ACTIVE' && ctx.config.enforceIpWhitelist && !ctx.state.allows(credential, ctx.callerIp)) {
    throw credentialsIncorrect();
  }
  const concrete = [...new Set(given.filter((ip) => ip !== '*'))];
  const ips = concrete.length > 0 ? concrete : [ctx.callerIp];
  if (given.includes('*')) ips.push('*');
  const device = ctx.state.registerDevice(inst, credential, description, ctx.callerIp, ips);
  return responseBody([{ Id: { id: device.id } }]);
};

const sessionServer: Handler = (ctx) => {
  const inst = requireInstallation(ctx);
  const secret = requiredString(asObject(ctx.body), 'secret');
  const credential = ctx.state.credentialForKey(secret);
  if (credential === undefined || credential.status !== 'ACTIVE' || !ctx.state.hasDevice(inst.id, secret)) {
    throw credentialsIncorrect();
  }
  if (ctx.config.enforceIpWhitelist && !ctx.state.allows(credential, ctx.callerIp)) throw credentialsIncorrect();
  const user = ctx.state.users.get(credential.userId);
  /* v8 ignore next -- credentials are only created for existing users */
  if (user === undefined) throw new Error(`credential ${credential.id} has no user`);
  const session = ctx.state.createSession(inst, credential, ctx.config.sessionTimeoutSeconds);
  const created = bunqTimestamp(session.createdMs);
  return responseBody([
    { Id: { id: session.id } },
    { Token: { id: session.id, created, updated: created, token: session.token } },
    { [user.kind]: userObject(user, session.timeoutSeconds) },
  ]);
};

const deleteSession: Handler = (ctx) => {
  // Like bunq, the session that owns the token is deleted whatever id the path holds (SDKs send 0).
  ctx.state.deleteSession(requireSession(ctx));
  return responseBody([]);
};

function sandboxUser(kind: UserKind): Handler {
  return (ctx) => {
    const user = ctx.state.createUser(kind);
    const { apiKey } = ctx.state.createApiKey(user.id);
    return responseBody([{ ApiKey: { api_key: apiKey } }]);
  };
}

function userWrapper(ctx: HandlerContext, userId: number): Record<string, unknown> {
  const user = ctx.state.users.get(userId);
  /* v8 ignore next -- sessions are only created for existing users */
  if (user === undefined) throw new EmulatorHttpError(404, TEXT.notFound('User', userId));
  return { [user.kind]: userObject(user, requireSession(ctx).timeoutSeconds) };
}

const listUsers: Handler = (ctx) => {
  const session = requireSession(ctx);
  const { page, pagination } = paginate([{ id: session.userId }], parsePageQuery(ctx.query), ROUTES.userList);
  return responseBody(page.map((u) => userWrapper(ctx, u.id)), pagination);
};

const readUser: Handler = (ctx) => responseBody([userWrapper(ctx, ownUser(ctx))]);

const listCredentials: Handler = (ctx) => {
  const userId = ownUser(ctx);
  const mine = [...ctx.state.credentials.values()].filter((c) => c.userId === userId);
  const { page, pagination } = paginate(mine, parsePageQuery(ctx.query), `/v1/user/${userId}/credential-password-ip`);
  return responseBody(page.map((c) => ({ CredentialPasswordIp: credentialObject(c) })), pagination);
};

const readCredential: Handler = (ctx) => responseBody([{ CredentialPasswordIp: credentialObject(ownCredential(ctx)) }]);

/** Profile `wildcard-unlisted`: the `*` of a wildcard key is not an entry the API shows. */
function visibleEntries(ctx: HandlerContext, credential: Credential): IpEntry[] {
  if (!hasProfile(ctx.config, 'wildcard-unlisted')) return credential.entries;
  return credential.entries.filter((e) => e.ip !== '*');
}

function entryObject(ctx: HandlerContext, entry: IpEntry): Record<string, unknown> {
  return { PermittedIp: permittedIpObject(entry, !hasProfile(ctx.config, 'no-entry-ids')) };
}

const listIps: Handler = (ctx) => {
  const credential = ownCredential(ctx);
  const basePath = `/v1/user/${credential.userId}/credential-password-ip/${credential.id}/ip`;
  const { page, pagination } = paginate(visibleEntries(ctx, credential), parsePageQuery(ctx.query), basePath);
  return responseBody(page.map((e) => entryObject(ctx, e)), pagination);
};

const readIp: Handler = (ctx) => {
  const { credential, entry } = ownEntry(ctx);
  if (!visibleEntries(ctx, credential).includes(entry)) throw new EmulatorHttpError(404, TEXT.notFound('PermittedIp', entry.id));
  return responseBody([entryObject(ctx, entry)]);
};

const createIp: Handler = (ctx) => {
  const credential = ownCredential(ctx);
  // bunq's device-registration page: a standard key's IPs are fixed at creation ("You won't be able
  // to add new IP addresses later"). The key, not the request, is refused, so this comes first.
  if (hasProfile(ctx.config, 'standard-key-cannot-add-ips') && !credential.registeredWithWildcard) {
    throw new EmulatorHttpError(400, TEXT.standardKeyCannotAddIps);
  }
  const body = asObject(ctx.body);
  const ip = apiIp(body.ip);
  const status = body.status === undefined || body.status === null ? 'ACTIVE' : parseStatus(body.status);
  if (!hasProfile(ctx.config, 'duplicate-post-accepted')) {
    const existing = credential.entries.find((e) => e.ip === ip);
    if (existing !== undefined) {
      throw new EmulatorHttpError(
        400,
        `The IP address "${ip}" already has an entry on this credential (id ${existing.id}). Change the status of that entry instead.`,
      );
    }
  }
  const entry = ctx.state.addEntry(credential, ip, status);
  return responseBody([{ Id: { id: entry.id } }]);
};

const updateIp: Handler = (ctx) => {
  const { credential, entry } = ownEntry(ctx);
  if (!visibleEntries(ctx, credential).includes(entry)) throw new EmulatorHttpError(404, TEXT.notFound('PermittedIp', entry.id));
  const body = asObject(ctx.body);
  if (body.status === undefined || body.status === null) {
    throw new EmulatorHttpError(400, 'The field "status" is required.');
  }
  const status = parseStatus(body.status);
  if (body.ip !== undefined && body.ip !== entry.ip) {
    throw new EmulatorHttpError(400, 'The IP address of an entry cannot be changed. Set this entry INACTIVE and add the new address instead.');
  }
  if (entry.ip === '*') {
    throw new EmulatorHttpError(400, 'The wildcard "*" can only be managed in the bunq app.');
  }
  if (hasProfile(ctx.config, 'reactivation-refused') && entry.status === 'INACTIVE' && status === 'ACTIVE') {
    throw new EmulatorHttpError(400, 'An INACTIVE IP address cannot be made ACTIVE again. Add the address as a new entry instead.');
  }
  ctx.state.setEntryStatus(entry, status);
  return responseBody([{ Id: { id: entry.id } }]);
};

const HANDLERS: Readonly<Record<string, Handler>> = {
  [`POST ${ROUTES.installation}`]: installation,
  [`POST ${ROUTES.deviceServer}`]: deviceServer,
  [`POST ${ROUTES.sessionServer}`]: sessionServer,
  [`DELETE ${ROUTES.session}`]: deleteSession,
  [`POST ${ROUTES.sandboxUserPerson}`]: sandboxUser('UserPerson'),
  [`POST ${ROUTES.sandboxUserCompany}`]: sandboxUser('UserCompany'),
  [`GET ${ROUTES.userList}`]: listUsers,
  [`GET ${ROUTES.user}`]: readUser,
  [`GET ${ROUTES.credentialList}`]: listCredentials,
  [`GET ${ROUTES.credential}`]: readCredential,
  [`GET ${ROUTES.ipList}`]: listIps,
  [`GET ${ROUTES.ip}`]: readIp,
  [`POST ${ROUTES.ipList}`]: createIp,
  [`PUT ${ROUTES.ip}`]: updateIp,
};

export function handlerFor(method: string, route: RoutePattern): Handler | undefined {
  return HANDLERS[`${method} ${route}`];
}
