import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock';
import { BunqClient } from '../../lambdas/bunq/client';
import { generateClientKeyPair, signBody, type RsaKeyPairPem } from '../../lambdas/bunq/signing';
import { TransportError, type HttpRequest, type HttpResponse, type Transport } from '../../lambdas/bunq/transport';
import type { BunqContext } from '../../lambdas/bunq/types';
import { whitelistPort } from '../../lambdas/bunq/whitelist-port';
import { reconcile } from '../../lambdas/core/reconcile';
import type { CredentialConfig } from '../../lambdas/core/types';
import { catchError } from './support';

// Issue 13: three unsigned 429s naming a 60 s window made one list call take 180 s, the whole
// Lambda timeout, and the run was killed without a record. With the run deadline in the client,
// no call (rate-limit waits, a 429's window, a session refresh, pagination) outlives it.

let server: RsaKeyPairPem;
let client: RsaKeyPairPem;
beforeAll(async () => {
  [server, client] = await Promise.all([generateClientKeyPair(), generateClientKeyPair()]);
});

const T0 = Date.UTC(2026, 0, 1);
const IP_LIST = '/v1/user/7/credential-password-ip/9/ip';
const LIMITED = { Error: [{ error_description: 'Too many requests. You can do a maximum of 3 calls per 60 second to this endpoint.' }] };

function context(sessionExpiresAt = Date.UTC(2030, 0, 1)): BunqContext {
  return {
    version: 1, environment: 'PRODUCTION', baseUrl: 'https://bunq.test', apiKey: 'k'.repeat(64),
    clientPrivateKeyPem: client.privateKeyPem, clientPublicKeyPem: client.publicKeyPem,
    installationId: 1, installationToken: 'i'.repeat(64), serverPublicKeyPem: server.publicKeyPem,
    deviceServerId: 2, userId: 7,
    session: { id: 3, token: 's'.repeat(64), expiresAt: new Date(sessionExpiresAt).toISOString(), timeoutSeconds: 3600 },
  };
}

function reply(status: number, body: unknown, signed = true): HttpResponse {
  const bytes = Buffer.from(JSON.stringify(body));
  return { status, headers: signed ? { 'x-bunq-server-signature': signBody(server.privateKeyPem, bytes) } : {}, body: bytes };
}

const ip = (id: number) => ({ PermittedIp: { id, ip: `10.0.0.${id}`, status: 'ACTIVE', created: null, updated: null } });
const page = (ids: number[], older: string | null) => ({ Response: ids.map(ip), Pagination: { future_url: null, newer_url: null, older_url: older } });

function scripted(clock: ManualClock, handler: (req: HttpRequest, n: number) => HttpResponse): { transport: Transport; sent: HttpRequest[] } {
  const sent: HttpRequest[] = [];
  return {
    sent,
    transport: async (req) => {
      sent.push(req);
      clock.advance(100); // every reply takes 100 ms
      return handler(req, sent.length);
    },
  };
}

function clientOn(clock: ManualClock, transport: Transport, deadline: number | undefined, ctx = context()): BunqClient {
  return new BunqClient({
    context: ctx, transport, clock, random: () => 0.5, rateLimits: [],
    ...(deadline !== undefined ? { deadline } : {}),
  });
}

