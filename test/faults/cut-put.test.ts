/**
 * Disconnect at a byte drawn by fast-check over the whole upload, against OpenSSH's sftp-server and
 * our server: with atomic the destination is only ever the old file or the whole new one, and no
 * temporary file survives the next attempt; with resume, repeated attempts end byte-identical and
 * re-send at most about one window per cut.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { leftovers, randomBytesSeeded, type PeerKind } from '../atomic/fixture.js';
import { tempDir } from '../support/temp-dir.js';
import { attempt, CUT_SHAPE, uncutTotal, watchFile } from './harness.js';

const { size: S, chunk: CHUNK, requests: REQUESTS, window: W, runs: RUNS } = CUT_SHAPE;

for (const kind of ['openssh', 'ours'] as PeerKind[]) {
  describe(`put cut at any byte, against ${kind}`, () => {
    const t = tempDir('sftp-wire-cut-put-');
    const src = join(t.dir, 'src.bin');
    const data = randomBytesSeeded(S, 101);
    const old = randomBytesSeeded(5000, 3);
    const fresh = () => {
      const d = t.fresh('state', 'remote');
      return { remote: join(d, 'remote'), state: join(d, 'state') };
    };
    before(() => writeFileSync(src, data));
    after(() => t.cleanup());

    it('control: a plain put cut in the middle leaves a truncated file under the final name', async () => {
      const d = fresh();
      const a = await attempt(kind, d.remote, { cutAfter: S / 2 }, (c) =>
        c.put(src, 'out.bin', { chunkSize: CHUNK, requests: REQUESTS }),
      );
      assert.ok(a.error, 'the cut fails the put');
      const got = readFileSync(join(d.remote, 'out.bin'));
      assert.ok(got.length < S && got.length > 0, `a partial file of ${got.length} bytes is visible`);
    });

    it('atomic: the destination is the old file or the whole new one at every look; no temporary file after the retry', async () => {
      const calib = fresh();
      const opts = { atomic: true, chunkSize: CHUNK, requests: REQUESTS } as const;
      const total = await uncutTotal(kind, calib.remote, (c) =>
        c.put(src, 'out.bin', { ...opts, stateDir: calib.state }),
      );
      let cutFailures = 0;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: total - 1 }), fc.boolean(), async (N, hasOld) => {
          const d = fresh();
          const dest = join(d.remote, 'out.bin');
          if (hasOld) writeFileSync(dest, old);
          const watch = watchFile(dest, hasOld ? [old, data] : [data]);
          const o = { ...opts, stateDir: d.state };
          const a1 = await attempt(kind, d.remote, { cutAfter: N }, (c) => c.put(src, 'out.bin', o));
          if (a1.error) cutFailures++;
          // After the cut: at most the one temporary file the client could not remove.
          assert.ok(leftovers(d.remote).length <= 1);
          const a2 = await attempt(kind, d.remote, {}, (c) => c.put(src, 'out.bin', o));
          const seen = await watch.stop();
          assert.ok(a2.result, `the retry succeeds: ${String(a2.error)}`);
          assert.deepEqual(seen.bad, []);
          assert.ok(seen.looks > 2);
          assert.ok(readFileSync(dest).equals(data));
          assert.deepEqual(leftovers(d.remote), [], 'the retry removed the orphaned temporary file');
          assert.deepEqual(existsSync(join(d.state, 'orphans')) ? readdirSync(join(d.state, 'orphans')) : [], []);
        }),
        { numRuns: RUNS },
      );
      assert.ok(cutFailures > 0);
    });

    it('resume: repeated cut attempts end byte-identical, re-sending at most about one window per cut', async () => {
      const calib = fresh();
      const opts = { resume: true, chunkSize: CHUNK, requests: REQUESTS, tailWindow: W } as const;
      const total = await uncutTotal(kind, calib.remote, (c) =>
        c.put(src, 'out.bin', { ...opts, stateDir: calib.state }),
      );
      let resumed = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 0, max: total - 1 }), { minLength: 1, maxLength: 3 }),
          async (cuts) => {
            const d = fresh();
            const dest = join(d.remote, 'out.bin');
            const watch = watchFile(dest, [data]);
            const o = { ...opts, stateDir: d.state };
            let prevEnd: number | undefined; // contiguous end of the WRITEs the previous attempt got through
            let sent = 0;
            let replyLost = false;
            let result;
            let cutsTaken = 0;
            // Retry until an attempt succeeds: attempt i is cut after cuts[i] bytes (the last is never cut).
            for (const N of [...cuts, Infinity]) {
              const a = await attempt(kind, d.remote, { cutAfter: N }, (c) => c.put(src, 'out.bin', o));
              const first = a.proxy.writes[0]?.offset;
              if (first !== undefined) {
                if (prevEnd !== undefined && !replyLost) {
                  assert.ok(
                    first >= prevEnd - W,
                    `resumed at ${first}, the previous attempt had ${prevEnd} contiguous`,
                  );
                }
                prevEnd = a.proxy.contiguousFrom(first);
              }
              if (!replyLost) sent += a.proxy.writeBytes;
              if (a.result) {
                result = a.result;
                break;
              }
              cutsTaken++;
              // Cut after the rename reached the server (its reply lost): the file is whole; a retry starts anew.
              if (existsSync(dest)) replyLost = true;
            }
            assert.ok(result, 'an attempt succeeded');
            const seen = await watch.stop();
            assert.deepEqual(seen.bad, []);
            assert.ok(readFileSync(dest).equals(data));
            assert.deepEqual(leftovers(d.remote), []);
            assert.deepEqual(
              readdirSync(d.state).filter((f) => f.endsWith('.json')),
              [],
              'checkpoint removed',
            );
            if (!replyLost) {
              assert.ok(sent <= S + cutsTaken * W, `sent ${sent} for ${S} bytes over ${cutsTaken} cuts`);
              if (result.resumedFrom > 0) resumed++;
            }
            if (process.env.FAULT_DEBUG)
              console.log(kind, cuts, 'cuts', cutsTaken, 'sent', sent, 'resumedFrom', result.resumedFrom, replyLost);
          },
        ),
        { numRuns: RUNS },
      );
      assert.ok(resumed > 0, 'some runs resumed from a partial');
    });
  });
}
