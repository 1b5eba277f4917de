/**
 * One SFTP session through many SSH key re-exchanges with AsyncSSH's server (a real Python child
 * process on loopback, re-keying every MiB it sends). AsyncSSH sends SSH_MSG_IGNORE during a
 * re-exchange, which RFC 4253 allows at any time; ssh2 1.17.0 refused it after strict KEX was
 * negotiated and the session died at its first re-key (patched by scripts/patch-ssh2.mjs).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startPythonPeer } from './python-peer.js';
import { SftpClient } from '../../src/client/client.js';
import { connectSsh } from '../../src/transport/ssh-client.js';

const MIB = 1024 * 1024;
const SIZE = 64 * MIB;
const REKEY_BYTES = MIB;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('AsyncSSH server, re-keying every MiB', () => {
  it(
    `one session moves ${SIZE / MIB} MiB up and back down across many re-keys, byte-identical`,
    { timeout: 300_000 },
    async (t) => {
      const peer = await startPythonPeer(
        'asyncssh-sftp-server.py',
        'asyncssh',
        'python3-asyncssh',
        [String(REKEY_BYTES)],
        290_000,
      );
      const { port, root, dir, keys } = peer;
      let client: SftpClient | undefined;
      try {
        const conn = await connectSsh({
          host: '127.0.0.1',
          port,
          username: 'tester',
          privateKey: keys.private,
          readyTimeout: 30_000,
        });
        let rekeys = 0;
        conn.on('handshake', () => rekeys++); // each completed re-exchange after the first
        const errors: Error[] = [];
        conn.on('error', (e) => errors.push(e));
        client = await SftpClient.fromSsh(conn);

        const data = randomBytes(SIZE);
        const local = path.join(dir, 'up.bin');
        writeFileSync(local, data);
        const withSshErrors = (e: Error) => {
          throw new Error(`${e.message}; SSH errors: ${errors.map((x) => x.message).join('; ') || 'none'}`, {
            cause: e,
          });
        };
        await client.put(local, '/moved.bin').catch(withSshErrors);
        assert.equal(
          sha256(readFileSync(path.join(root, 'moved.bin'))),
          sha256(data),
          'the upload arrived byte-identical',
        );
        const back = path.join(dir, 'back.bin');
        await client.get('/moved.bin', back).catch(withSshErrors);
        assert.equal(sha256(readFileSync(back)), sha256(data), 'the download is byte-identical');
        assert.deepEqual(errors, []);
        t.diagnostic(`key re-exchanges during the session: ${rekeys}`);
        assert.ok(rekeys >= 32, `the session crossed many key re-exchanges (${rekeys})`);
        await client.end();
        conn.end();
      } finally {
        await peer.stop();
      }
    },
  );
});
