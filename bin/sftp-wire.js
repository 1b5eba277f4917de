#!/usr/bin/env node
// The installed command: runs the compiled CLI (built by `npm run build`, which `npm ci` runs via prepare).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`sftp-wire: ${err?.message ?? err}\n`); process.exitCode = 1; },
);
