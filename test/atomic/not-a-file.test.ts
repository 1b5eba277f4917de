/**
 * A download whose source is not a regular file (a directory, a device) fails before anything local
 * is created or truncated; an upload whose source is a local directory fails before anything remote is
 * created or truncated. Against OpenSSH's sftp-server (stdio) and our server, in every write mode.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { connectPeer, rejectionOf, type Peer, type PeerKind } from './fixture.js';
import { tempDir } from '../support/temp-dir.js';

const MODES = [
  { name: 'plain', opts: {} },
  { name: 'atomic', opts: { atomic: true } },
  { name: 'resume', opts: { resume: true } },
  { name: 'verify', opts: { verify: 'hash' as const } },
];

const NOTES = Buffer.from('my notes, which must survive a failed download\n');

for (const kind of ['openssh', 'ours'] as PeerKind[]) {
  describe(`a source that is not a regular file, against ${kind}`, () => {
    const t = tempDir('sftp-wire-not-a-file-');
    const remote = join(t.dir, 'remote');
    const local = join(t.dir, 'local');
    const state = join(t.dir, 'state');
    let peer: Peer;
    before(async () => {
      mkdirSync(remote);
      mkdirSync(join(remote, 'dir'));
      writeFileSync(join(remote, 'dir', 'inside.txt'), 'x');
      writeFileSync(join(remote, 'kept.txt'), 'the remote file, unchanged\n');
      symlinkSync('/dev/null', join(remote, 'null'));
      mkdirSync(local);
      mkdirSync(join(local, 'adir'));
      writeFileSync(join(local, 'adir', 'f.txt'), 'f');
      peer = await connectPeer(kind, remote);
    });
    after(async () => {
      await peer.close();
      t.cleanup();
    });

    for (const m of MODES) {
      it(`${m.name} get of a directory onto an existing file: EISDIR naming the remote path, the file untouched`, async () => {
        const dest = join(local, `notes-${m.name}.txt`);
        writeFileSync(dest, NOTES);
        chmodSync(dest, 0o640);
        const err = await rejectionOf(peer.client.get('dir', dest, m.opts));
        assert.equal(err.code, 'EISDIR', String(err));
        assert.equal((err as { path?: string }).path, 'dir');
        assert.ok(readFileSync(dest).equals(NOTES), 'the local file keeps its bytes');
        assert.equal(statSync(dest).mode & 0o777, 0o640, 'and its mode');
        assert.deepEqual(
          readdirSync(local).filter((n) => n.startsWith('.')),
          [],
          'no temporary or partial left',
        );
      });

      it(`${m.name} get of a directory to a new name: nothing is created`, async () => {
        const dest = join(local, `new-${m.name}.txt`);
        const err = await rejectionOf(peer.client.get('dir', dest, m.opts));
        assert.equal(err.code, 'EISDIR', String(err));
        assert.ok(!existsSync(dest), 'no empty file left under the name');
        assert.deepEqual(
          readdirSync(local).filter((n) => n.startsWith('.')),
          [],
        );
      });

      it(`${m.name} put of a local directory: EISDIR, the remote file untouched and nothing created`, async () => {
        const before = readdirSync(remote).sort();
        const err1 = await rejectionOf(
          peer.client.put(join(local, 'adir'), 'kept.txt', { ...m.opts, stateDir: state }),
        );
        assert.equal(err1.code, 'EISDIR', String(err1));
        assert.equal(readFileSync(join(remote, 'kept.txt'), 'utf8'), 'the remote file, unchanged\n');
        const err2 = await rejectionOf(
          peer.client.put(join(local, 'adir'), `up-${m.name}.txt`, { ...m.opts, stateDir: state }),
        );
        assert.equal(err2.code, 'EISDIR', String(err2));
        assert.deepEqual(readdirSync(remote).sort(), before, 'nothing created remotely');
      });
    }

    it('readFile of a directory rejects with EISDIR', async () => {
      const err = await rejectionOf(peer.client.readFile('dir'));
      assert.equal(err.code, 'EISDIR', String(err));
    });

    it('get of a device (a link to /dev/null) leaves the local file untouched', async () => {
      const dest = join(local, 'notes-dev.txt');
      writeFileSync(dest, NOTES);
      const err = await rejectionOf(peer.client.get('null', dest));
      if (kind === 'openssh') assert.equal(err.code, 'ERR_SFTP_NOT_A_FILE', String(err));
      assert.ok(readFileSync(dest).equals(NOTES));
    });
  });
}
