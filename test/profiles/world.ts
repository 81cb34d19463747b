import { randomUUID } from 'node:crypto';
import { PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { ContextStore } from '../../lambdas/aws/context-store';
import { CredentialOwners } from '../../lambdas/aws/credential-owner';
import { DesiredStore } from '../../lambdas/aws/desired-store';
import { StateStore } from '../../lambdas/aws/state-store';
import { createContext, generateClientKeyPair, RateLimiter, type RsaKeyPairPem } from '../../lambdas/bunq';
import type { BunqContext } from '../../lambdas/bunq/types';
import type { WorkerDeps } from '../../lambdas/service/reconcile-credential';
import type { Clock } from '../../lambdas/shared/clock';
import { CollectingMetrics } from '../../cli/metrics-collector';
import type { BunqEmulator, EmulatorProfile } from '../../emulator';
import { createTable, motoClients, uniqueName, type MotoClients } from '../aws/moto-helpers';
import { RecordingLogger } from '../integration/harness';

/**
 * The pieces both paths share: DesiredIps and ReconcileState on moto (one pair per test file), and
 * per test a bunq user on an emulator playing some profiles, bootstrapped as the CLI's bootstrap
 * leaves it (context secret, config item, desired IPs) and arranged with the same starting
 * whitelist, so each profile's test starts from the same drift:
 *
 *   127.0.0.1 ACTIVE (our IP: bound at registration, protected, desired)
 *   10.0.0.1  INACTIVE, desired      → re-activate
 *   10.0.0.2  ACTIVE, not desired    → deactivate
 *   10.0.0.3  desired, not at bunq   → add
 */

export const OUR_IP = '127.0.0.1';
export const REACTIVATE = '10.0.0.1';
export const DEACTIVATE = '10.0.0.2';
export const ADD = '10.0.0.3';
export const DESIRED = [OUR_IP, REACTIVATE, ADD] as const;

/** Every profile, plus none: the matrix the suite runs under. */
export type ProfileCase = 'default' | EmulatorProfile;

export interface Tables {
  aws: MotoClients;
  desiredTable: string;
  stateTable: string;
}

export async function createTables(): Promise<Tables> {
  const aws = motoClients();
  const desiredTable = uniqueName('ProfilesDesired');
  const stateTable = uniqueName('ProfilesState');
  await Promise.all([createTable(aws.dynamo, desiredTable), createTable(aws.dynamo, stateTable, { ttlAttribute: 'ttl' })]);
  return { aws, desiredTable, stateTable };
}

export interface Seeded {
  credential: string;
  userId: number;
  credentialId: number;
  secretName: string;
  secretPrefix: string;
  context: BunqContext;
}

let keys: Promise<RsaKeyPairPem> | undefined;

/**
 * A bunq user bootstrapped against `emu` (standard key unless `wildcard`), its context stored as a
 * secret, its config (enforce, 127.0.0.1 protected) and desired IPs written, and the whitelist
 * arranged as above.
 */
export async function seedCredential(
  tables: Tables,
  emu: BunqEmulator,
  options: { clock: Clock; limiter?: RateLimiter; wildcard?: boolean; name?: string },
): Promise<Seeded> {
  const credential = options.name ?? uniqueName('profile');
  const { userId, apiKey, credentialId } = emu.createUser();
  keys ??= generateClientKeyPair();
  const context = await createContext({
    apiKey,
    environment: 'SANDBOX',
    baseUrl: emu.url,
    deviceDescription: `profiles ${credential}`,
    ...(options.wildcard === true ? { permittedIps: [OUR_IP, '*'] } : {}),
    keyPair: await keys,
    clock: options.clock,
    ...(options.limiter !== undefined ? { limiter: options.limiter } : {}),
  });
  const secretPrefix = `profiles-${randomUUID().slice(0, 6)}/`;
  const secretName = `${secretPrefix}${credential}`;
  await tables.aws.secrets.send(new CreateSecretCommand({ Name: secretName, SecretString: JSON.stringify(context) }));
  const S = (s: string): AttributeValue => ({ S: s });
  const put = (item: Record<string, AttributeValue>) =>
    tables.aws.dynamo.send(new PutItemCommand({ TableName: tables.desiredTable, Item: { credential: S(credential), ...item } }));
  await put({
    entry: S('config'),
    userId: { N: String(userId) },
    credentialPasswordIpId: { N: String(credentialId) },
    secretName: S(secretName),
    mode: S('enforce'),
    maxDeactivationsPerRun: { N: '5' },
    protectedIps: { L: [S(OUR_IP)] },
  });
  for (const ip of DESIRED) await put({ entry: S(`ip#${ip}`), ip: S(ip) });
  emu.addIpEntryAsApp(credentialId, REACTIVATE, 'INACTIVE');
  emu.addIpEntryAsApp(credentialId, DEACTIVATE, 'ACTIVE');
  return { credential, userId, credentialId, secretName, secretPrefix, context };
}

/** The worker's dependencies on moto and one emulator's clock, metrics kept instead of printed. */
export function workerDeps(tables: Tables, seeded: Seeded, clock: Clock, limiter: RateLimiter): WorkerDeps & { logger: RecordingLogger; metrics: CollectingMetrics } {
  return {
    desired: new DesiredStore(tables.aws.dynamo, tables.desiredTable),
    state: new StateStore(tables.aws.dynamo, tables.stateTable, 90),
    owners: new CredentialOwners(tables.aws.dynamo, { stateTable: tables.stateTable, desiredTable: tables.desiredTable }),
    contexts: new ContextStore(tables.aws.secrets, { secretPrefix: seeded.secretPrefix, clock }),
    metrics: new CollectingMetrics(),
    logger: new RecordingLogger(),
    clock,
    bunqOptions: { limiter, retry: { maxAttempts: 2 } },
  };
}

/** IP → statuses of its entries, oldest first, as bunq holds them (admin view: `*` included). */
export function whitelist(emu: BunqEmulator, credentialId: number): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of emu.listIpEntries(credentialId)) (out[e.ip] ??= []).push(e.status);
  return out;
}

/** Whitelist writes (POST/PUT to the IP endpoint) the emulator received. */
export function whitelistWrites(emu: BunqEmulator): Array<{ method: string; status: number }> {
  return emu.requests
    .filter((r) => (r.method === 'POST' || r.method === 'PUT') && /\/credential-password-ip\/\d+\/ip/.test(r.path))
    .map((r) => ({ method: r.method, status: r.status }));
}
