import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { resumePartialName } from '../../src/client/file/atomic/partial-names.js';
import { connectPeer, leftovers, randomBytesSeeded, rejectionOf, type PeerKind } from './fixture.js';
import { tempDir } from '../support/temp-dir.js';

const S = 200_000;

for (const kind of ['openssh', 'ours'] as PeerKind[]) {
  describe(`atomic and resumable get against ${kind}`, () => {
    const remote = tempDir('sftp-wire-get-remote-');
    const local = tempDir('sftp-wire-get-local-');
    const data = randomBytesSeeded(S, 23);
    before(() => writeFileSync(join(remote.dir, 'src.bin'), data));
    after(() => {
      remote.cleanup();
      local.cleanup();
    });
    const identity = () => ({
      path: 'src.bin',
      size: S,
      mtime: Math.floor(statSync(join(remote.dir, 'src.bin')).mtimeMs / 1000),
    });
    const opts = { chunkSize: 8192, requests: 8, tailWindow: 32 * 1024 } as const;

    it('atomic: replaces the local file whole, keeps its mode, no temporary file left', async () => {
      const dir = local.fresh();
      writeFileSync(join(dir, 'out.bin'), 'old');
      chmodSync(join(dir, 'out.bin'), 0o600);
      const p = await connectPeer(kind, remote.dir);
      try {
        const r = await p.client.get('src.bin', join(dir, 'out.bin'), { ...opts, atomic: true, verify: 'hash' });
        assert.equal(r.atomic, true);
        assert.equal(r.replaced, 'atomic');
        assert.equal(r.verified, 'hash');
        assert.ok(readFileSync(join(dir, 'out.bin')).equals(data));
        assert.equal(statSync(join(dir, 'out.bin')).mode & 0o777, 0o600);
        assert.deepEqual(leftovers(dir), []);
      } finally {
        await p.close();
      }
    });

    it('atomic: a failed download leaves the old file and no temporary file', async () => {
      const dir = local.fresh();
      writeFileSync(join(dir, 'out.bin'), 'old');
      const p = await connectPeer(kind, remote.dir);
      try {
        const ac = new AbortController();
        const err = await rejectionOf(
          p.client.get('src.bin', join(dir, 'out.bin'), {
            ...opts,
            atomic: true,
            signal: ac.signal,
            onProgress: (pr) => {
              if (pr.bytes > 60_000) ac.abort();
            },
          }),
        );
        assert.equal(err.name, 'AbortError');
        assert.equal(readFileSync(join(dir, 'out.bin'), 'utf8'), 'old');
        assert.deepEqual(leftovers(dir), []);
        assert.equal(
          (await rejectionOf(p.client.get('missing.bin', join(dir, 'out.bin'), { ...opts, atomic: true }))).code,
          'ENOENT',
        );
        assert.deepEqual(leftovers(dir), []);
      } finally {
        await p.close();
      }
    });

    it('a local directory destination is EISDIR; a local symlink is followed', async () => {
      const dir = local.fresh();
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'target.bin'), 'old');
      symlinkSync('target.bin', join(dir, 'link.bin'));
      const p = await connectPeer(kind, remote.dir);
      try {
        assert.equal(
          (await rejectionOf(p.client.get('src.bin', join(dir, 'sub'), { ...opts, atomic: true }))).code,
          'EISDIR',
        );
        await p.client.get('src.bin', join(dir, 'link.bin'), { ...opts, atomic: true });
        assert.ok(lstatSync(join(dir, 'link.bin')).isSymbolicLink());
        assert.equal(readlinkSync(join(dir, 'link.bin')), 'target.bin');
        assert.ok(readFileSync(join(dir, 'target.bin')).equals(data));
        assert.deepEqual(leftovers(dir), []);
      } finally {
        await p.close();
      }
    });

    it('resume: continues a correct partial; a hole in the tail is found', async () => {
      const dir = local.fresh();
      const dest = join(dir, 'out.bin');
      const name = resumePartialName('out.bin', dest, identity());
      writeFileSync(join(dir, name), data.subarray(0, 90_000));
      const p = await connectPeer(kind, remote.dir);
      try {
        const r = await p.client.get('src.bin', dest, { ...opts, resume: true });
        assert.equal(r.resumedFrom, 90_000);
        assert.equal(r.bytes, S - 90_000);
        assert.ok(readFileSync(dest).equals(data));
        assert.deepEqual(leftovers(dir), []);
        assert.ok(!existsSync(join(dir, name + '.ckpt')));
        const holed = Buffer.from(data.subarray(0, 150_000));
        holed.fill(0, 130_000, 140_000);
        writeFileSync(join(dir, name), holed);
        let expected = 130_000;
        while (data[expected] === 0) expected++;
        const r2 = await p.client.get('src.bin', dest, { ...opts, resume: true });
        assert.equal(r2.resumedFrom, expected);
        assert.ok(readFileSync(dest).equals(data));
      } finally {
        await p.close();
      }
    });

    it('resume: P > S restarts; a changed remote file removes the stale partial', async () => {
      const dir = local.fresh();
      const dest = join(dir, 'out.bin');
      const name = resumePartialName('out.bin', dest, identity());
      writeFileSync(join(dir, name), Buffer.concat([data, data]));
      const p = await connectPeer(kind, remote.dir);
      try {
        const r = await p.client.get('src.bin', dest, { ...opts, resume: true });
        assert.equal(r.resumedFrom, 0);
        assert.ok(readFileSync(dest).equals(data));
        // An old partial for another version of the remote file.
        writeFileSync(join(dir, name), data.subarray(0, 100_000));
        const changed = Buffer.from(data);
        changed.fill(3, 0, 500);
        writeFileSync(join(remote.dir, 'src.bin'), changed);
        utimesSync(join(remote.dir, 'src.bin'), new Date(), new Date(Date.now() + 10_000));
        const r2 = await p.client.get('src.bin', dest, { ...opts, resume: true });
        assert.equal(r2.resumedFrom, 0);
        assert.ok(readFileSync(dest).equals(changed));
        assert.ok(!existsSync(join(dir, name)));
        assert.deepEqual(leftovers(dir), []);
      } finally {
        writeFileSync(join(remote.dir, 'src.bin'), data);
        await p.close();
      }
    });
  });
}
