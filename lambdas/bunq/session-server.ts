/**
 * Opening a bunq session (POST /v1/session-server), shared by the bootstrap and the client's refresh.
 */
import { callBunq, malformed, type CallEnvironment } from './api-call';
import { sessionServerReply, type SessionServerReply } from './envelope';
import type { BunqContext, BunqSession, BunqUser } from './types';

export interface OpenedSession {
  session: BunqSession;
  userId: number;
  user: BunqUser;
}

/**
 * POST /v1/session-server with the installation token, signed. Expiry counts from when the request
 * started, so our idea of the deadline is never later than bunq's.
 */
export async function openSession(
  env: CallEnvironment,
  ctx: Pick<BunqContext, 'apiKey' | 'installationToken' | 'clientPrivateKeyPem' | 'serverPublicKeyPem'>,
  startedAt: number,
): Promise<OpenedSession> {
  const path = '/v1/session-server';
  const res = await callBunq(env, {
    method: 'POST',
    path,
    route: path,
    token: ctx.installationToken,
    body: { secret: ctx.apiKey },
    privateKeyPem: ctx.clientPrivateKeyPem,
    serverPublicKeyPem: ctx.serverPublicKeyPem,
    // A duplicate session-server call leaves an unused session behind, nothing worse.
    repeatable: true,
  });
  let reply: SessionServerReply;
  try {
    reply = sessionServerReply(res.items);
  } catch (err) {
    throw malformed(err, `POST ${path}`, res.requestId, res.status, res.responseId);
  }
  const timeoutSeconds = reply.user.sessionTimeoutSeconds;
  return {
    session: {
      id: reply.id,
      token: reply.token,
      expiresAt: new Date(startedAt + timeoutSeconds * 1000).toISOString(),
      timeoutSeconds,
    },
    userId: reply.user.id,
    user: reply.user,
  };
}

