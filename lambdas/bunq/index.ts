/** The bunq client's public surface. */
export { BunqClient, DEFAULT_SESSION_REFRESH_MARGIN_MS, MAX_PAGES, PAGE_SIZE, type BunqClientOptions } from './client';
export { createContext, type CreateContextOptions } from './bootstrap';
export { createSandboxUser, type SandboxUserOptions } from './sandbox-user';
export { rawExchange, type RawExchange, type RawExchangeSpec, type ReplySignature } from './raw-exchange';
export { whitelistPort, toActualEntry } from './whitelist-port';
export { BunqError, isBunqError, metricNameFor, type BunqErrorKind, type BunqErrorDetails } from './errors';
export { RateLimiter, CLASSIC_RATE_LIMITS, type RateLimitRule, type RateLimiterOptions } from './rate-limiter';
export { DEFAULT_RETRY, type RetryOptions } from './retry-policy';
export { silentLogger, type Logger } from '../shared/logger';
export { nodeTransport, TransportError, type Transport, type HttpRequest, type HttpResponse, type HttpMethod } from './transport';
export { generateClientKeyPair, signBody, verifyBody, type RsaKeyPairPem } from './signing';
export type { BunqStats } from './api-call';
export type { CallOptions } from './call-environment';
export * from './types';
