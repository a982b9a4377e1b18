#!/usr/bin/env node
// The `firebreak` command: registers tsx so the CLI runs from its TypeScript sources, then starts it.
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS entry point that must register tsx first */
require('tsx/cjs');
const { main } = require('./index.ts');
main(process.argv).then((code) => {
  // Exit once stdout has drained: a native runtime (the replayer's) would otherwise keep the process alive.
  process.stdout.write('', () => process.exit(code));
});
