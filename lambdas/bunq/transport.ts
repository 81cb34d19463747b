/**
 * One HTTP exchange over node:http / node:https, nothing bunq-specific. It keeps the raw reply
 * bytes (the server signature covers them exactly) and says whether a failure happened before any
 * byte of the request could have reached the server, which decides whether a POST may be retried.
 */
import * as http from 'node:http';
import * as https from 'node:https';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  url: string;
  /** Header names as given; values are sent verbatim. */
  headers: Readonly<Record<string, string>>;
  body?: Buffer;
  /** Whole-exchange deadline in milliseconds (connect + send + full reply). */
  timeoutMs: number;
  /** Source address for the connection (tests act as different caller IPs: 127.0.0.2, …). */
  localAddress?: string;
}

export interface HttpResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Readonly<Record<string, string>>;
  body: Buffer;
}

/**
 * `not-sent`: the connection was never established, so the server cannot have seen the request.
 * `sent`: the connection was up; the server may have received and applied the request.
 */
export type TransportPhase = 'not-sent' | 'sent';

export class TransportError extends Error {
  constructor(
    message: string,
    /** `TIMEOUT`, `RESPONSE_TOO_LARGE`, or the socket error code (ECONNREFUSED, ECONNRESET, …). */
    readonly code: string,
    readonly phase: TransportPhase,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

export interface NodeTransportOptions {
  /** Replies larger than this are refused; bunq pages of 200 entries are a few tens of kB. */
  maxResponseBytes?: number;
}

const DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024;

/**
 * A Transport that opens a fresh connection per request (`agent: false`): no shared pool, no state
 * between calls, and never the ambiguity of a request written onto a stale keep-alive socket.
 */
export function nodeTransport(options: NodeTransportOptions = {}): Transport {
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  return (request) => send(request, maxBytes);
}

function send(request: HttpRequest, maxBytes: number): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      reject(new TransportError('invalid request URL', 'INVALID_URL', 'not-sent'));
      return;
    }
    const isHttps = url.protocol === 'https:';
    if (!isHttps && url.protocol !== 'http:') {
      reject(new TransportError(`unsupported protocol ${url.protocol}`, 'INVALID_URL', 'not-sent'));
      return;
    }
    const headers: Record<string, string> = { ...request.headers };
    if (request.body !== undefined) headers['Content-Length'] = String(request.body.length);

    let connected = false;
    let settled = false;
    const phase = (): TransportPhase => (connected ? 'sent' : 'not-sent');
    const fail = (err: TransportError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(err);
    };

    const requestOptions: https.RequestOptions = {
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? undefined : Number(url.port),
      path: url.pathname + url.search,
      headers,
      agent: false,
      ...(request.localAddress !== undefined ? { localAddress: request.localAddress } : {}),
    };
    const req = isHttps ? https.request(requestOptions) : http.request(requestOptions);

    const timer = setTimeout(() => {
      const err = new TransportError(`no complete reply within ${request.timeoutMs} ms`, 'TIMEOUT', phase());
      fail(err);
      req.destroy(err);
    }, request.timeoutMs);

    req.on('socket', (socket) => {
      // A TLS request leaves the machine only after the handshake; plain HTTP right after connect.
      if (!socket.connecting) connected = true;
      socket.once(isHttps ? 'secureConnect' : 'connect', () => {
        connected = true;
      });
    });

    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof TransportError) {
        fail(err);
        return;
      }
      fail(new TransportError(err.message, err.code ?? 'ERROR', phase()));
    });

    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          const err = new TransportError(`reply larger than ${maxBytes} bytes`, 'RESPONSE_TOO_LARGE', 'sent');
          fail(err);
          req.destroy(err);
          return;
        }
        chunks.push(chunk);
      });
      res.on('aborted', () => fail(new TransportError('reply aborted', 'ECONNRESET', 'sent')));
      res.on('error', (err: NodeJS.ErrnoException) =>
        fail(new TransportError(err.message, err.code ?? 'ERROR', 'sent')),
      );
      res.on('end', () => {
        if (settled) return;
        if (!res.complete) {
          fail(new TransportError('reply ended early', 'ECONNRESET', 'sent'));
          return;
        }
        settled = true;
        clearTimeout(timer);
        const out: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value === undefined) continue;
          out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
        }
        resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks) });
      });
    });

    req.end(request.body);
  });
}
