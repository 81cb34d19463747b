/**
 * A bunq emulator with one bootstrapped credential, as the CLI's bootstrap leaves it: the API
 * context (installation, device, session) exists and the caller's own IP is ACTIVE on the
 * credential. Each benchmark scenario gets a fresh one, so no rate-limit window or entry carries
 * over from the previous scenario.
 */
import { ROUTES, startEmulator, type BunqEmulator, type EmulatorOptions } from '../../emulator';
import { createContext, generateClientKeyPair, type RateLimiter, type RsaKeyPairPem } from '../../lambdas/bunq';
import type { BunqContext } from '../../lambdas/bunq/types';
import type { Clock } from '../../lambdas/shared/clock';

/** The address our loopback connections come from: bunq sees it as the reconciler's egress IP. */
export const OWN_IP = '127.0.0.1';

export interface BunqWorld {
  emulator: BunqEmulator;
  userId: number;
  credentialId: number;
  context: BunqContext;
  close(): Promise<void>;
}

let keys: Promise<RsaKeyPairPem> | undefined;

/** One RSA key pair for every bench credential: generating one costs ~100 ms and is not what we measure. */
export function benchKeyPair(): Promise<RsaKeyPairPem> {
  keys ??= generateClientKeyPair();
  return keys;
}

export async function bunqWorld(options: EmulatorOptions & { clock: Clock; limiter?: RateLimiter }): Promise<BunqWorld> {
  const { limiter, ...emulatorOptions } = options;
  const emulator = await startEmulator(emulatorOptions);
  try {
    const { userId, apiKey, credentialId } = emulator.createUser();
    const context = await createContext({
      apiKey,
      environment: 'SANDBOX',
      baseUrl: emulator.url,
      deviceDescription: 'bunq-ip-reconciler bench',
      keyPair: await benchKeyPair(),
      clock: options.clock,
      ...(limiter !== undefined ? { limiter } : {}),
    });
    return { emulator, userId, credentialId, context, close: () => emulator.close() };
  } catch (err) {
    await emulator.close();
    throw err;
  }
}

/** Requests the emulator answered on the credential's whitelist endpoints (reads = GET, writes = POST/PUT). */
export function whitelistCalls(emulator: BunqEmulator): { reads: number; writes: number; rateLimited: number } {
  const calls = emulator.requests.filter((r) => r.route === ROUTES.ipList || r.route === ROUTES.ip);
  return {
    reads: calls.filter((r) => r.method === 'GET').length,
    writes: calls.filter((r) => r.method === 'POST' || r.method === 'PUT').length,
    rateLimited: emulator.requests.filter((r) => r.status === 429).length,
  };
}
