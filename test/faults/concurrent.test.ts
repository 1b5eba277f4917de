/** Two clients uploading the same path at once with atomic: one whole file, never a mix. */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectPeer, leftovers, randomBytesSeeded, type PeerKind } from '../atomic/fixture.js';
import { tempDir } from '../support/temp-dir.js';
import { watchFile } from './harness.js';

const S = 256 * 1024;

for (const kind of ['openssh', 'ours'] as PeerKind[]) {
  describe(`two atomic uploads to one path at once, against ${kind}`, () => {
    const t = tempDir('sftp-wire-concurrent-');
    after(() => t.cleanup());

    it('the destination is always old, A or B whole; both succeed; no temporary files', async () => {
      const a = randomBytesSeeded(S, 1001);
      const b = randomBytesSeeded(S, 2002);
      const old = Buffer.from('old');
      writeFileSync(join(t.dir, 'a.bin'), a);
      writeFileSync(join(t.dir, 'b.bin'), b);
      for (let round = 0; round < 6; round++) {
        const remote = join(t.dir, `remote${round}`);
        mkdirSync(remote);
        const dest = join(remote, 'out.bin');
        writeFileSync(dest, old);
        const [p1, p2] = await Promise.all([connectPeer(kind, remote), connectPeer(kind, remote)]);
        const watch = watchFile(dest, [old, a, b]);
        try {
          // Small chunks and few requests: the two uploads interleave for many round trips.
          const o = { atomic: true, chunkSize: 4096, requests: 4, stateDir: join(t.dir, 'state') } as const;
          const [r1, r2] = await Promise.all([
            p1.client.put(join(t.dir, 'a.bin'), 'out.bin', o),
            p2.client.put(join(t.dir, 'b.bin'), 'out.bin', o),
          ]);
          assert.equal(r1.atomic && r2.atomic, true);
        } finally {
          const seen = await watch.stop();
          await p1.close();
          await p2.close();
          assert.deepEqual(seen.bad, []);
        }
        const got = readFileSync(dest);
        assert.ok(got.equals(a) || got.equals(b), 'one whole upload, not a mix');
        assert.deepEqual(leftovers(remote), []);
      }
    });
  });
}
