/** The source changed between a cut attempt and the retry: the old partial is never continued. */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { leftovers, randomBytesSeeded, type PeerKind } from '../atomic/fixture.js';
import { tempDir } from '../support/temp-dir.js';
import { attempt } from './harness.js';

const S = 256 * 1024;
const opts = { resume: true, chunkSize: 4096, requests: 8, tailWindow: 32 * 1024 } as const;

for (const kind of ['openssh', 'ours'] as PeerKind[]) {
  describe(`source changed between attempts, against ${kind}`, () => {
    const t = tempDir('sftp-wire-changed-');
    const v1 = randomBytesSeeded(S, 1);
    // Same size, same tail, different start: a size check or a tail check alone would continue.
    const v2 = Buffer.from(v1);
    v2.fill(0x55, 0, 2000);
    let n = 0;
    const fresh = () => {
      const d = join(t.dir, `run${++n}`);
      mkdirSync(join(d, 'remote'), { recursive: true });
      mkdirSync(join(d, 'local'));
      return { remote: join(d, 'remote'), local: join(d, 'local'), state: join(d, 'state') };
    };
    after(() => t.cleanup());

    it('put: the retry starts from 0 with the new version and removes the stale partial', async () => {
      const d = fresh();
      const src = join(d.local, 'src.bin');
      writeFileSync(src, v1);
      const o = { ...opts, stateDir: d.state };
      const a1 = await attempt(kind, d.remote, { cutAfter: 150_000 }, (c) => c.put(src, 'out.bin', o));
      assert.ok(a1.error);
      assert.equal(leftovers(d.remote).length, 1, 'the partial of version 1 is kept');
      writeFileSync(src, v2);
      utimesSync(src, new Date(), new Date(Date.now() + 60_000));
      const a2 = await attempt(kind, d.remote, {}, (c) => c.put(src, 'out.bin', o));
      assert.ok(a2.result, String(a2.error));
      assert.equal(a2.result.resumedFrom, 0);
      assert.ok(readFileSync(join(d.remote, 'out.bin')).equals(v2));
      assert.deepEqual(leftovers(d.remote), []);
    });

    it('get: the retry starts from 0 with the new version and removes the stale partial', async () => {
      const d = fresh();
      writeFileSync(join(d.remote, 'src.bin'), v1);
      const dest = join(d.local, 'out.bin');
      const a1 = await attempt(kind, d.remote, { cutAfter: 150_000 }, (c) => c.get('src.bin', dest, opts));
      assert.ok(a1.error);
      assert.equal(leftovers(d.local).length, 1, 'the partial of version 1 is kept');
      writeFileSync(join(d.remote, 'src.bin'), v2);
      utimesSync(join(d.remote, 'src.bin'), new Date(), new Date(Date.now() + 60_000));
      const a2 = await attempt(kind, d.remote, {}, (c) => c.get('src.bin', dest, opts));
      assert.ok(a2.result, String(a2.error));
      assert.equal(a2.result.resumedFrom, 0);
      assert.ok(readFileSync(dest).equals(v2));
      assert.deepEqual(readdirSync(d.local), ['out.bin']);
    });
  });
}
