/**
 * Test harness for the bunq client against the real emulator (emulator/index.ts): one emulator per
 * test, a context bootstrapped through our own createContext, and a logger that keeps every line.
 */
import { startEmulator, type BunqEmulator, type EmulatorOptions } from '../../emulator/index';
import { ManualClock } from '../support/manual-clock';
import { createContext } from '../../lambdas/bunq/bootstrap';
import { BunqClient, type BunqClientOptions } from '../../lambdas/bunq/client';
import type { Logger } from '../../lambdas/shared/logger';
import { generateClientKeyPair, type RsaKeyPairPem } from '../../lambdas/bunq/signing';
import type { BunqContext } from '../../lambdas/bunq/types';
import { nodeTransport, type HttpRequest, type Transport } from '../../lambdas/bunq/transport';

export const HOME_IP = '127.0.0.2';

let keyPairPromise: Promise<RsaKeyPairPem> | undefined;
/** One client key pair per test file: RSA generation is the slow part of a bootstrap. */
export function sharedKeyPair(): Promise<RsaKeyPairPem> {
  keyPairPromise ??= generateClientKeyPair();
  return keyPairPromise;
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  attributes?: Record<string, unknown>;
}

export class CapturingLogger implements Logger {
  readonly lines: LogLine[] = [];
  debug(message: string, attributes?: Record<string, unknown>): void {
    this.lines.push({ level: 'debug', message, ...(attributes ? { attributes } : {}) });
  }
  info(message: string, attributes?: Record<string, unknown>): void {
    this.lines.push({ level: 'info', message, ...(attributes ? { attributes } : {}) });
  }
  warn(message: string, attributes?: Record<string, unknown>): void {
    this.lines.push({ level: 'warn', message, ...(attributes ? { attributes } : {}) });
  }
  error(message: string, attributes?: Record<string, unknown>): void {
    this.lines.push({ level: 'error', message, ...(attributes ? { attributes } : {}) });
  }
  text(): string {
    return this.lines.map((l) => JSON.stringify(l)).join('\n');
  }
}

/** The real node transport, with every request it sends recorded (headers and body included). */
export function recordingTransport(): { transport: Transport; sent: HttpRequest[] } {
  const inner = nodeTransport();
  const sent: HttpRequest[] = [];
  return {
    sent,
    transport: (request) => {
      sent.push(request);
      return inner(request);
    },
  };
}

export interface Harness {
  emu: BunqEmulator;
  clock: ManualClock;
  userId: number;
  apiKey: string;
  credentialId: number;
  context: BunqContext;
  logger: CapturingLogger;
  refreshed: BunqContext[];
  /** A client on the bootstrapped context, from HOME_IP, sharing the harness clock and logger. */
  client(options?: Partial<BunqClientOptions>): BunqClient;
}

export interface HarnessOptions {
  emulator?: EmulatorOptions;
  /** Default true: a ManualClock shared by emulator and client. */
  manualClock?: boolean;
}

/** Fast retries for tests: backoff sleeps on the ManualClock anyway, but keep totals small. */
export const FAST_RETRY = { baseDelayMs: 10, rateLimitedDelayMs: 3000, maxDelayMs: 10_000, maxAttempts: 3 };

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const clock = new ManualClock();
  const emu = await startEmulator({ clock, ...options.emulator });
  const { userId, apiKey, credentialId } = emu.createUser({ displayName: 'Ada Lovelace' });
  const logger = new CapturingLogger();
  const context = await createContext({
    apiKey,
    environment: 'SANDBOX',
    baseUrl: emu.url,
    deviceDescription: 'reconciler test',
    keyPair: await sharedKeyPair(),
    localAddress: HOME_IP,
    clock,
    logger,
  });
  const refreshed: BunqContext[] = [];
  return {
    emu, clock, userId, apiKey, credentialId, context, logger, refreshed,
    client: (o = {}) =>
      new BunqClient({
        context,
        clock,
        logger,
        localAddress: HOME_IP,
        retry: FAST_RETRY,
        random: () => 0.5,
        onSessionRefreshed: (ctx) => {
          refreshed.push(ctx);
        },
        ...o,
      }),
  };
}

export async function catchError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}
