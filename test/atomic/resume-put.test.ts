import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resumePartialName } from '../../src/client/file/atomic/partial-names.js';
import { Checkpointer, uploadCheckpointPath } from '../../src/client/file/atomic/resume-checkpoint.js';
import { connectPeer, leftovers, randomBytesSeeded, rejectionOf, type PeerKind } from './fixture.js';
import { tempDir } from '../support/temp-dir.js';

const S = 200_000;

for (const kind of ['openssh', 'ours'] as PeerKind[]) {
  describe(`resumable put against ${kind}`, () => {
    const t = tempDir('sftp-wire-resume-put-');
    const state = tempDir('sftp-wire-resume-state-');
    const src = join(t.dir, 'src.bin');
    const data = randomBytesSeeded(S, 11);
    before(() => writeFileSync(src, data));
    after(() => {
      t.cleanup();
      state.cleanup();
    });
    const identity = () => {
      const st = statSync(src);
      return { path: realpathSync(src), size: st.size, mtime: Math.floor(st.mtimeMs) };
    };
    const partialName = () => resumePartialName('out.bin', 'out.bin', identity());
    const opts = { resume: true, chunkSize: 8192, requests: 8, stateDir: state.dir, tailWindow: 32 * 1024 } as const;
    const firstNonZero = (from: number) => {
      let i = from;
      while (data[i] === 0) i++;
      return i;
    };

    it('continues a correct partial from its end and commits it whole', async () => {
      const dir = t.fresh();
      writeFileSync(join(dir, partialName()), data.subarray(0, 120_000));
      const p = await connectPeer(kind, dir);
      try {
        const r = await p.client.put(src, 'out.bin', opts);
        assert.equal(r.resumedFrom, 120_000);
        assert.equal(r.bytes, S - 120_000);
        assert.ok(readFileSync(join(dir, 'out.bin')).equals(data));
        assert.deepEqual(leftovers(dir), []);
        assert.deepEqual(
          readdirSync(state.dir).filter((f) => f.endsWith('.json')),
          [],
        );
      } finally {
        await p.close();
      }
    });

    it('a hole inside the tail window is found: continues from the hole, not from the size', async () => {
      const dir = t.fresh();
      const partial = Buffer.from(data.subarray(0, 120_000));
      partial.fill(0, 100_000, 110_000); // a WRITE that never landed while later ones did
      writeFileSync(join(dir, partialName()), partial);
      const p = await connectPeer(kind, dir);
      try {
        const r = await p.client.put(src, 'out.bin', opts);
        assert.equal(r.resumedFrom, firstNonZero(100_000));
        assert.ok(readFileSync(join(dir, 'out.bin')).equals(data));
      } finally {
        await p.close();
      }
    });

    it('a checkpoint bounds the trusted prefix: a hole after it is found even far before the end', async () => {
      const dir = t.fresh();
      const partial = Buffer.from(data.subarray(0, 190_000));
      partial.fill(0, 40_000, 48_000);
      writeFileSync(join(dir, partialName()), partial);
      const key = { partial: partialName(), destination: 'out.bin', source: identity() };
      const ck = new Checkpointer(uploadCheckpointPath(state.dir, key), key, 0, 1);
      ck.update(40_000);
      await ck.flush();
      const p = await connectPeer(kind, dir);
      try {
        const r = await p.client.put(src, 'out.bin', opts);
        assert.equal(r.resumedFrom, firstNonZero(40_000));
        assert.ok(readFileSync(join(dir, 'out.bin')).equals(data));
      } finally {
        await p.close();
      }
    });

    it('a partial larger than the source restarts from 0', async () => {
      const dir = t.fresh();
      writeFileSync(join(dir, partialName()), Buffer.concat([data, Buffer.from('extra')]));
      const p = await connectPeer(kind, dir);
      try {
        const r = await p.client.put(src, 'out.bin', opts);
        assert.equal(r.resumedFrom, 0);
        assert.equal(r.bytes, S);
        assert.ok(readFileSync(join(dir, 'out.bin')).equals(data));
      } finally {
        await p.close();
      }
    });

    it('a complete partial (P == S) is verified, then committed without writing', async () => {
      const dir = t.fresh();
      writeFileSync(join(dir, partialName()), data);
      const p = await connectPeer(kind, dir);
      try {
        const r = await p.client.put(src, 'out.bin', opts);
        assert.equal(r.resumedFrom, S);
        assert.equal(r.bytes, 0);
        assert.ok(readFileSync(join(dir, 'out.bin')).equals(data));
        // A complete-sized partial with a wrong tail is rewritten from the difference.
        const bad = Buffer.from(data);
        bad.writeUInt8(bad.readUInt8(S - 5) ^ 0xff, S - 5);
        writeFileSync(join(dir, partialName()), bad);
        const r2 = await p.client.put(src, 'out.bin', opts);
        assert.equal(r2.resumedFrom, S - 5);
        assert.ok(readFileSync(join(dir, 'out.bin')).equals(data));
        assert.deepEqual(leftovers(dir), []);
      } finally {
        await p.close();
      }
    });

    it('a changed source never continues the old partial; the stale partial is removed', async () => {
      const dir = t.fresh();
      const oldName = partialName();
      // The partial of an earlier version of the source: same bytes at the start, so size alone would "resume".
      writeFileSync(join(dir, oldName), data.subarray(0, 150_000));
      const changed = Buffer.from(data);
      changed.fill(1, 0, 1000); // the new version differs at the start, far from any tail window
      writeFileSync(src, changed);
      utimesSync(src, new Date(), new Date(Date.now() + 5000));
      try {
        const p = await connectPeer(kind, dir);
        try {
          const r = await p.client.put(src, 'out.bin', opts);
          assert.equal(r.resumedFrom, 0);
          assert.ok(readFileSync(join(dir, 'out.bin')).equals(changed));
          assert.ok(!existsSync(join(dir, oldName)), 'the stale partial was removed');
          assert.deepEqual(leftovers(dir), []);
        } finally {
          await p.close();
        }
      } finally {
        writeFileSync(src, data);
      }
    });

    it('a failed attempt keeps the partial; verify=hash catches a partial that lies beyond the tail window', async () => {
      const dir = t.fresh();
      const partial = Buffer.from(data.subarray(0, 190_000));
      partial.fill(0, 20_000, 28_000); // far before the tail window, no checkpoint
      writeFileSync(join(dir, partialName()), partial);
      const p = await connectPeer(kind, dir);
      try {
        if (kind === 'ours') {
          // check-file-handle is offered: every byte of the partial is checked by hash.
          const r = await p.client.put(src, 'out.bin', { ...opts, verify: 'hash' });
          assert.equal(r.resumedFrom, firstNonZero(20_000));
          assert.ok(readFileSync(join(dir, 'out.bin')).equals(data));
        } else {
          // Only a tail window can be read back cheaply: the hole is missed by the resume check, but
          // verify: 'hash' catches it before the commit, and the lying partial is removed.
          const err = await rejectionOf(p.client.put(src, 'out.bin', { ...opts, verify: 'hash' }));
          assert.equal(err.name, 'VerifyError');
          assert.ok(!existsSync(join(dir, 'out.bin')), 'nothing committed');
          assert.deepEqual(leftovers(dir), []);
          const r = await p.client.put(src, 'out.bin', { ...opts, verify: 'hash' });
          assert.equal(r.resumedFrom, 0);
          assert.ok(readFileSync(join(dir, 'out.bin')).equals(data));
        }
      } finally {
        await p.close();
      }
    });
  });
}
