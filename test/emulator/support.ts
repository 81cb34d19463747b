import { generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';

/**
 * Raw HTTP against the emulator: node:http with a fresh connection per call (so `localAddress`
 * picks the source IP) and node:crypto for signing. Deliberately independent of lambdas/bunq.
 */

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json(): unknown;
}

export interface PaginationBlock {
  future_url: string | null;
  newer_url: string | null;
  older_url: string | null;
}

export interface Envelope {
  Response: Array<Record<string, Record<string, unknown>>>;
  Pagination?: PaginationBlock;
}

export interface ErrorEnvelope {
  Error: Array<{ error_description: string; error_description_translated: string; error_additional_parameter?: unknown[] }>;
}

export function envelope(res: RawResponse): Envelope {
  const v = res.json();
  if (typeof v !== 'object' || v === null || !Array.isArray((v as { Response?: unknown }).Response)) {
    throw new Error(`not a Response envelope (${res.status}): ${res.text}`);
  }
  return v as Envelope;
}

/** The object of type `type` at position `index` of the Response array. */
export function item(res: RawResponse, index: number, type: string): Record<string, unknown> {
  const value = envelope(res).Response[index]?.[type];
  if (value === undefined) throw new Error(`no ${type} at Response[${index}]: ${res.text}`);
  return value;
}

/** All objects of the Response array, unwrapped from their type key. */
export function items(res: RawResponse, type: string): Array<Record<string, unknown>> {
  return envelope(res).Response.map((_, i) => item(res, i, type));
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string | undefined>;
  body?: string | Buffer;
  localAddress?: string;
  timeoutMs?: number;
}

export const STANDARD_HEADERS: Readonly<Record<string, string>> = {
  'User-Agent': 'emulator-test/1.0',
  'Cache-Control': 'no-cache',
};

export function rawRequest(baseUrl: string, r: RawRequest): Promise<RawResponse> {
  const url = new URL(r.path, baseUrl);
  const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, 'utf8');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers ?? STANDARD_HEADERS)) if (v !== undefined) headers[k] = v;
  if (body !== undefined) headers['Content-Length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method: r.method, headers, agent: false, localAddress: r.localAddress },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          const text = buf.toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (r.timeoutMs !== undefined) {
      req.setTimeout(r.timeoutMs, () => req.destroy(new Error('client timeout')));
    }
    req.end(body);
  });
}

let cachedKeys: { privateKey: KeyObject; publicKeyPem: string } | undefined;
/** One client key pair for all tests in a file: RSA generation is the slow part of a context. */
export function clientKeys(): { privateKey: KeyObject; publicKeyPem: string } {
  if (cachedKeys === undefined) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    cachedKeys = { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
  }
  return cachedKeys;
}

export function signBody(body: string | Buffer, key: KeyObject = clientKeys().privateKey): string {
  return sign('sha256', Buffer.isBuffer(body) ? body : Buffer.from(body), key).toString('base64');
}

export function serverSignatureValid(res: RawResponse, serverPublicKeyPem: string): boolean {
  const sig = res.headers['x-bunq-server-signature'];
  if (typeof sig !== 'string') return false;
  return verify('sha256', res.body, serverPublicKeyPem, Buffer.from(sig, 'base64'));
}

export interface Context {
  installationToken: string;
  serverPublicKeyPem: string;
  sessionToken: string;
  sessionId: number;
  userId: number;
}

/** A minimal bunq caller: what each test needs to reach the endpoints under test. */
export class RawBunqCaller {
  installationToken = '';
  serverPublicKeyPem = '';
  sessionToken = '';
  sessionId = 0;
  userId = 0;

  constructor(
    readonly baseUrl: string,
    readonly localAddress?: string,
  ) {}

  send(method: string, path: string, opts: { token?: string; body?: unknown; sign?: boolean; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<RawResponse> {
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    const headers: Record<string, string> = { ...STANDARD_HEADERS, 'X-Bunq-Client-Request-Id': randomUUID(), ...opts.headers };
    if (opts.token !== undefined) headers['X-Bunq-Client-Authentication'] = opts.token;
    if (opts.sign === true) headers['X-Bunq-Client-Signature'] = signBody(body ?? '');
    return rawRequest(this.baseUrl, { method, path, headers, ...(body === undefined ? {} : { body }), ...(this.localAddress ? { localAddress: this.localAddress } : {}), ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }) });
  }

  async install(): Promise<RawResponse> {
    const res = await this.send('POST', '/v1/installation', { body: { client_public_key: clientKeys().publicKeyPem } });
    if (res.status === 200) {
      this.installationToken = String(item(res, 1, 'Token').token);
      this.serverPublicKeyPem = String(item(res, 2, 'ServerPublicKey').server_public_key);
    }
    return res;
  }

  registerDevice(apiKey: string, permittedIps?: string[]): Promise<RawResponse> {
    const body: Record<string, unknown> = { description: 'emulator test', secret: apiKey };
    if (permittedIps !== undefined) body.permitted_ips = permittedIps;
    return this.send('POST', '/v1/device-server', { token: this.installationToken, body, sign: true });
  }

  async startSession(apiKey: string): Promise<RawResponse> {
    const res = await this.send('POST', '/v1/session-server', { token: this.installationToken, body: { secret: apiKey }, sign: true });
    if (res.status === 200) {
      const user = envelope(res).Response[2] ?? {};
      this.sessionId = Number(item(res, 0, 'Id').id);
      this.sessionToken = String(item(res, 1, 'Token').token);
      this.userId = Number((user.UserPerson ?? user.UserCompany)?.id);
    }
    return res;
  }

  /** installation + device-server + session-server, asserting each step worked. */
  async connect(apiKey: string, permittedIps?: string[]): Promise<this> {
    for (const [step, res] of [
      ['installation', await this.install()],
      ['device-server', await this.registerDevice(apiKey, permittedIps)],
      ['session-server', await this.startSession(apiKey)],
    ] as const) {
      if (res.status !== 200) throw new Error(`${step} failed: ${res.status} ${res.text}`);
    }
    return this;
  }

  get(path: string): Promise<RawResponse> {
    return this.send('GET', path, { token: this.sessionToken });
  }

  post(path: string, body: unknown): Promise<RawResponse> {
    return this.send('POST', path, { token: this.sessionToken, body });
  }

  put(path: string, body: unknown): Promise<RawResponse> {
    return this.send('PUT', path, { token: this.sessionToken, body });
  }

  ipPath(credentialId: number, entryId?: number): string {
    return `/v1/user/${this.userId}/credential-password-ip/${credentialId}/ip${entryId === undefined ? '' : `/${entryId}`}`;
  }
}

export function errorText(res: RawResponse): string {
  const v = res.json() as ErrorEnvelope;
  const first = v.Error?.[0];
  if (first === undefined) throw new Error(`not an Error envelope (${res.status}): ${res.text}`);
  return first.error_description;
}
