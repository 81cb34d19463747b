/**
 * The few parts of @bunq-community/bunq-js-client@1.1.2 the comparison bundle uses. The package is
 * installed at bench time into bench/.tmp/jsclient (never a project dependency), so its own types
 * are not visible to tsc; these declarations describe what jsclient-bunq.ts calls.
 */
declare module '@bunq-community/bunq-js-client' {
  interface JsStorage {
    get(key: string): unknown;
    set(key: string, value: unknown): void;
    remove(key: string): void;
  }
  interface JsLogger {
    log(value: unknown): void;
    info(value: unknown): void;
    error(value: unknown): void;
    debug(value: unknown): void;
    trace(value: unknown): void;
    warn(value: unknown): void;
  }
  interface JsSession {
    environmentUrl: string;
    installToken: string | null;
    sessionToken: string | null;
    sessionId: number | null;
    sessionExpiryTime: Date | null;
    sessionTimeout: number;
    privateKey: unknown;
    publicKey: unknown;
    serverPublicKey: unknown;
  }
  interface JsIpApi {
    list(userId: number, credentialId: number, options?: { count?: number }): Promise<unknown[]>;
    post(userId: number, credentialId: number, ip: string, status: 'ACTIVE' | 'INACTIVE'): Promise<unknown[]>;
    put(userId: number, credentialId: number, ipId: number, ip: string, status: 'ACTIVE' | 'INACTIVE'): Promise<unknown[]>;
  }
  export default class BunqJSClient {
    constructor(storage: JsStorage, logger: JsLogger);
    Session: JsSession;
    api: { ip: JsIpApi };
  }
}

declare module '@bunq-community/bunq-js-client/dist/Crypto/Rsa' {
  export function privateKeyFromPem(pem: string): Promise<unknown>;
  export function publicKeyFromPem(pem: string): Promise<unknown>;
}
