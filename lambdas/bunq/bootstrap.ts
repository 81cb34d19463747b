/**
 * Creates a BunqContext from an API key: installation → device-server → session-server
 * (bunq-api.md §4). Run once per credential by the operator (the CLI's bootstrap); the reconciler
 * never redoes installation or device registration by itself.
 */
import { createPublicKey } from 'node:crypto';
import { callBunq, malformed, type CallEnvironment } from './api-call';
import { makeCallEnvironment, resolveBaseUrl, type CallOptions } from './call-environment';
import { isCanonicalIpv4 } from '../shared/validate-ip';
import { openSession } from './session-server';
import { EnvelopeError, idReply, installationReply, type InstallationReply } from './envelope';
import { generateClientKeyPair, keyPairMatches, type RsaKeyPairPem } from './signing';
import type { BunqContext, BunqEnvironment } from './types';

export interface CreateContextOptions extends CallOptions {
  apiKey: string;
  environment: BunqEnvironment;
  /** Overrides the environment's URL (the emulator); no trailing slash, no /v1. */
  baseUrl?: string;
  /** IPs bound at device registration; bunq binds the calling IP when omitted. `*` = wildcard key. */
  permittedIps?: readonly string[];
  /** Shown in the bunq app's device list; also bunq's CredentialPasswordIp permitted_device.description. */
  deviceDescription: string;
  /** Use this key pair instead of generating one (tests; a pre-provisioned key). */
  keyPair?: RsaKeyPairPem;
}

export async function createContext(options: CreateContextOptions): Promise<BunqContext> {
  validateOptions(options);
  const baseUrl = resolveBaseUrl(options.environment, options.baseUrl);
  const keys = options.keyPair ?? (await generateClientKeyPair());
  if (!keyPairMatches(keys.privateKeyPem, keys.publicKeyPem)) {
    throw new Error('createContext: keyPair.privateKeyPem and keyPair.publicKeyPem do not form a valid RSA pair');
  }
  const secrets = new Set<string>([options.apiKey, keys.privateKeyPem]);
  const env = makeCallEnvironment(baseUrl, options, () => [...secrets]);

  const installation = await install(env, keys.publicKeyPem);
  secrets.add(installation.token);
  const signed = {
    token: installation.token,
    privateKeyPem: keys.privateKeyPem,
    serverPublicKeyPem: installation.serverPublicKeyPem,
  };

  const devicePath = '/v1/device-server';
  const deviceBody: Record<string, unknown> = { description: options.deviceDescription, secret: options.apiKey };
  if (options.permittedIps !== undefined) deviceBody.permitted_ips = [...options.permittedIps];
  const device = await callBunq(env, {
    method: 'POST', path: devicePath, route: devicePath, body: deviceBody, ...signed,
    // A second registration of the same key is not harmless: report, let the operator decide.
    repeatable: false,
  });
  let deviceServerId: number;
  try {
    deviceServerId = idReply(device.items);
  } catch (err) {
    throw malformed(err, `POST ${devicePath}`, device.requestId, device.status, device.responseId);
  }

  const opened = await openSession(
    env,
    { apiKey: options.apiKey, installationToken: installation.token, clientPrivateKeyPem: keys.privateKeyPem, serverPublicKeyPem: installation.serverPublicKeyPem },
    env.clock.now(),
  );
  env.logger.info('bunq context created', {
    installationId: installation.id, deviceServerId, userId: opened.userId, sessionId: opened.session.id,
  });
  const context: BunqContext = {
    version: 1,
    environment: options.environment,
    apiKey: options.apiKey,
    clientPrivateKeyPem: keys.privateKeyPem,
    clientPublicKeyPem: keys.publicKeyPem,
    installationId: installation.id,
    installationToken: installation.token,
    serverPublicKeyPem: installation.serverPublicKeyPem,
    deviceServerId,
    userId: opened.userId,
    session: opened.session,
  };
  if (options.baseUrl !== undefined) context.baseUrl = baseUrl;
  return context;
}

async function install(env: CallEnvironment, publicKeyPem: string): Promise<InstallationReply> {
  const path = '/v1/installation';
  // Unsigned and unverified: neither side knows the other's key yet. A repeat only leaves an
  // unused installation behind.
  const res = await callBunq(env, { method: 'POST', path, route: path, body: { client_public_key: publicKeyPem }, repeatable: true });
  let reply: InstallationReply;
  try {
    reply = installationReply(res.items);
    createPublicKey(reply.serverPublicKeyPem);
  } catch (err) {
    const cause = err instanceof EnvelopeError ? err : new EnvelopeError('ServerPublicKey.server_public_key does not parse');
    throw malformed(cause, `POST ${path}`, res.requestId, res.status, res.responseId);
  }
  return reply;
}

function validateOptions(options: CreateContextOptions): void {
  const fail = (what: string): never => {
    throw new Error(`createContext: ${what}`);
  };
  if (typeof options.apiKey !== 'string' || options.apiKey.trim().length === 0) fail('apiKey is required');
  if (/\s/.test(options.apiKey)) fail('apiKey must not contain whitespace');
  if (typeof options.deviceDescription !== 'string' || options.deviceDescription.trim().length === 0) {
    fail('deviceDescription is required');
  }
  if (options.permittedIps !== undefined) {
    if (!Array.isArray(options.permittedIps)) fail('permittedIps must be an array');
    for (const ip of options.permittedIps) {
      if (ip !== '*' && !(typeof ip === 'string' && isCanonicalIpv4(ip))) {
        fail(`permittedIps entry ${JSON.stringify(ip)} is neither a dotted-quad IPv4 address nor "*"`);
      }
    }
  }
}
