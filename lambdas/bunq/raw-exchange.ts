/**
 * One bunq request sent exactly as asked and its reply kept as it came: no retry, no error mapping,
 * and the server signature reported instead of enforced. For `bunq-ip probe`, which must see what
 * bunq really answers (is an error signed, what does a 429 carry, how long did it take). Headers and
 * signing are the client's own (bunqHeaders), so the probe observes the requests we really send.
 */
import type { CallEnvironment } from './api-call';
import { bunqHeaders, httpRequest } from './api-call';
import { signBody, verifyBody } from './signing';
import type { HttpMethod, HttpResponse } from './transport';

export interface RawExchangeSpec {
  method: HttpMethod;
  /** Path and query, starting with /v1/. */
  path: string;
  /** JSON-serialised as the client does; omitted = no body. */
  body?: unknown;
  token?: string;
  privateKeyPem?: string;
  /** Verify the reply with this key (bunq's, from the installation). */
  serverPublicKeyPem?: string;
  /** `omit`: send no X-Bunq-Client-Signature; `corrupt`: a real signature over other bytes. */
  signature?: 'sign' | 'omit' | 'corrupt';
  /** Reuse a request id (default: a fresh one). */
  requestId?: string;
  /** Wait for the client-side rate limiter first (default true; the probe's burst turns it off). */
  limited?: boolean;
}

export type ReplySignature = 'valid' | 'invalid' | 'missing' | 'not-checked';

export interface RawExchange {
  response: HttpResponse;
  requestId: string;
  signature: ReplySignature;
  /** From sending to the complete reply, on the environment's clock. */
  durationMs: number;
}

export async function rawExchange(env: CallEnvironment, spec: RawExchangeSpec): Promise<RawExchange> {
  const route = (spec.path.split('?')[0] ?? spec.path).replace(/\/\d+(?=\/|$)/g, '/{id}');
  if (spec.limited !== false) await env.limiter.acquire(spec.method, route);
  const bodyBytes = spec.body === undefined ? undefined : Buffer.from(JSON.stringify(spec.body), 'utf8');
  const requestId = spec.requestId ?? env.newRequestId();
  const signing = spec.signature ?? 'sign';
  const signed = signing !== 'omit' && spec.privateKeyPem !== undefined;
  const headers = bunqHeaders(
    env,
    { ...(spec.token !== undefined ? { token: spec.token } : {}), ...(signed ? { privateKeyPem: spec.privateKeyPem } : {}) },
    requestId,
    bodyBytes,
  );
  if (signing === 'corrupt' && spec.privateKeyPem !== undefined) {
    // A valid signature of other bytes: only verification can tell it is wrong.
    headers['X-Bunq-Client-Signature'] = signBody(env.keys.privateKey(spec.privateKeyPem), Buffer.from('not the body'));
  }
  const started = env.clock.now();
  const response = await env.transport(httpRequest(env, spec, headers, bodyBytes));
  const durationMs = env.clock.now() - started;
  const header = response.headers['x-bunq-server-signature'];
  let signature: ReplySignature = 'not-checked';
  if (spec.serverPublicKeyPem !== undefined) {
    const key = spec.serverPublicKeyPem;
    signature = header === undefined ? 'missing' : verifyBody(() => env.keys.publicKey(key), response.body, header) ? 'valid' : 'invalid';
  }
  return { response, requestId, signature, durationMs };
}
