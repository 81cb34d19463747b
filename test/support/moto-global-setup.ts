import type { TestProject } from 'vitest/node';
import { motoUnavailable, startMoto } from './moto-process';

// One moto_server for the whole test run, on a free loopback port. Tests isolate themselves by
// using unique table/queue/secret names (or POST /moto-api/reset in their own setup).

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.MOTO_ENDPOINT) {
    // An externally started moto (e.g. by a developer) is reused as-is.
    project.provide('motoEndpoint', process.env.MOTO_ENDPOINT);
    return async () => {};
  }
  const missing = motoUnavailable();
  if (missing !== null) throw new Error(`the integration tests need moto_server: ${missing}`);
  const moto = await startMoto();
  process.env.MOTO_ENDPOINT = moto.endpoint;
  project.provide('motoEndpoint', moto.endpoint);
  return () => moto.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}
