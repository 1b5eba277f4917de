// Over SSH the client guesses SYMLINK's order from the server's identification. A server calling
// itself OpenSSH that reads the draft's order (our SftpServer forced to 'draft', behind a bare ssh2
// server with that identification, on loopback) gets the swapped link undone and the symlink redone
// on the first symlink of the session; the link on disk points the right way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { SftpClient } from '../../src/client/client.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { generateEd25519KeyPair } from '../../src/transport/keys.js';

test(
  'a server identifying as OpenSSH but reading the draft order: the first symlink is corrected, the rest go right',
  { timeout: 60_000 },
  async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'sftp-wire-symlink-ssh-'));
    const sftp = new SftpServer({ root, symlinkOrder: 'draft' });
    const server = new ssh2.Server({ hostKeys: [generateEd25519KeyPair().private], ident: 'OpenSSH_9.9' }, (client) => {
      client.on('error', () => {});
      client.on('authentication', (ctx) => ctx.accept());
      client.on('ready', () => {
        client.on('session', (accept) => {
          accept().on('subsystem', (acc, _rej, info) => {
            if (info.name === 'sftp') void sftp.serve(acc() as unknown as import('node:stream').Duplex).catch(() => {});
          });
        });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    let client: SftpClient | undefined;
    try {
      client = await SftpClient.connect({ host: '127.0.0.1', port, username: 'u', password: 'p' });
      assert.deepEqual(client.symlinkOrder, { order: 'openssh', checked: false }, 'guessed from "OpenSSH_9.9"');
      await client.symlink('missing', '/link');
      assert.equal(readlinkSync(path.join(root, 'link')), 'missing');
      let wrong = false;
      try {
        wrong = lstatSync(path.join(root, 'missing')).isSymbolicLink();
      } catch {
        /* nothing there */
      }
      assert.equal(wrong || existsSync(path.join(root, 'missing')), false, 'the swapped link was removed');
      assert.deepEqual(client.symlinkOrder, { order: 'draft', checked: true });
      await client.symlink('../elsewhere', '/link2');
      assert.equal(readlinkSync(path.join(root, 'link2')), '../elsewhere');
    } finally {
      await client?.end().catch(() => {});
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(root, { recursive: true, force: true });
    }
  },
);