describe('the run deadline bounds every bunq call', () => {
  it('control: without a deadline, unsigned 429s naming a 60 s window stretch one list call to minutes', async () => {
    const clock = new ManualClock(T0);
    const s = scripted(clock, (_req, n) => (n <= 3 ? reply(429, LIMITED, false) : reply(200, page([1], null))));
    const entries = await clientOn(clock, s.transport, undefined).listIps(9);
    expect(entries).toHaveLength(1);
    expect(clock.now() - T0).toBeGreaterThanOrEqual(180_000);
  });

  it('three unsigned 429s naming a 60 s window: the call stops at the deadline, with kind deadline', async () => {
    const clock = new ManualClock(T0);
    const s = scripted(clock, () => reply(429, LIMITED, false));
    const deadline = T0 + 100_000;
    const err = await catchError(clientOn(clock, s.transport, deadline).listIps(9));
    expect(err).toMatchObject({ kind: 'deadline', retryable: false });
    expect((err as Error).message).toMatch(/reached before waiting 60000 ms to retry\); last error: rate-limited/);
    // One wait of 60 s fitted, the next did not: it was never started.
    expect(s.sent).toHaveLength(2);
    expect(clock.now()).toBeLessThan(deadline);
  });

  it('no request is sent with a timeout that runs past the deadline', async () => {
    const clock = new ManualClock(T0);
    const s = scripted(clock, () => reply(200, page([1], null)));
    await clientOn(clock, s.transport, T0 + 4_000).listIps(9);
    expect(s.sent[0]!.timeoutMs).toBe(4_000);
  });

  it('a call at or after the deadline sends nothing', async () => {
    const clock = new ManualClock(T0);
    const s = scripted(clock, () => reply(200, page([1], null)));
    const err = await catchError(clientOn(clock, s.transport, T0).listIps(9));
    expect(err).toMatchObject({ kind: 'deadline' });
    expect(s.sent).toHaveLength(0);
  });

  it('a long pagination stops at the deadline between pages', async () => {
    const clock = new ManualClock(T0);
    // Each page takes 100 ms; the list has far more pages than fit before the deadline.
    const s = scripted(clock, (_req, n) => reply(200, page([n], `${IP_LIST}?count=200&older_id=${1000 - n}`)));
    const err = await catchError(clientOn(clock, s.transport, T0 + 1_050).listIps(9));
    expect(err).toMatchObject({ kind: 'deadline' });
    // Ten pages fit; the eleventh was sent with only the 50 ms left as its timeout (this scripted
    // transport answers anyway), and no twelfth was sent.
    expect(s.sent.length).toBe(11);
    expect(s.sent[10]!.timeoutMs).toBe(50);
  });

  it('a session refresh rate-limited past the deadline fails fast, nothing more sent', async () => {
    const clock = new ManualClock(T0);
    const s = scripted(clock, () => reply(429, LIMITED, false));
    // The session expires now: the client refreshes it first (POST /session-server).
    const err = await catchError(clientOn(clock, s.transport, T0 + 30_000, context(T0)).listIps(9));
    expect(err).toMatchObject({ kind: 'deadline' });
    expect(s.sent.map((r) => r.url.replace('https://bunq.test', ''))).toEqual(['/v1/session-server']);
    expect(clock.now()).toBeLessThan(T0 + 30_000);
  });

  it('through the run: the first read stops at the deadline and the run is recorded with kind deadline', async () => {
    const clock = new ManualClock(T0);
    const s = scripted(clock, () => reply(429, LIMITED, false));
    const deadline = T0 + 100_000;
    const port = whitelistPort(clientOn(clock, s.transport, deadline), 9);
    const config: CredentialConfig = {
      credential: 'prod', userId: 7, credentialPasswordIpId: 9, secretName: 's', mode: 'enforce', maxDeactivationsPerRun: 5, protectedIps: [],
    };
    const r = await reconcile({ desired: [{ entry: 'ip#10.0.0.1', ip: '10.0.0.1' }], config, port, clock, deadline });
    expect(r.outcome).toBe('failed');
    expect(r.error?.kind).toBe('deadline');
    expect(clock.now()).toBeLessThan(deadline);
  });

  // Review finding: a PUT may reach bunq and lose its reply. The deadline then stops its retry;
  // calling that "deadline" (= not applied) would leave the record claiming the old status.
  it('a PUT that may have been applied when the deadline stops its retry is outcome-unknown, not deadline', async () => {
    const clock = new ManualClock(T0);
    const sent: HttpRequest[] = [];
    const transport: Transport = async (req) => {
      sent.push(req);
      clock.advance(req.timeoutMs);
      throw new TransportError('no reply', 'TIMEOUT', 'sent');
    };
    const err = await catchError(clientOn(clock, transport, T0 + 3_000).updateIpStatus(9, 2, 'INACTIVE'));
    expect(err).toMatchObject({ kind: 'outcome-unknown', retryable: false });
    expect(sent).toHaveLength(1);
  });

  it('a PUT whose only attempt was refused unsent stays deadline (known not applied)', async () => {
    const clock = new ManualClock(T0);
    const sent: HttpRequest[] = [];
    const transport: Transport = async (req) => {
      sent.push(req);
      clock.advance(2_000);
      throw new TransportError('refused', 'ECONNREFUSED', 'not-sent');
    };
    const err = await catchError(clientOn(clock, transport, T0 + 3_000).updateIpStatus(9, 2, 'INACTIVE'));
    expect(err).toMatchObject({ kind: 'deadline' });
  });
});
