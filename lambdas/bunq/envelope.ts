/**
 * Pure parsing of bunq's reply envelopes (bunq-api.md §5) into our types. Nothing is trusted: every
 * field read is checked, and a reply of the wrong shape throws EnvelopeError, which the client
 * reports as `malformed-reply`. Messages name the path of the bad field, never its value (a token
 * could be in it).
 */
import { NO_PERMITTED_IP_ID, type BunqUser, type CredentialPasswordIp, type PermittedIpAsRead } from './types';

export class EnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeError';
  }
}

export type JsonObject = Record<string, unknown>;

/** One element of `Response`: the object type (its single key) and the object. */
export interface ResponseItem {
  type: string;
  value: JsonObject;
}

export interface Pagination {
  olderUrl: string | null;
  newerUrl: string | null;
  futureUrl: string | null;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(body).toString('utf8')) as unknown;
  } catch {
    throw new EnvelopeError('reply body is not JSON');
  }
}

/** The `Response` array of a success reply, each element unwrapped to its type and object. */
export function responseItems(json: unknown): ResponseItem[] {
  if (!isObject(json)) throw new EnvelopeError('reply is not a JSON object');
  const response = json.Response;
  if (!Array.isArray(response)) throw new EnvelopeError('reply has no Response array');
  return response.map((element: unknown, index) => {
    if (!isObject(element)) throw new EnvelopeError(`Response[${index}] is not an object`);
    const keys = Object.keys(element);
    const type = keys[0];
    if (keys.length !== 1 || type === undefined) {
      throw new EnvelopeError(`Response[${index}] must have exactly one object type key`);
    }
    const value = element[type];
    if (!isObject(value)) throw new EnvelopeError(`Response[${index}].${type} is not an object`);
    return { type, value };
  });
}

/**
 * bunq's `error_description` texts from an Error envelope. Lenient on purpose: an error reply that
 * is not an envelope (a proxy's HTML page) still has a status worth reporting, so this returns []
 * instead of throwing.
 */
export function errorDescriptions(body: Uint8Array): string[] {
  let json: unknown;
  try {
    json = parseJson(body);
  } catch {
    return [];
  }
  if (!isObject(json) || !Array.isArray(json.Error)) return [];
  const out: string[] = [];
  for (const entry of json.Error) {
    if (isObject(entry) && typeof entry.error_description === 'string') out.push(entry.error_description);
  }
  return out;
}

export function pagination(json: unknown): Pagination {
  if (!isObject(json) || !isObject(json.Pagination)) throw new EnvelopeError('list reply has no Pagination object');
  const p = json.Pagination;
  return {
    olderUrl: nullableString(p, 'older_url', 'Pagination'),
    newerUrl: nullableString(p, 'newer_url', 'Pagination'),
    futureUrl: nullableString(p, 'future_url', 'Pagination'),
  };
}

/** The single object of type `type` among the items; exactly one must be present. */
export function single(items: readonly ResponseItem[], type: string): JsonObject {
  const found = items.filter((i) => i.type === type);
  const first = found[0];
  if (found.length !== 1 || first === undefined) {
    throw new EnvelopeError(`expected exactly one ${type} in Response, found ${found.length}`);
  }
  return first.value;
}

/** All objects of the list, which must all be of `type`. */
export function allOfType(items: readonly ResponseItem[], type: string): JsonObject[] {
  return items.map((item, index) => {
    if (item.type !== type) throw new EnvelopeError(`Response[${index}] is ${item.type}, expected ${type}`);
    return item.value;
  });
}

/** The `{"Id":{"id":N}}` reply of POST and PUT. */
export function idReply(items: readonly ResponseItem[]): number {
  return positiveInt(single(items, 'Id'), 'id', 'Id');
}

export interface InstallationReply {
  id: number;
  token: string;
  serverPublicKeyPem: string;
}

export function installationReply(items: readonly ResponseItem[]): InstallationReply {
  const serverKey = nonEmptyString(single(items, 'ServerPublicKey'), 'server_public_key', 'ServerPublicKey');
  if (!serverKey.includes('-----BEGIN PUBLIC KEY-----')) {
    throw new EnvelopeError('ServerPublicKey.server_public_key is not an SPKI PEM');
  }
  return {
    id: positiveInt(single(items, 'Id'), 'id', 'Id'),
    token: nonEmptyString(single(items, 'Token'), 'token', 'Token'),
    serverPublicKeyPem: serverKey,
  };
}

export interface SessionServerReply {
  id: number;
  token: string;
  user: BunqUser;
}

const USER_TYPES = ['UserPerson', 'UserCompany', 'UserApiKey', 'UserPaymentServiceProvider'] as const;
type UserType = (typeof USER_TYPES)[number];

