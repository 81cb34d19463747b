import type { KeyObject } from 'node:crypto';
import type { Clock } from '../lambdas/shared/clock';
import type { PermittedIp } from '../lambdas/bunq/types';
import type { IdSource } from './ids';
import { classifyIp } from './ipv4';
import { bunqTimestamp } from './wire';

/**
 * The emulator's in-memory bunq: users own API keys; each API key has exactly one
 * CredentialPasswordIp holding the PermittedIp entries; installations hold a client key; device
 * registrations bind an installation to an API key; sessions belong to an installation + API key.
 * No I/O here: the HTTP layer (server.ts) decides who may call what.
 */

export type UserKind = 'UserPerson' | 'UserCompany';
export type EntryStatus = 'ACTIVE' | 'INACTIVE';

export interface User {
  id: number;
  kind: UserKind;
  displayName: string;
  publicUuid: string;
  createdMs: number;
}

export interface IpEntry {
  id: number;
  ip: string;
  status: EntryStatus;
  createdMs: number;
  updatedMs: number;
}

export interface Credential {
  id: number;
  userId: number;
  apiKey: string;
  status: 'PENDING_FIRST_USE' | 'ACTIVE';
  createdMs: number;
  updatedMs: number;
  permittedDevice: { description: string; ip: string } | null;
  /** Whether the first device registration listed `*` (a "wildcard key" in bunq's docs). */
  registeredWithWildcard: boolean;
  entries: IpEntry[];
}

export interface Installation {
  id: number;
  token: string;
  tokenId: number;
  clientPublicKey: KeyObject;
  createdMs: number;
}

export interface DeviceServer {
  id: number;
  installationId: number;
  apiKey: string;
  description: string;
  ip: string;
  createdMs: number;
}

export interface Session {
  id: number;
  token: string;
  userId: number;
  credentialId: number;
  installationId: number;
  createdMs: number;
  timeoutSeconds: number;
  expiresAtMs: number;
}

/** How long an unused API key stays bindable; shown as expiry_time, not enforced (README). */
export const PENDING_KEY_VALIDITY_MS = 4 * 3600 * 1000;

