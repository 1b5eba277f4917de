/**
 * Disconnect at a byte drawn by fast-check over the whole download, against OpenSSH's sftp-server and
 * our server: with atomic the local destination is only ever the old file or the whole new one and no
 * temporary file is left; with resume, repeated attempts end byte-identical and re-read at most about
 * one window (plus the verification read-back) per cut.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { leftovers, randomBytesSeeded, type PeerKind } from '../atomic/fixture.js';
import { tempDir } from '../support/temp-dir.js';
import { attempt, CUT_SHAPE, uncutTotal, watchFile } from './harness.js';

const { size: S, chunk: CHUNK, requests: REQUESTS, window: W, runs: RUNS } = CUT_SHAPE;

for (const kind of ['openssh', 'ours'] as PeerKind[]) {
  describe(`get cut at any byte, against ${kind}`, () => {
    const t = tempDir('sftp-wire-cut-get-');
    const remote = join(t.dir, 'remote');
    const data = randomBytesSeeded(S, 202);
    const old = randomBytesSeeded(7000, 5);
    before(() => {
      mkdirSync(remote);
      writeFileSync(join(remote, 'src.bin'), data);
    });
    after(() => t.cleanup());

    it('atomic: the local destination is the old file or the whole new one at every look; nothing else left', async () => {
      const opts = { atomic: true, chunkSize: CHUNK, requests: REQUESTS } as const;
      const total = await uncutTotal(kind, remote, (c) => c.get('src.bin', join(t.fresh(), 'out.bin'), opts));
      let cutFailures = 0;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: total - 1 }), fc.boolean(), async (N, hasOld) => {
          const d = t.fresh();
          const dest = join(d, 'out.bin');
          if (hasOld) writeFileSync(dest, old);
          const watch = watchFile(dest, hasOld ? [old, data] : [data]);
          const a1 = await attempt(kind, remote, { cutAfter: N }, (c) => c.get('src.bin', dest, opts));
          if (a1.error) {
            cutFailures++;
            assert.deepEqual(leftovers(d), [], 'the failed attempt removed its temporary file');
          }
          const a2 = await attempt(kind, remote, {}, (c) => c.get('src.bin', dest, opts));
          const seen = await watch.stop();
          assert.ok(a2.result, String(a2.error));
          assert.deepEqual(seen.bad, []);
          assert.ok(readFileSync(dest).equals(data));
          assert.deepEqual(readdirSync(d), ['out.bin']);
        }),
        { numRuns: RUNS },
      );
      assert.ok(cutFailures > 0);
    });

    it('resume: repeated cut attempts end byte-identical, re-reading at most about one window per cut', async () => {
      const opts = { resume: true, chunkSize: CHUNK, requests: REQUESTS, tailWindow: W } as const;
      const total = await uncutTotal(kind, remote, (c) => c.get('src.bin', join(t.fresh(), 'out.bin'), opts));
      let resumed = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 0, max: total - 1 }), { minLength: 1, maxLength: 3 }),
          async (cuts) => {
            const d = t.fresh();
            const dest = join(d, 'out.bin');
            const watch = watchFile(dest, [data]);
            let received = 0;
            let cutsTaken = 0;
            let result;
            for (const N of [...cuts, Infinity]) {
              const a = await attempt(kind, remote, { cutAfter: N }, (c) => c.get('src.bin', dest, opts));
              received += a.proxy.dataDown;
              if (a.result) {
                result = a.result;
                break;
              }
              cutsTaken++;
              assert.ok(!existsSync(dest), 'a failed attempt never shows the destination');
            }
            const seen = await watch.stop();
            assert.ok(result, 'an attempt succeeded');
            assert.deepEqual(seen.bad, []);
            assert.ok(readFileSync(dest).equals(data));
            assert.deepEqual(readdirSync(d), ['out.bin'], 'partial and checkpoint gone');
            // Per cut: DATA in flight lost (one window) plus the tail read back to verify (one window).
            assert.ok(
              received <= S + cutsTaken * (2 * W + CHUNK),
              `received ${received} for ${S} bytes over ${cutsTaken} cuts`,
            );
            if (result.resumedFrom > 0) resumed++;
          },
        ),
        { numRuns: RUNS },
      );
      assert.ok(resumed > 0, 'some runs resumed from a partial');
    });
  });
}
