/**
 * POST /v1/sandbox-user-person: bunq's sandbox mints a fresh user with one API key, no account
 * needed (bunq's SDKs and tinker do the same; reply `{"Response":[{"ApiKey":{"api_key":"sandbox_…"}}]}`).
 * Used by `bunq-ip probe`, which must never touch an existing credential.
 */
import { callBunq, malformed } from './api-call';
import { makeCallEnvironment, resolveBaseUrl, type CallOptions } from './call-environment';
import { EnvelopeError, single } from './envelope';

export interface SandboxUserOptions extends CallOptions {
  /** No /v1, no trailing slash; default bunq's sandbox. */
  baseUrl?: string;
}

export async function createSandboxUser(options: SandboxUserOptions = {}): Promise<{ apiKey: string }> {
  const path = '/v1/sandbox-user-person';
  const minted = new Set<string>();
  const env = makeCallEnvironment(resolveBaseUrl('SANDBOX', options.baseUrl), options, () => [...minted]);
  // No token, no signature and nothing to verify with: there is no installation yet. A repeat only
  // mints a second throwaway user.
  const res = await callBunq(env, { method: 'POST', path, route: path, repeatable: true });
  try {
    const apiKey = single(res.items, 'ApiKey').api_key;
    if (typeof apiKey !== 'string' || !/^\S{16,}$/.test(apiKey)) throw new EnvelopeError('ApiKey.api_key is not an API key');
    minted.add(apiKey);
    return { apiKey };
  } catch (err) {
    throw malformed(err, `POST ${path}`, res.requestId, res.status, res.responseId);
  }
}
