/**
 * How every Lambda handler is bundled, in one place: lib/reconciler-function.ts hands these to CDK's
 * NodejsFunction, and the cold-start bench (bench/sections/cold-start.ts) gives the same to esbuild,
 * so the sizes the bench reports are the sizes that ship. Plain data, no CDK import, so the bench
 * can load it cheaply.
 */
export const HANDLER_BUNDLING = {
  minify: true,
  sourceMap: true,
  // Ship the SDK versions the tests ran against instead of whatever the runtime carries.
  externalModules: [] as string[],
  target: 'node24',
  // The SDK's and Powertools' ES builds first: esbuild tree-shakes ESM, so a handler carries only
  // the commands and helpers it imports (CJS builds come in whole; about a third of each bundle).
  mainFields: ['module', 'main'],
} as const;

/** Bundle-size targets (issue 13), bytes of the minified bundle. */
export const BUNDLE_SIZE_TARGETS: Readonly<Record<'fan-out' | 'stream-trigger' | 'reconcile-worker', number>> = {
  'fan-out': 250 * 1024,
  'stream-trigger': 250 * 1024,
  'reconcile-worker': 450 * 1024,
};