export class EmulatorState {
  readonly users = new Map<number, User>();
  readonly credentials = new Map<number, Credential>();
  private readonly credentialByKey = new Map<string, number>();
  readonly installations = new Map<number, Installation>();
  private readonly installationByToken = new Map<string, number>();
  readonly devices = new Map<number, DeviceServer>();
  readonly sessions = new Map<number, Session>();
  private readonly sessionByToken = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly ids: IdSource,
  ) {}

  createUser(kind: UserKind = 'UserPerson', displayName?: string): User {
    const id = this.ids.nextId('user');
    const user: User = {
      id,
      kind,
      displayName: displayName ?? (kind === 'UserPerson' ? `Sandbox Person ${id}` : `Sandbox Company ${id} B.V.`),
      publicUuid: this.ids.uuid(),
      createdMs: this.clock.now(),
    };
    this.users.set(id, user);
    return user;
  }

  createApiKey(userId: number): { apiKey: string; credential: Credential } {
    if (!this.users.has(userId)) throw new Error(`emulator: no user ${userId}`);
    // Sandbox keys are "sandbox_" + hex, 64 characters in all like production keys.
    const apiKey = `sandbox_${this.ids.hex(28)}`;
    const now = this.clock.now();
    const credential: Credential = {
      id: this.ids.nextId('credential'),
      userId,
      apiKey,
      status: 'PENDING_FIRST_USE',
      createdMs: now,
      updatedMs: now,
      permittedDevice: null,
      registeredWithWildcard: false,
      entries: [],
    };
    this.credentials.set(credential.id, credential);
    this.credentialByKey.set(apiKey, credential.id);
    return { apiKey, credential };
  }

  credentialForKey(apiKey: string): Credential | undefined {
    const id = this.credentialByKey.get(apiKey);
    return id === undefined ? undefined : this.credentials.get(id);
  }

  requireCredential(credentialId: number): Credential {
    const credential = this.credentials.get(credentialId);
    if (credential === undefined) throw new Error(`emulator: no credential ${credentialId}`);
    return credential;
  }

  createInstallation(clientPublicKey: KeyObject): Installation {
    const installation: Installation = {
      id: this.ids.nextId('installation'),
      token: this.ids.hex(32),
      tokenId: this.ids.nextId('token'),
      clientPublicKey,
      createdMs: this.clock.now(),
    };
    this.installations.set(installation.id, installation);
    this.installationByToken.set(installation.token, installation.id);
    return installation;
  }

  installationForToken(token: string): Installation | undefined {
    const id = this.installationByToken.get(token);
    return id === undefined ? undefined : this.installations.get(id);
  }

  /** Whether `ip` may authenticate with this credential: an ACTIVE entry for it, or an ACTIVE `*`. */
  allows(credential: Credential, ip: string): boolean {
    return credential.entries.some((e) => e.status === 'ACTIVE' && (e.ip === ip || e.ip === '*'));
  }

  /**
   * First use of a key binds it: the credential turns ACTIVE with the given entries. Later
   * registrations (another installation, same key) leave the whitelist alone: bunq adds IPs only
   * through the PermittedIp endpoint after setup.
   */
  registerDevice(installation: Installation, credential: Credential, description: string, callerIp: string, ips: string[]): DeviceServer {
    const now = this.clock.now();
    if (credential.status === 'PENDING_FIRST_USE') {
      credential.status = 'ACTIVE';
      credential.updatedMs = now;
      credential.permittedDevice = { description, ip: callerIp };
      credential.registeredWithWildcard = ips.includes('*');
      for (const ip of ips) this.addEntry(credential, ip, 'ACTIVE');
    }
    const device: DeviceServer = {
      id: this.ids.nextId('device'),
      installationId: installation.id,
      apiKey: credential.apiKey,
      description,
      ip: callerIp,
      createdMs: now,
    };
    this.devices.set(device.id, device);
    return device;
  }

  hasDevice(installationId: number, apiKey: string): boolean {
    for (const d of this.devices.values()) if (d.installationId === installationId && d.apiKey === apiKey) return true;
    return false;
  }

  createSession(installation: Installation, credential: Credential, timeoutSeconds: number): Session {
    const now = this.clock.now();
    const session: Session = {
      id: this.ids.nextId('session'),
      token: this.ids.hex(32),
      userId: credential.userId,
      credentialId: credential.id,
      installationId: installation.id,
      createdMs: now,
      timeoutSeconds,
      expiresAtMs: now + timeoutSeconds * 1000,
    };
    this.sessions.set(session.id, session);
    this.sessionByToken.set(session.token, session.id);
    return session;
  }

  /** The live session for a token; expired sessions are forgotten on sight. */
  liveSession(token: string): Session | undefined {
    const id = this.sessionByToken.get(token);
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (session === undefined) return undefined;
    if (this.clock.now() >= session.expiresAtMs) {
      this.deleteSession(session);
      return undefined;
    }
    return session;
  }

  deleteSession(session: Session): void {
    this.sessions.delete(session.id);
    this.sessionByToken.delete(session.token);
  }

  expireSessions(): void {
    this.sessions.clear();
    this.sessionByToken.clear();
  }

  addEntry(credential: Credential, ip: string, status: EntryStatus): IpEntry {
    const now = this.clock.now();
    const entry: IpEntry = { id: this.ids.nextId('permittedIp'), ip, status, createdMs: now, updatedMs: now };
    credential.entries.push(entry);
    return entry;
  }

  setEntryStatus(entry: IpEntry, status: EntryStatus): void {
    if (entry.status === status) return;
    entry.status = status;
    entry.updatedMs = this.clock.now();
  }

  replaceEntries(credential: Credential, entries: Array<{ ip: string; status: EntryStatus }>): void {
    for (const e of entries) assertAppIp(e.ip);
    credential.entries = [];
    for (const e of entries) this.addEntry(credential, e.ip, e.status);
  }
}

/** The bunq app may whitelist any IPv4 address or `*`; anything else is a test bug. */
export function assertAppIp(ip: string): void {
  const kind = classifyIp(ip);
  if (kind !== 'ipv4' && kind !== 'wildcard') throw new Error(`emulator: "${ip}" is neither an IPv4 address nor "*"`);
}

export function toPermittedIp(entry: IpEntry): PermittedIp {
  return {
    id: entry.id,
    ip: entry.ip,
    status: entry.status,
    created: bunqTimestamp(entry.createdMs),
    updated: bunqTimestamp(entry.updatedMs),
  };
}
