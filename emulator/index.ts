import { generateKeyPair, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../lambdas/shared/clock';
import type { PermittedIp } from '../lambdas/bunq/types';
import { resolveConfig, type EmulatorOptions, type MutableEmulatorConfig } from './config';
import { FaultInjector, type FaultRule } from './faults';
import { createIdSource } from './ids';
import { assertAppIp, EmulatorState, toPermittedIp, type EntryStatus, type UserKind } from './model';
import { RollingWindowLimiter } from './rate-limit';
import { createEmulatorServer, RealSleeper, type RequestLogEntry, type Runtime } from './server';

export { ROUTES, type RoutePattern } from './routes';
export { DEFAULT_RATE_LIMITS, type RateLimitRule } from './rate-limit';
export { EMULATOR_PROFILES, PROFILE_BEHAVIOUR, isEmulatorProfile, parseProfiles, type EmulatorProfile } from './profiles';
export type { Fault, FaultRule } from './faults';
export type { EmulatorOptions, MutableEmulatorConfig } from './config';
export type { RequestLogEntry } from './server';

export interface BunqEmulator {
  /** 'http://127.0.0.1:PORT', without /v1. */
  readonly url: string;
  readonly config: MutableEmulatorConfig;
  close(): Promise<void>;
  createUser(opts?: { kind?: UserKind; displayName?: string }): { userId: number; apiKey: string; credentialId: number };
  createApiKey(userId: number): { apiKey: string; credentialId: number };
  credentialIdForApiKey(apiKey: string): number | undefined;
  /** Oldest first; includes `*` entries. */
  listIpEntries(credentialId: number): PermittedIp[];
  /** As the bunq app would: `*` allowed, duplicates allowed, no rate limit. */
  addIpEntryAsApp(credentialId: number, ip: string, status: EntryStatus): PermittedIp;
  setIpStatusAsApp(credentialId: number, entryId: number, status: EntryStatus): void;
  replaceIpEntries(credentialId: number, entries: Array<{ ip: string; status: EntryStatus }>): PermittedIp[];
  expireSessions(): void;
  readonly faults: { add(rule: FaultRule): void; clear(): void; readonly pending: number };
  readonly requests: ReadonlyArray<RequestLogEntry>;
  clearRequestLog(): void;
}

interface ServerKey {
  privateKey: KeyObject;
  publicKeyPem: string;
}

// One RSA-2048 server key per process: generating one takes ~100 ms, and tests start many emulators.
let serverKeyPromise: Promise<ServerKey> | undefined;
function serverKey(): Promise<ServerKey> {
  serverKeyPromise ??= new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, publicKey, privateKey) => {
      if (err) reject(err);
      else resolve({ privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    });
  });
  return serverKeyPromise;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<BunqEmulator> {
  const host = options.host ?? '127.0.0.1';
  // Test API keys and a permissive API must never be reachable from another machine.
  if (!/^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/.test(host)) {
    throw new Error(`emulator host must be a loopback address, got "${host}"`);
  }
  const clock = options.clock ?? systemClock;
  const ids = createIdSource(options.seed);
  const key = await serverKey();
  const log: RequestLogEntry[] = [];
  const faults = new FaultInjector();
  const rt: Runtime = {
    state: new EmulatorState(clock, ids),
    config: resolveConfig(options),
    clock,
    ids,
    faults,
    limiter: new RollingWindowLimiter(),
    serverPrivateKey: key.privateKey,
    serverPublicKeyPem: key.publicKeyPem,
    log,
    sleeper: new RealSleeper(),
  };
  const server = createEmulatorServer(rt);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const state = rt.state;

  const entryOf = (credentialId: number, entryId: number) => {
    const entry = state.requireCredential(credentialId).entries.find((e) => e.id === entryId);
    if (entry === undefined) throw new Error(`emulator: credential ${credentialId} has no entry ${entryId}`);
    return entry;
  };

  let closed = false;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    config: rt.config,
    async close() {
      if (closed) return;
      closed = true;
      rt.sleeper.cancelAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    createUser(opts = {}) {
      const user = state.createUser(opts.kind ?? 'UserPerson', opts.displayName);
      const { apiKey, credential } = state.createApiKey(user.id);
      return { userId: user.id, apiKey, credentialId: credential.id };
    },
    createApiKey(userId) {
      const { apiKey, credential } = state.createApiKey(userId);
      return { apiKey, credentialId: credential.id };
    },
    credentialIdForApiKey: (apiKey) => state.credentialForKey(apiKey)?.id,
    listIpEntries: (credentialId) => state.requireCredential(credentialId).entries.map(toPermittedIp),
    addIpEntryAsApp(credentialId, ip, status) {
      assertAppIp(ip);
      return toPermittedIp(state.addEntry(state.requireCredential(credentialId), ip, status));
    },
    setIpStatusAsApp(credentialId, entryId, status) {
      state.setEntryStatus(entryOf(credentialId, entryId), status);
    },
    replaceIpEntries(credentialId, entries) {
      const credential = state.requireCredential(credentialId);
      state.replaceEntries(credential, entries);
      return credential.entries.map(toPermittedIp);
    },
    expireSessions: () => state.expireSessions(),
    faults: {
      add: (rule) => faults.add(rule),
      clear: () => faults.clear(),
      get pending() {
        return faults.pending;
      },
    },
    get requests() {
      return log;
    },
    clearRequestLog() {
      log.length = 0;
    },
  };
}
