/**
 * paramiko's real SFTP server (a Python child process on loopback, test/interop/
 * paramiko-sftp-server.py): its 'check-file' serves hash verification and compares blocks for
 * resume, with answers that match the bytes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startPythonPeer } from './python-peer.js';
import { SftpClient } from '../../src/client/client.js';

describe("paramiko's SFTP server", () => {
  it(
    'check-file verifies uploads and downloads, and its block hashes match the bytes',
    { timeout: 120_000 },
    async () => {
      const peer = await startPythonPeer('paramiko-sftp-server.py', 'paramiko', 'python3-paramiko', [], 110_000);
      const { port, root, dir, keys } = peer;
      try {
        const client = await SftpClient.connect({
          host: '127.0.0.1',
          port,
          username: 'tester',
          privateKey: keys.private,
        });
        try {
          assert.equal(
            client.extensions.get('check-file'),
            'md5,sha1',
            'paramiko advertises check-file with its hash list',
          );
          assert.equal(client.supports('checkFileHandle'), true);
          // count the verifiers' check-file calls and how they ended (a failed one falls back silently)
          const outcomes: string[] = [];
          const checkFile = client.checkFile.bind(client);
          client.checkFile = (target, opts) =>
            checkFile(target, opts).then(
              (r) => (outcomes.push('ok'), r),
              (e: unknown) => (outcomes.push(String(e)), Promise.reject(e)),
            );

          const data = randomBytes(300_000);
          writeFileSync(path.join(dir, 'up.bin'), data);
          await client.put(path.join(dir, 'up.bin'), '/up.bin', { verify: 'hash' });
          assert.ok(readFileSync(path.join(root, 'up.bin')).equals(data));
          assert.ok(outcomes.length > 0, 'the upload was verified by check-file');

          const h = await client.open('/up.bin', 'r');
          const reply = await client.checkFile(h, { startOffset: 5, length: 200_000, blockSize: 65536 });
          assert.equal(reply.algorithm, 'sha1');
          const want = [0, 1, 2, 3].map((i) =>
            createHash('sha1')
              .update(data.subarray(5 + i * 65536, Math.min(200_005, 5 + (i + 1) * 65536)))
              .digest(),
          );
          assert.deepEqual(reply.hashes, want);
          await client.close(h);

          await client.get('/up.bin', path.join(dir, 'down.bin'), { verify: 'hash' });
          assert.ok(readFileSync(path.join(dir, 'down.bin')).equals(data));
          assert.ok(outcomes.length >= 3, 'the download was verified by check-file');
          assert.deepEqual(
            outcomes.filter((o) => o !== 'ok'),
            [],
            'every check-file call was answered',
          );
        } finally {
          await client.end();
        }
      } finally {
        await peer.stop();
      }
    },
  );
});
