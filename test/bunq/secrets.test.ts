import { afterEach, expect, it } from 'vitest';
import { ROUTES, type Fault } from '../../emulator/index';
import { BunqError } from '../../lambdas/bunq/errors';
import { REDACTED } from '../../lambdas/shared/redact';
import { startHarness, type Harness } from './support';

let h: Harness | undefined;
afterEach(async () => {
  await h?.emu.close();
  h = undefined;
});

/** Everything about an error a log line or an operator could see, cause chain included. */
function errorText(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && depth < 5; depth++) {
    if (e instanceof Error) {
      parts.push(String(e), e.stack ?? '', JSON.stringify(e));
      e = e.cause;
    } else {
      parts.push(String(e));
      e = undefined;
    }
  }
  return parts.join('\n');
}

it('no secret reaches an error message, an error field, a cause or a log line', async () => {
  h = await startHarness({ emulator: { sessionTimeoutSeconds: 60 } });
  const client = h.client({ timeoutMs: 150 });
  const errors: unknown[] = [];
  const attempt = async (p: Promise<unknown>): Promise<void> => {
    try {
      await p;
    } catch (err) {
      errors.push(err);
    }
  };
  const sessionToken = h.context.session?.token ?? '';
  const echo = `bunq echoes ${h.apiKey} and ${sessionToken} and ${h.context.installationToken}`;

  // Bunq echoing our secrets in its error text (it should not, but we must not pass them on).
  h.emu.faults.add({ method: 'GET', route: ROUTES.ipList, fault: { type: 'status', status: 400, description: echo } });
  await attempt(client.listIps(h.credentialId));
  const faults: Fault[] = [
    { type: 'status', status: 500, description: echo },
    { type: 'drop' },
    { type: 'apply-then-status', status: 503 },
    { type: 'delay', ms: 1000 },
    { type: 'bad-signature' },
    { type: 'garbage-body' },
  ];
  for (const fault of faults) {
    h.emu.faults.add({ method: 'POST', route: ROUTES.ipList, fault });
    await attempt(client.addIp(h.credentialId, '203.0.113.99'));
  }
  // Session refresh (before expiry and on 401), then a credentials rejection from another IP.
  h.clock.advance(40_000);
  await client.listIps(h.credentialId);
  h.clock.advance(30_000);
  h.emu.expireSessions();
  await client.listIps(h.credentialId);
  await attempt(h.client({ localAddress: '127.0.0.3' }).listIps(h.credentialId));
  await attempt(h.client({ context: { ...h.context, session: null }, localAddress: '127.0.0.3' }).ensureSession());

  expect(errors.length).toBeGreaterThanOrEqual(9);
  expect(errors.every((e) => e instanceof BunqError)).toBe(true);
  expect(client.stats.sessionRefreshes).toBe(2);

  const secrets = [
    h.apiKey,
    h.context.installationToken,
    sessionToken,
    client.context.session?.token ?? '',
    ...h.refreshed.map((c) => c.session?.token ?? ''),
    // A line from the middle of the private key PEM.
    h.context.clientPrivateKeyPem.split('\n')[5] ?? '',
  ];
  expect(new Set(secrets).size).toBeGreaterThanOrEqual(5);
  const seen = [...errors.map(errorText), h.logger.text()].join('\n');
  expect(h.logger.lines.length).toBeGreaterThan(20);
  for (const secret of secrets) {
    expect(secret.length).toBeGreaterThan(20);
    expect(seen).not.toContain(secret);
  }
  // The echoed text is still useful, with the secrets blanked out.
  expect(seen).toContain(`bunq echoes ${REDACTED} and ${REDACTED} and ${REDACTED}`);
});
