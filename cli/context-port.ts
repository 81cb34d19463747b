/**
 * The part of the context store the CLI and the demo use: the same port the worker takes, so the
 * Secrets Manager store or the demo's in-memory one can stand behind it.
 */
export type { ContextStorePort } from '../lambdas/aws/context-store';
