#!/usr/bin/env node
'use strict';
// Launcher for the operator CLI (package.json "bin"): runs the TypeScript entry through tsx, so a
// checkout after `npm ci` needs no build step. `npx bunq-ip --help` or `npm run cli -- --help`.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
const { main } = require('../cli/main.ts');
const { processIo } = require('../cli/io.ts');

main(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`error: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
