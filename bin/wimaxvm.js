#!/usr/bin/env node
// Runs the built CLI (npm run build). CommonJS (bin/package.json), so that a command the bundle
// serves never starts Node's ES-module loader: dist/cli.cjs, the one-file bundle of the CLI's
// start-up path (scripts/bundle-cli.mjs), when it is at least as new as the compiled dist/src/;
// else dist/src/ itself.
'use strict';
const { statSync } = require('node:fs');
const { join } = require('node:path');

// A reader that stops early (`wimaxvm get vms | head`) closes the pipe: end quietly, with the
// status of a process killed by SIGPIPE (kubectl's), rather than with an EPIPE stack trace.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(128 + 13);
});

const dist = join(__dirname, '..', 'dist');
const mtime = (path) => statSync(join(dist, path), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const cli = mtime('cli.cjs') >= mtime('src/cli/main.js') ? Promise.resolve(require(join(dist, 'cli.cjs'))) : import('../dist/src/cli/main.js');

cli.then(({ main }) => main(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
});
