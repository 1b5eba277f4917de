import { createRequire } from 'node:module';
import type ssh2 from 'ssh2';

/**
 * ssh2, loaded by the first call instead of by whoever imports the caller: the public entry exports
 * key and authentication helpers, and a process that never touches SSH (a client over stdio, a
 * server on a stream of its own) should not pay for loading ssh2. ssh2 is a CommonJS package, so it
 * loads synchronously and these helpers keep their synchronous signatures. The object is the one an
 * `import ssh2 from 'ssh2'` gives. The SSH client and server take ssh2 from here too, never by an
 * `import` of their own: the bundle (scripts/bundle.mjs) puts the code of every entry in one file,
 * where a module's `import ... from 'ssh2'` would load ssh2 for whoever imports any entry.
 */
const requireFromHere = createRequire(import.meta.url);
let lib: typeof ssh2 | undefined;

export function ssh2Lib(): typeof ssh2 {
  return (lib ??= requireFromHere('ssh2') as typeof ssh2);
}
