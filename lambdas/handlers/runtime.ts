import { resetFanOutDeps } from './fan-out-deps';
import { resetStreamDeps } from './stream-deps';
import { resetWorkerDeps } from './worker-deps';

/**
 * Every handler's wiring in one place, for tests and tools that build several. No handler imports
 * this module (each imports only its own *-deps module), so no bundle carries another's clients.
 */
export { workerDeps } from './worker-deps';
export { fanOutDeps, type FanOutDeps } from './fan-out-deps';
export { streamDeps, type StreamDeps } from './stream-deps';
export { handlerLogger } from './handler-logger';

/** Forget the wiring (tests that change the environment between cases). */
export function resetHandlerRuntime(): void {
  resetWorkerDeps();
  resetFanOutDeps();
  resetStreamDeps();
}
