#!/usr/bin/env node
// The code the package's entries load, bundled (part of `npm run build`, after tsc): each public entry
// ('sftp-wire', 'sftp-wire/advanced', 'sftp-wire/protocol') becomes one ES module file in
// dist/bundle/, and the code two entries share, or that a call loads on first use (the transfer and
// tree code, the server's session, the SSH server), goes into chunk files beside them. Node's ES
// module loader pays about a millisecond per file it loads (resolving, reading, compiling each
// separately): a process that imports the client and connects loaded ~60 files of ours and spent a
// third more CPU than one that uses ssh2 alone (bench/connect-time.ts). One build of all entries, so
// a class is one class whichever entry it is imported from (`instanceof SftpError` holds across them).
// ssh2 and node's modules stay imports. The declarations stay tsc's (dist/src/*.d.ts), and so does
// the CLI (dist/src/cli), which runs tsc's one-file-per-module output.
//
//   node scripts/bundle.mjs [--root DIR] [--out DIR]   (defaults: this repository, DIR/dist/bundle)
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { root: { type: 'string' }, out: { type: 'string' } } });
const root = resolve(values.root ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const out = resolve(values.out ?? join(root, 'dist', 'bundle'));

/** The entries, as package.json's exports name them: './dist/bundle/<name>.js' from 'src/<file>'. */
const ENTRIES = {
  index: 'src/index.ts',
  advanced: 'src/advanced.ts',
  'protocol/index': 'src/protocol/index.ts',
};

rmSync(out, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: Object.entries(ENTRIES).map(([name, file]) => ({ in: join(root, file), out: name })),
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
