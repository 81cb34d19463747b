import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { TestProject } from 'vitest/node';

// One moto_server for the whole test run, on a free loopback port. Tests isolate themselves by
// using unique table/queue/secret names (or POST /moto-api/reset in their own setup).

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        reject(new Error('could not allocate a port'));
        return;
      }
      const { port } = addr;
      srv.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(endpoint: string, child: ChildProcess, deadlineMs: number): Promise<void> {
  const start = Date.now();
  let lastError: unknown;
  while (Date.now() - start < deadlineMs) {
    if (child.exitCode !== null) throw new Error(`moto_server exited early with code ${child.exitCode}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.status < 500) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto_server did not become ready at ${endpoint}: ${String(lastError)}`);
}

function motoCommand(): { cmd: string; args: string[] } {
  // `python3 -m moto.server` works wherever moto[server] is installed, even when the
  // moto_server shim is not on PATH.
  return { cmd: process.env.MOTO_PYTHON ?? 'python3', args: ['-m', 'moto.server'] };
}

let child: ChildProcess | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.MOTO_ENDPOINT) {
    // An externally started moto (e.g. by .ci/run or a developer) is reused as-is.
    project.provide('motoEndpoint', process.env.MOTO_ENDPOINT);
    return async () => {};
  }
  const port = await freePort();
  const { cmd, args } = motoCommand();
  child = spawn(cmd, [...args, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(endpoint, child, 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\nmoto stderr:\n${stderr}\n` +
      "Install it with: pip install 'moto[server]'");
  }
  process.env.MOTO_ENDPOINT = endpoint;
  project.provide('motoEndpoint', endpoint);
  return async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          child?.kill('SIGKILL');
          resolve();
        }, 3000);
        child?.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}
