#!/usr/bin/env node
/**
 * postinstall: correct one rule in ssh2's key exchange (lib/protocol/kex.js), idempotently.
 *
 * RFC 4253 lets either side send SSH_MSG_IGNORE, DEBUG and UNIMPLEMENTED at any time. OpenSSH's
 * strict KEX extension (kex-strict-*-v00@openssh.com) forbids them during the *initial* key exchange
 * only. ssh2 (checked: 1.17.0) applies the ban to every exchange once strict KEX was negotiated, so a
 * peer that sends IGNORE during a re-key (AsyncSSH does, before each of its packets) is cut off
 * with "Received unexpected packet type 2" at the first re-key (about 1 GiB into a session).
 *
 * Once that is fixed, the same peer's next packet is refused too: AsyncSSH (2.10) keeps sending
 * channel data after its own KEXINIT, and ssh2 refuses every message above the key-exchange range
 * during any exchange ("Received unexpected packet type 94"). OpenSSH disables only the transport
 * messages (1-49) while keys are exchanged and goes on handling connection messages, so it works
 * with such peers; ssh2 already queues what it sends meanwhile, so handling them is safe.
 *
 * The fix marks the payload handler ssh2 installs for a re-key (the one bound when a KEXINIT arrives
 * with a key exchange already done). That handler passes connection-layer messages (50 and up) to
 * ssh2's usual handlers and accepts IGNORE/DEBUG/UNIMPLEMENTED as it does without strict KEX. The
 * initial exchange keeps all its rules. Each spot must be found exactly once, or this script fails
 * (and with it `npm ci`): an ssh2 whose code moved needs a fresh look.
 *
 * Usage: node scripts/patch-ssh2.mjs [path/to/kex.js]   (default: the ssh2 this package resolves)
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MARKER = 'sftp-wire patch: what a peer may send during a re-key';

/** [unpatched text, patched text]: each unpatched text must occur exactly once. */
export const PATCHES = [
  [
    'self._decipher._onPayload = onKEXPayload.bind(self, { firstPacket: false });',
    `self._decipher._onPayload = onKEXPayload.bind(self, { firstPacket: false, rekey: true }); // ${MARKER}`,
  ],
  [
    '  if (!this._strictMode) {',
    [
      `  if (state.rekey && type >= 50) { // ${MARKER}`,
      '    if (!MESSAGE_HANDLERS)',
      "      MESSAGE_HANDLERS = require('./handlers.js');",
      '    const handler = MESSAGE_HANDLERS[type];',
      '    return (handler === undefined ? undefined : handler(this, payload));',
      '  }',
      '  if (!this._strictMode || state.rekey) {',
    ].join('\n'),
  ],
];

/** The patched source, the same source when already patched; throws when a spot is missing. */
export function patchSource(source, where = 'kex.js') {
  let out = source;
  for (const [from, to] of PATCHES) {
    if (out.includes(to)) continue;
    const count = out.split(from).length - 1;
    if (count !== 1) {
      throw new Error(
        `${where}: expected exactly one occurrence of ${JSON.stringify(from)}, found ${count}. ` +
          'ssh2 changed; review scripts/patch-ssh2.mjs (is the re-key IGNORE rule fixed upstream?)',
      );
    }
    out = out.replace(from, to);
  }
  return out;
}

export function ssh2KexPath() {
  const require = createRequire(import.meta.url);
  const main = require.resolve('ssh2'); // <ssh2>/lib/index.js
  return path.join(path.dirname(main), 'protocol', 'kex.js');
}

function main() {
  const file = process.argv[2] ?? ssh2KexPath();
  const before = readFileSync(file, 'utf8');
  const after = patchSource(before, file);
  if (after === before) {
    console.log(`patch-ssh2: ${file} already patched`);
    return;
  }
  const temp = `${file}.sftp-wire-${process.pid}`;
  writeFileSync(temp, after);
  renameSync(temp, file);
  console.log(`patch-ssh2: patched ${file} (messages a peer may send during a re-key are accepted)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    console.error(`patch-ssh2: FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
