import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TransportError, nodeTransport } from '../../lambdas/bunq/transport';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => {
    (s as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    s.close(() => r());
  })));
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function http(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  return listen(createHttpServer(handler));
}

async function failure(p: Promise<unknown>): Promise<TransportError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TransportError);
    return err as TransportError;
  }
  throw new Error('expected a TransportError');
}

const send = nodeTransport();

describe('nodeTransport', () => {
  it('returns status, lower-cased headers and the raw body bytes; sends body and localAddress', async () => {
    let seen: { body: string; peer: string | undefined; length: string | undefined } | undefined;
    const port = await http((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen = { body: Buffer.concat(chunks).toString(), peer: req.socket.remoteAddress, length: req.headers['content-length'] };
        res.setHeader('X-Bunq-Client-Response-Id', 'r-1');
        res.setHeader('Set-Cookie', ['a=1', 'b=2']);
        res.writeHead(201);
        res.end('{"Response":[{"Id":{"id":1}}]}\n');
      });
    });
    const res = await send({
      method: 'POST', url: `http://127.0.0.1:${port}/v1/x`, headers: { 'Content-Type': 'application/json' },
      body: Buffer.from('{"a":"\\/"}'), timeoutMs: 2000, localAddress: '127.0.0.5',
    });
    expect(res.status).toBe(201);
    expect(res.headers['x-bunq-client-response-id']).toBe('r-1');
    expect(res.headers['set-cookie']).toBe('a=1, b=2');
    expect(res.body.toString()).toBe('{"Response":[{"Id":{"id":1}}]}\n');
    expect(seen).toEqual({ body: '{"a":"\\/"}', peer: '127.0.0.5', length: '10' });
  });

  it('connection refused → not-sent (nothing can have been applied)', async () => {
    const port = await http(() => undefined);
    await new Promise<void>((r) => servers.pop()?.close(() => r()));
    const err = await failure(send({ method: 'POST', url: `http://127.0.0.1:${port}/`, headers: {}, timeoutMs: 2000 }));
    expect(err).toMatchObject({ code: 'ECONNREFUSED', phase: 'not-sent' });
  });

  it('no reply in time after connecting → TIMEOUT, sent', async () => {
    const port = await http(() => undefined);
    const err = await failure(send({ method: 'POST', url: `http://127.0.0.1:${port}/`, headers: {}, body: Buffer.from('{}'), timeoutMs: 100 }));
    expect(err).toMatchObject({ code: 'TIMEOUT', phase: 'sent' });
    expect(err.message).toBe('no complete reply within 100 ms');
  });

  it('connection reset after the request → sent', async () => {
    const port = await http((req) => req.socket.destroy());
    const err = await failure(send({ method: 'GET', url: `http://127.0.0.1:${port}/`, headers: {}, timeoutMs: 2000 }));
    expect(err).toMatchObject({ code: 'ECONNRESET', phase: 'sent' });
  });

  it('a reply cut off mid-body → sent', async () => {
    const port = await http((_req, res) => {
      res.writeHead(200, { 'Content-Length': '100' });
      res.write('{"Resp');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const err = await failure(send({ method: 'GET', url: `http://127.0.0.1:${port}/`, headers: {}, timeoutMs: 2000 }));
    expect(err).toMatchObject({ code: 'ECONNRESET', phase: 'sent' });
  });

  it('refuses a reply larger than the cap', async () => {
    const port = await http((_req, res) => res.end('x'.repeat(5000)));
    const err = await failure(nodeTransport({ maxResponseBytes: 1000 })({ method: 'GET', url: `http://127.0.0.1:${port}/`, headers: {}, timeoutMs: 2000 }));
    expect(err).toMatchObject({ code: 'RESPONSE_TOO_LARGE', phase: 'sent' });
  });

  it('rejects unusable URLs before connecting', async () => {
    expect(await failure(send({ method: 'GET', url: 'not a url', headers: {}, timeoutMs: 100 }))).toMatchObject({ code: 'INVALID_URL', phase: 'not-sent' });
    expect(await failure(send({ method: 'GET', url: 'ftp://127.0.0.1/', headers: {}, timeoutMs: 100 }))).toMatchObject({ code: 'INVALID_URL', phase: 'not-sent' });
  });

  it('uses TLS for https and fails before sending when the certificate is not trusted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bunq-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'),
        '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'pipe' });
      const server = createHttpsServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_req, res) => res.end('{}'));
      const port = await listen(server);
      const err = await failure(send({ method: 'POST', url: `https://127.0.0.1:${port}/v1/x`, headers: {}, body: Buffer.from('{}'), timeoutMs: 2000 }));
      // The handshake failed, so the request never left: safe to retry even a POST.
      expect(err.phase).toBe('not-sent');
      expect(err.code).toMatch(/SELF_SIGNED|CERT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a TCP server that never speaks HTTP → TIMEOUT, sent', async () => {
    const sockets: Socket[] = [];
    const port = await listen(createNetServer((socket) => sockets.push(socket)));
    const err = await failure(send({ method: 'GET', url: `http://127.0.0.1:${port}/`, headers: {}, timeoutMs: 100 }));
    expect(err).toMatchObject({ code: 'TIMEOUT', phase: 'sent' });
    for (const socket of sockets) socket.destroy();
  });
});
