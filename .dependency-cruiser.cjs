// The layer rules of lambdas/ and the infrastructure (issue 13), checked by `npm run lint:layers`
// in .ci/run before the tests. test/infra/layers.test.ts runs these rules on a fixture tree with
// one violation per rule, so a rule that stops matching (a typo in a path, a renamed folder)
// fails a test instead of passing everything.
//
// Layers, inner to outer: core (pure) ← bunq (wire client, core's port types) ← aws (adapters) ←
// service (the application service) ← handlers (Lambda entry points, wiring only). shared holds
// the contracts every layer and lib/ may read.
const path = require('node:path');

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      comment:
        'lambdas/core is the functional core: it imports only lambdas/core and lambdas/shared. No node builtin either: ' +
        'IP parsing is plain code (lambdas/shared/validate-ip.ts), so none is needed, and a builtin is how I/O would creep in.',
      severity: 'error',
      from: { path: '^lambdas/core/' },
      to: { pathNot: '^lambdas/(core|shared)/' },
    },
    {
      name: 'bunq-uses-core-types-only',
      comment: 'The bunq client implements the core\'s port: it may name core types, never run core code.',
      severity: 'error',
      from: { path: '^lambdas/bunq/' },
      to: { path: '^lambdas/core/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'bunq-below-adapters',
      comment: 'The bunq client knows nothing of the AWS adapters, the service or the handlers.',
      severity: 'error',
      from: { path: '^lambdas/bunq/' },
      to: { path: '^lambdas/(aws|service|handlers)/' },
    },
    {
      name: 'adapters-below-service',
      comment: 'lambdas/aws adapts AWS to the service\'s needs; the service and the handlers use it, not the other way round.',
      severity: 'error',
      from: { path: '^lambdas/aws/' },
      to: { path: '^lambdas/(service|handlers)/' },
    },
    {
      name: 'service-below-handlers',
      comment: 'The application service runs under a handler, the CLI and the demo alike: it never imports a handler.',
      severity: 'error',
      from: { path: '^lambdas/service/' },
      to: { path: '^lambdas/handlers/' },
    },
    {
      name: 'handlers-are-entry-points',
      comment:
        'Handlers only wire service and adapters for Lambda; nothing in lambdas/, lib/, bin/, cli/ or demo/ builds on a handler ' +
        '(what two handlers share lives in the service, the adapters or shared).',
      severity: 'error',
      from: { path: '^(lambdas|lib|bin|cli|demo)/', pathNot: '^lambdas/handlers/' },
      to: { path: '^lambdas/handlers/' },
    },
    {
      name: 'shared-is-a-leaf',
      comment: 'lambdas/shared is the contract everyone reads; it imports nothing of the other layers.',
      severity: 'error',
      from: { path: '^lambdas/shared/' },
      to: { path: '^lambdas/', pathNot: '^lambdas/shared/' },
    },
    {
      name: 'infra-uses-shared-contract-only',
      comment: 'lib/ and bin/app.ts meet the runtime only at lambdas/shared (names of tables, keys, env, metrics).',
      severity: 'error',
      from: { path: '^(lib/|bin/app\\.ts$)' },
      to: { path: '^lambdas/', pathNot: '^lambdas/shared/' },
    },
    {
      name: 'runtime-not-infra',
      comment: 'The Lambda code never imports the CDK app or the CDK itself (it would end up in every bundle).',
      severity: 'error',
      from: { path: '^lambdas/' },
      to: { path: ['^lib/', '^bin/', '(^|/)node_modules/(aws-cdk-lib|constructs|cdk-nag)/'] },
    },
    {
      name: 'no-circular',
      comment: 'An import circle in lambdas/ means two modules are one; split what they share out instead.',
      severity: 'error',
      from: { path: '^lambdas/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import the linter cannot resolve is one it cannot judge: fail rather than pass it unseen.',
      severity: 'error',
      from: { path: '^(lambdas|lib|bin|cli|demo)/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Type-only imports are part of the picture (bunq may import core's types, nothing else).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: path.join(__dirname, 'tsconfig.json') },
    doNotFollow: { path: 'node_modules' },
    // Not node_modules: excluding it would hide every package import from the rules above.
    exclude: { path: '(^|/)(cdk\\.out|coverage)/' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