function isUserType(type: string): type is UserType {
  return (USER_TYPES as readonly string[]).includes(type);
}

export function sessionServerReply(items: readonly ResponseItem[]): SessionServerReply {
  return {
    id: positiveInt(single(items, 'Id'), 'id', 'Id'),
    token: nonEmptyString(single(items, 'Token'), 'token', 'Token'),
    user: userFromItems(items),
  };
}

/** The one user object of a session-server or GET /user/{id} reply. */
export function userFromItems(items: readonly ResponseItem[]): BunqUser {
  const users = items.filter((i) => isUserType(i.type));
  const first = users[0];
  if (users.length !== 1 || first === undefined || !isUserType(first.type)) {
    throw new EnvelopeError(`expected exactly one user object in Response, found ${users.length}`);
  }
  return user(first.type, first.value);
}

function user(kind: UserType, value: JsonObject): BunqUser {
  const id = positiveInt(value, 'id', kind);
  if (kind !== 'UserApiKey') {
    return {
      kind,
      id,
      displayName: optionalString(value, 'display_name', kind),
      sessionTimeoutSeconds: positiveInt(value, 'session_timeout', kind),
    };
  }
  // An API key user carries the timeout on the user it acts for (bunq-api.md §4.4).
  const requested = value.requested_by_user;
  if (!isObject(requested)) throw new EnvelopeError('UserApiKey.requested_by_user is not an object');
  const inner = Object.entries(requested).filter(([k]) => isUserType(k) && k !== 'UserApiKey');
  const entry = inner[0];
  if (inner.length !== 1 || entry === undefined || !isObject(entry[1])) {
    throw new EnvelopeError('UserApiKey.requested_by_user must hold exactly one user object');
  }
  const path = `UserApiKey.requested_by_user.${entry[0]}`;
  return {
    kind,
    id,
    displayName: optionalString(entry[1], 'display_name', path),
    sessionTimeoutSeconds: positiveInt(entry[1], 'session_timeout', path),
  };
}

/**
 * One whitelist entry, read leniently: a list is only useful whole, so one odd entry must not make
 * it unreadable. A field we cannot use is reported as such (id NO_PERMITTED_IP_ID, ip '', status as
 * given, times null) and the core classifies the entry as unrecognised, which it never changes.
 * Only the envelope around the entries (Response, object type, Pagination) is strict.
 */
export function permittedIp(value: JsonObject): PermittedIpAsRead {
  const id = value.id;
  const ip = value.ip;
  const status = value.status;
  return {
    id: typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : NO_PERMITTED_IP_ID,
    ip: typeof ip === 'string' ? ip : '',
    status: typeof status === 'string' ? status : '',
    created: lenientString(value.created),
    updated: lenientString(value.updated),
  };
}

function lenientString(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

export function credentialPasswordIp(value: JsonObject): CredentialPasswordIp {
  const device = value.permitted_device;
  let permittedDevice: CredentialPasswordIp['permittedDevice'] = null;
  if (isObject(device)) {
    permittedDevice = {
      description: optionalString(device, 'description', 'CredentialPasswordIp.permitted_device'),
      ip: optionalString(device, 'ip', 'CredentialPasswordIp.permitted_device'),
    };
  } else if (device !== undefined && device !== null) {
    throw new EnvelopeError('CredentialPasswordIp.permitted_device is not an object');
  }
  // token_value is deliberately not read: it is a secret (a PSD2 API key) we never need.
  return {
    id: positiveInt(value, 'id', 'CredentialPasswordIp'),
    created: optionalString(value, 'created', 'CredentialPasswordIp'),
    updated: optionalString(value, 'updated', 'CredentialPasswordIp'),
    status: nonEmptyString(value, 'status', 'CredentialPasswordIp'),
    expiryTime: optionalString(value, 'expiry_time', 'CredentialPasswordIp'),
    permittedDevice,
  };
}

function positiveInt(obj: JsonObject, key: string, path: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new EnvelopeError(`${path}.${key} is not a positive integer`);
  }
  return v;
}

function nonEmptyString(obj: JsonObject, key: string, path: string): string {
  const v = obj[key];
  if (typeof v !== 'string' || v.length === 0) throw new EnvelopeError(`${path}.${key} is not a non-empty string`);
  return v;
}

/** A string field that bunq may send as null or leave out. */
function optionalString(obj: JsonObject, key: string, path: string): string | null {
  const v = obj[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new EnvelopeError(`${path}.${key} is not a string`);
  return v;
}

function nullableString(obj: JsonObject, key: string, path: string): string | null {
  const v = obj[key];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new EnvelopeError(`${path}.${key} is neither a string nor null`);
  return v;
}
