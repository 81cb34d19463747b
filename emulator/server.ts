import { sign, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Clock } from '../lambdas/shared/clock';
import { hasProfile, type MutableEmulatorConfig } from './config';
import { describeFault, type Fault, type FaultInjector } from './faults';
import { handlerFor } from './handlers';
import { EmulatorHttpError } from './http-error';
import type { IdSource } from './ids';
import type { EmulatorState, Installation, Session } from './model';
import { ruleFor, type RollingWindowLimiter } from './rate-limit';
import { authFor, matchRoute, ROUTES, type RouteMatch } from './routes';
import { defaultFaultDescription, errorBody, TEXT } from './wire';

/**
 * The HTTP shell: reads the request, applies scripted faults, then bunq's gatekeeping in the order
 * a client meets it (route → rate limit → headers → token → signature → whitelist → body), runs the
 * endpoint handler, and signs the reply.
 */

export interface RequestLogEntry {
  /** Clock time (epoch ms) when the request arrived. */
  at: number;
  method: string;
  /** Path and query string as requested. */
  path: string;
  /** The matched route pattern, or null for an unknown path. */
  route: string | null;
  /** HTTP status sent; 0 when the socket was dropped without a reply. */
  status: number;
  callerIp: string;
  /** The fault that fired, e.g. "status:503", "drop", "apply-then-delay:50ms". */
  fault?: string;
  /** Profile `slow-instead-of-429`: how long (clock ms) the call was held instead of refused. */
  slowedMs?: number;
}

export interface Runtime {
  state: EmulatorState;
  config: MutableEmulatorConfig;
  clock: Clock;
  ids: IdSource;
  faults: FaultInjector;
  limiter: RollingWindowLimiter;
  serverPrivateKey: KeyObject;
  serverPublicKeyPem: string;
  log: RequestLogEntry[];
  sleeper: RealSleeper;
}

interface Reply {
  status: number;
  body: string;
  contentType?: string;
  /** bunq does not sign 429 replies. */
  unsigned?: boolean;
}

type SignatureMode = 'valid' | 'bad' | 'none';

const MAX_BODY_BYTES = 1024 * 1024;
const SIGNATURE_HELP = [{ url_together_post: 'https://together.bunq.com/d/15399' }];
const REASONS: Readonly<Record<number, string>> = {
  466: 'Request Signature Required',
  490: 'User Error',
  491: 'Maintenance Error',
};

/** Fault delays use real timers (they exist to outlast a client's socket timeout) and stop on close. */
export class RealSleeper {
  private readonly pending = new Set<{ timer: NodeJS.Timeout; resolve: (done: boolean) => void }>();

  sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const item = {
        timer: setTimeout(() => {
          this.pending.delete(item);
          resolve(true);
        }, ms),
        resolve,
      };
      this.pending.add(item);
    });
  }

  cancelAll(): void {
    for (const item of this.pending) {
      clearTimeout(item.timer);
      item.resolve(false);
    }
    this.pending.clear();
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first.trim() === '' ? undefined : first;
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function errorReply(status: number, description: string, additional?: unknown[]): Reply {
  return { status, body: errorBody(description, additional), unsigned: status === 429 };
}

function faultReply(status: number, description?: string): Reply {
  return errorReply(status, description ?? defaultFaultDescription(status));
}

function verifyRequestSignature(body: Buffer, signatureB64: string, key: KeyObject): boolean {
  try {
    return verify('sha256', body, key, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}

interface ParsedRequest {
  method: string;
  url: URL;
  req: IncomingMessage;
  rawBody: Buffer;
  callerIp: string;
  match: RouteMatch | null;
  now: number;
}

/**
 * The rate limit, after routing (404/405 come first) and before everything else. Over the limit
 * bunq answers 429; under profile `slow-instead-of-429` the call is held (on the emulator's clock)
 * until the window admits it and then handled normally.
 */
async function rateLimit(rt: Runtime, p: ParsedRequest, entry: RequestLogEntry): Promise<Reply | undefined> {
  const { method, match, callerIp } = p;
  if (match === null || handlerFor(method, match.pattern) === undefined || rt.config.rateLimits === false) return undefined;
  const rule = ruleFor(rt.config.rateLimits, method, match.pattern);
  if (rule === undefined) return undefined;
  const key = `${callerIp} ${method} ${match.pattern}`;
  if (!hasProfile(rt.config, 'slow-instead-of-429')) {
    return rt.limiter.admit(key, rule, p.now) ? undefined : errorReply(429, TEXT.rateLimited(rule.limit, rule.windowMs));
  }
  const at = rt.limiter.reserve(key, rule, p.now);
  if (at > p.now) {
    entry.slowedMs = at - p.now;
    await rt.clock.sleep(at - p.now);
    p.now = rt.clock.now();
  }
  return undefined;
}

function gatekeepAndHandle(rt: Runtime, p: ParsedRequest): Reply {
  const { method, match, req, callerIp, now } = p;
  if (match === null) throw new EmulatorHttpError(404, TEXT.routeNotFound);
  const handler = handlerFor(method, match.pattern);
  if (handler === undefined) throw new EmulatorHttpError(405, TEXT.methodNotAllowed);
  for (const name of ['User-Agent', 'Cache-Control']) {
    if (header(req, name) === undefined) throw new EmulatorHttpError(400, TEXT.missingHeader(name));
  }

  const auth = authFor(match.pattern);
  const token = header(req, 'X-Bunq-Client-Authentication');
  let installation: Installation | undefined;
  let session: Session | undefined;
  if (auth === 'installation-signed') {
    installation = token === undefined ? undefined : rt.state.installationForToken(token);
    if (installation === undefined) throw new EmulatorHttpError(401, TEXT.insufficientAuthorisation);
    const signature = header(req, 'X-Bunq-Client-Signature');
    if (signature === undefined) throw new EmulatorHttpError(466, TEXT.signatureRequired, SIGNATURE_HELP);
    if (!verifyRequestSignature(p.rawBody, signature, installation.clientPublicKey)) {
      throw new EmulatorHttpError(401, TEXT.signatureInvalid);
    }
  } else if (auth === 'session') {
    session = token === undefined ? undefined : rt.state.liveSession(token);
    if (session === undefined) throw new EmulatorHttpError(401, TEXT.insufficientAuthorisation);
    const credential = rt.state.credentials.get(session.credentialId);
    if (rt.config.enforceIpWhitelist && (credential === undefined || !rt.state.allows(credential, callerIp))) {
      throw new EmulatorHttpError(400, TEXT.credentialsIncorrect);
    }
    if (!hasProfile(rt.config, 'fixed-session-expiry')) session.expiresAtMs = now + session.timeoutSeconds * 1000;
  }

  let body: unknown;
  if (method === 'POST' || method === 'PUT') {
    const text = p.rawBody.toString('utf8');
    // The sandbox-user calls take no parameters; SDKs send an empty body or "{}".
    const optional = auth === 'none' && match.pattern !== ROUTES.installation;
    if (!(optional && text.trim() === '')) {
      try {
        body = JSON.parse(text);
      } catch {
        throw new EmulatorHttpError(400, TEXT.badJson);
      }
    }
  }
  const ctx = {
    state: rt.state,
    config: rt.config,
    route: match.pattern,
    method,
    ids: match.ids,
    query: p.url.searchParams,
    body,
    callerIp,
    serverPublicKeyPem: rt.serverPublicKeyPem,
    now,
    ...(installation === undefined ? {} : { installation }),
    ...(session === undefined ? {} : { session }),
  };
  return { status: 200, body: handler(ctx) };
}

function respond(rt: Runtime, p: ParsedRequest): Reply {
  try {
    return gatekeepAndHandle(rt, p);
  } catch (err) {
    if (err instanceof EmulatorHttpError) return errorReply(err.status, err.description, err.additional);
    /* v8 ignore next 2 -- a bug in the emulator itself; bunq answers such cases with a 500 too */
    const message = err instanceof Error ? err.message : String(err);
    return errorReply(500, `Internal emulator error: ${message}`);
  }
}

function writeReply(rt: Runtime, req: IncomingMessage, res: ServerResponse, reply: Reply, mode: SignatureMode): void {
  const body = Buffer.from(reply.body, 'utf8');
  const headers: Record<string, string> = {
    'Content-Type': reply.contentType ?? 'application/json',
    'Content-Length': String(body.length),
    'X-Bunq-Client-Response-Id': rt.ids.uuid(),
  };
  const requestId = header(req, 'X-Bunq-Client-Request-Id');
  if (requestId !== undefined) headers['X-Bunq-Client-Request-Id'] = requestId;
  if (mode !== 'none') {
    // A bad signature is a real signature over different bytes, so only verification can catch it.
    const signed = mode === 'bad' ? Buffer.concat([body, Buffer.from('\n')]) : body;
    headers['X-Bunq-Server-Signature'] = sign('sha256', signed, rt.serverPrivateKey).toString('base64');
  }
  const reason = REASONS[reply.status];
  if (reason === undefined) res.writeHead(reply.status, headers);
  else res.writeHead(reply.status, reason, headers);
  res.end(body);
}

async function handle(rt: Runtime, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const rawBody = await readBody(req);
  const method = (req.method ?? 'GET').toUpperCase();
  const url = new URL(req.url ?? '/', 'http://emulator.invalid');
  const peer = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  const callerIp = rt.config.mapCallerIp === undefined ? peer : rt.config.mapCallerIp(peer);
  const match = matchRoute(url.pathname);
  const entry: RequestLogEntry = {
    at: rt.clock.now(),
    method,
    path: url.pathname + url.search,
    route: match?.pattern ?? null,
    status: 0,
    callerIp,
  };
  const fault: Fault | undefined = rt.faults.take(method, entry.route);
  if (fault !== undefined) entry.fault = describeFault(fault);

  const finish = (reply: Reply, mode: SignatureMode): void => {
    entry.status = reply.status;
    rt.log.push(entry);
    const unsignedError = hasProfile(rt.config, 'errors-unsigned') && reply.status >= 400 && reply.status < 500;
    writeReply(rt, req, res, reply, reply.unsigned === true || unsignedError ? 'none' : mode);
  };
  const drop = (): void => {
    rt.log.push(entry);
    req.socket.destroy();
  };

  if (fault?.type === 'status') return finish(faultReply(fault.status, fault.description), 'valid');
  if (fault?.type === 'drop') return drop();
  if (fault?.type === 'garbage-body') {
    return finish({ status: 200, body: '<html><body><h1>502 Bad Gateway</h1></body></html>', contentType: 'text/html' }, 'valid');
  }
  if (fault?.type === 'gateway-error') {
    const html = `<html><body><h1>${fault.status} Gateway Error</h1></body></html>`;
    return finish({ status: fault.status, body: html, contentType: 'text/html' }, 'none');
  }
  if (fault?.type === 'delay' && !(await rt.sleeper.sleep(fault.ms))) return;

  if (rawBody === 'too-large') return finish(errorReply(400, 'The request body is too large.'), 'valid');
  const parsed: ParsedRequest = { method, url, req, rawBody, callerIp, match, now: rt.clock.now() };
  const refused = await rateLimit(rt, parsed, entry);
  let reply = refused ?? respond(rt, parsed);

  if (fault?.type === 'apply-then-status') reply = faultReply(fault.status);
  if (fault?.type === 'apply-then-drop') return drop();
  if (fault?.type === 'apply-then-delay' && !(await rt.sleeper.sleep(fault.ms))) return;
  const mode: SignatureMode = fault?.type === 'bad-signature' ? 'bad' : fault?.type === 'no-signature' ? 'none' : 'valid';
  finish(reply, mode);
}

export function createEmulatorServer(rt: Runtime): Server {
  return createServer((req, res) => {
    handle(rt, req, res).catch(() => {
      // The client went away mid-request (or the reply could not be written): nothing to answer.
      res.destroy();
    });
  });
}
