import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  lstatSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
  mkdirSync,
  existsSync,
} from 'node:fs';
import { join } from 'node:path';
import { connectPeer, leftovers, randomBytesSeeded, rejectionOf, type PeerKind } from './fixture.js';
import { tempDir } from '../support/temp-dir.js';

for (const kind of ['openssh', 'ours'] as PeerKind[]) {
  describe(`atomic put against ${kind}`, () => {
    const t = tempDir('sftp-wire-atomic-put-');
    const state = tempDir('sftp-wire-atomic-state-');
    const src = join(t.dir, 'src.bin');
    const data = randomBytesSeeded(200_000, 7);
    before(() => writeFileSync(src, data));
    after(() => {
      t.cleanup();
      state.cleanup();
    });
    const opts = { atomic: true, chunkSize: 8192, requests: 8, stateDir: state.dir } as const;

    it('creates a new file whole, leaves no temporary file, reports atomic', async () => {
      const dir = t.fresh();
      const p = await connectPeer(kind, dir);
      try {
        const r = await p.client.put(src, 'out.bin', opts);
        assert.equal(r.atomic, true);
        assert.equal(r.replaced, false);
        assert.equal(r.bytes, data.length);
        assert.ok(readFileSync(join(dir, 'out.bin')).equals(data));
        assert.deepEqual(leftovers(dir), []);
      } finally {
        await p.close();
      }
    });

    it('replaces an existing file atomically and keeps its mode', async () => {
      const dir = t.fresh();
      writeFileSync(join(dir, 'out.bin'), 'old contents');
      chmodSync(join(dir, 'out.bin'), 0o640);
      const p = await connectPeer(kind, dir);
      try {
        const r = await p.client.put(src, 'out.bin', { ...opts, verify: 'hash' });
        assert.equal(r.replaced, 'atomic');
        assert.equal(r.verified, 'hash');
        assert.ok(readFileSync(join(dir, 'out.bin')).equals(data));
        assert.equal(statSync(join(dir, 'out.bin')).mode & 0o777, 0o640);
        assert.deepEqual(leftovers(dir), []);
      } finally {
        await p.close();
      }
    });

    it('a destination that is a directory is EISDIR, nothing created', async () => {
      const dir = t.fresh();
      mkdirSync(join(dir, 'sub'));
      const p = await connectPeer(kind, dir);
      try {
        const err = await rejectionOf(p.client.put(src, 'sub', opts));
        assert.equal(err.code, 'EISDIR');
        assert.deepEqual(leftovers(join(dir, 'sub')), []);
        assert.deepEqual(leftovers(dir), []);
      } finally {
        await p.close();
      }
    });

    it('a destination symlink is followed: the target is replaced, the link stays', async () => {
      const dir = t.fresh();
      mkdirSync(join(dir, 'real'));
      writeFileSync(join(dir, 'real', 'file.bin'), 'old');
      symlinkSync('real/file.bin', join(dir, 'link.bin'));
      const p = await connectPeer(kind, dir);
      try {
        const r = await p.client.put(src, 'link.bin', opts);
        assert.equal(r.replaced, 'atomic');
        assert.ok(lstatSync(join(dir, 'link.bin')).isSymbolicLink());
        assert.equal(readlinkSync(join(dir, 'link.bin')), 'real/file.bin');
        assert.ok(readFileSync(join(dir, 'real', 'file.bin')).equals(data));
        assert.deepEqual(leftovers(join(dir, 'real')), []);
      } finally {
        await p.close();
      }
    });

    it('without posix-rename: an existing destination is a clear EEXIST, old file kept, temp removed', async () => {
      const dir = t.fresh();
      writeFileSync(join(dir, 'out.bin'), 'old contents');
      const p = await connectPeer(kind, dir);
      try {
        p.client.extensions.delete('posix-rename@openssh.com');
        const err = await rejectionOf(p.client.put(src, 'out.bin', opts));
        assert.equal(err.code, 'EEXIST');
        assert.match(err.message, /allowNonAtomicReplace/);
        assert.equal(readFileSync(join(dir, 'out.bin'), 'utf8'), 'old contents');
        assert.deepEqual(leftovers(dir), []);
        // Allowed: REMOVE + RENAME, and the result says so.
        const r = await p.client.put(src, 'out.bin', { ...opts, allowNonAtomicReplace: true });
        assert.equal(r.replaced, 'non-atomic');
        assert.equal(r.atomic, false);
        assert.ok(readFileSync(join(dir, 'out.bin')).equals(data));
        // A new destination still commits atomically with plain RENAME.
        const r2 = await p.client.put(src, 'new.bin', opts);
        assert.equal(r2.atomic, true);
        assert.ok(readFileSync(join(dir, 'new.bin')).equals(data));
        assert.deepEqual(leftovers(dir), []);
      } finally {
        await p.close();
      }
    });

    it('abort mid-transfer: the old file stays, the temporary file is removed', async () => {
      const dir = t.fresh();
      writeFileSync(join(dir, 'out.bin'), 'old contents');
      const p = await connectPeer(kind, dir);
      try {
        const ac = new AbortController();
        const err = await rejectionOf(
          p.client.put(src, 'out.bin', {
            ...opts,
            signal: ac.signal,
            onProgress: (pr) => {
              if (pr.bytes > 50_000) ac.abort();
            },
          }),
        );
        assert.equal(err.name, 'AbortError');
        assert.equal(readFileSync(join(dir, 'out.bin'), 'utf8'), 'old contents');
        assert.deepEqual(leftovers(dir), []);
      } finally {
        await p.close();
      }
    });

    it('writeFile with atomic and verify', async () => {
      const dir = t.fresh();
      const p = await connectPeer(kind, dir);
      try {
        const r = await p.client.writeFile('w.bin', data, { ...opts, verify: 'tail' });
        assert.equal(r.atomic, true);
        assert.equal(r.verified, 'tail');
        assert.ok(readFileSync(join(dir, 'w.bin')).equals(data));
        const err = await rejectionOf(p.client.writeFile('w.bin', data, { resume: true }));
        assert.equal(err.code, 'ERR_NOT_SUPPORTED');
        assert.deepEqual(leftovers(dir), []);
      } finally {
        await p.close();
      }
    });

    it('verify without atomic writes in place and checks before closing', async () => {
      const dir = t.fresh();
      const p = await connectPeer(kind, dir);
      try {
        const r = await p.client.put(src, 'v.bin', { chunkSize: 8192, verify: 'hash' });
        assert.equal(r.atomic, false);
        assert.equal(r.verified, 'hash');
        assert.ok(readFileSync(join(dir, 'v.bin')).equals(data));
        assert.ok(!existsSync(join(dir, '.v.bin')));
      } finally {
        await p.close();
      }
    });
  });
}
