/**
 * The probe mints users and changes whitelists: it runs against bunq's sandbox (or the emulator on
 * loopback) and nowhere else. A production URL is refused before any call.
 */
import { usageError } from '../errors';

export const SANDBOX_BASE_URL = 'https://public-api.sandbox.bunq.com/v1';

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/** The base URL without /v1 (as the bunq client takes it), or a usage error naming the problem. */
export function probeBaseUrl(raw: string | undefined): string {
  const given = (raw ?? SANDBOX_BASE_URL).trim();
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw usageError(`--base-url ${JSON.stringify(given)} is not a URL`, `default: ${SANDBOX_BASE_URL}`);
  }
  const loopback = LOOPBACK.test(url.hostname);
  const sandbox = url.protocol === 'https:' && /(^|[.-])sandbox([.-]|$)/.test(url.hostname);
  if (!loopback && !sandbox) {
    throw usageError(
      `probe runs against bunq's sandbox only, not ${url.origin}: it mints users and changes their whitelists`,
      `use the default ${SANDBOX_BASE_URL} or the emulator`,
    );
  }
  if (url.protocol !== 'https:' && !(loopback && url.protocol === 'http:')) {
    throw usageError(`--base-url must use https (plain http only for the emulator on loopback), got ${url.origin}`);
  }
  return url.origin + url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
}
