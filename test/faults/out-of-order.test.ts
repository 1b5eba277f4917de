/**
 * A server that completed WRITEs out of order and then dropped: the proxy withholds one WRITE (it
 * never reaches the server) while later ones land, then cuts. The partial then has a hole before its
 * end, so its size lies. Resume must find the hole (checkpoint, tail read-back, or check-file) and
 * end with a byte-identical file.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PacketType as T } from '../../src/protocol/index.js';
import { resumePartialName } from '../../src/client/file/atomic/partial-names.js';
import { leftovers, randomBytesSeeded, type PeerKind } from '../atomic/fixture.js';
import { tempDir } from '../support/temp-dir.js';
import { attempt } from './harness.js';
import type { CutProxy } from './cut-proxy.js';

const S = 256 * 1024;
const CHUNK = 4096;
const REQUESTS = 8;
const W = CHUNK * REQUESTS;

/**
 * Withhold the `hold`-th WRITE; once `after` more WRITEs got through, forward no more and cut as soon
 * as `landed()` says the server wrote them (OpenSSH's sftp-server exits at end of input without
 * running requests it read but has not yet run, so an immediate cut could leave no bytes past the
 * hole). A server that never writes them is cut after 5 s, and the test's own checks then fail.
 */
function holeThenCut(hold: number, after: number, landed: () => boolean) {
  let writes = 0;
  let cutting = false;
  return (payload: Buffer, _index: number, proxy: CutProxy): boolean => {
    if (payload[0] !== T.WRITE) return true;
    const i = writes++;
    if (i === hold) return false;
    if (i > hold + after) {
      if (!cutting) {
        cutting = true;
        const deadline = Date.now() + 5000;
        const poll = setInterval(() => {
          if (landed() || Date.now() > deadline) {
            clearInterval(poll);
            proxy.cut();
          }
        }, 5);
      }
      return false;
    }
    return true;
  };
}

for (const kind of ['openssh', 'ours'] as PeerKind[]) {
  describe(`resume after out-of-order WRITEs and a drop, against ${kind}`, () => {
    const t = tempDir('sftp-wire-ooo-');
    const src = join(t.dir, 'src.bin');
    const data = randomBytesSeeded(S, 77);
    let n = 0;
    const fresh = () => {
      const d = join(t.dir, `run${++n}`);
      mkdirSync(join(d, 'remote'), { recursive: true });
      mkdirSync(join(d, 'state'));
      return { remote: join(d, 'remote'), state: join(d, 'state') };
    };
    before(() => writeFileSync(src, data));
    after(() => t.cleanup());
    const partialPath = (remote: string) => {
      const st = statSync(src);
      return join(
        remote,
        resumePartialName('out.bin', 'out.bin', { path: realpathSync(src), size: S, mtime: Math.floor(st.mtimeMs) }),
      );
    };
    const firstDiff = (a: Buffer, from: number) => {
      let i = from;
      while (i < a.length && a[i] === data[i]) i++;
      return i;
    };

    /** Attempt 1 with a hole at WRITE number `hold`, cut `after` WRITEs later; returns the hole's offset. */
    async function makeHole(d: { remote: string; state: string }, hold: number, after: number) {
      const o = { resume: true, chunkSize: CHUNK, requests: REQUESTS, tailWindow: W, stateDir: d.state } as const;
      const landed = () => {
        try {
          return statSync(partialPath(d.remote)).size >= (hold + after + 1) * CHUNK;
        } catch {
          return false;
        }
      };
      const a1 = await attempt(kind, d.remote, { forward: holeThenCut(hold, after, landed) }, (c) =>
        c.put(src, 'out.bin', o),
      );
      assert.ok(a1.error, 'the first attempt was cut');
      // The partial now ends well past a hole: trusting its size would corrupt the result.
      const partial = readFileSync(partialPath(d.remote));
      const hole = hold * CHUNK;
      assert.ok(
        partial.length > hole + CHUNK,
        `the partial (${partial.length} bytes) extends past the hole at ${hole}`,
      );
      assert.ok(
        !partial.subarray(hole, hole + CHUNK).equals(data.subarray(hole, hole + CHUNK)),
        'the withheld WRITE left a hole',
      );
      assert.equal(firstDiff(partial, 0), hole);
      return { hole, o, partialSize: partial.length };
    }

    it('with the checkpoint: continues from the hole and ends identical', async () => {
      const d = fresh();
      const { hole, o } = await makeHole(d, 10, 4);
      assert.ok(
        readdirSync(d.state).some((f) => f.endsWith('.json')),
        'a checkpoint was kept',
      );
      const a2 = await attempt(kind, d.remote, {}, (c) => c.put(src, 'out.bin', o));
      assert.ok(a2.result, String(a2.error));
      assert.equal(a2.result.resumedFrom, hole);
      assert.ok(readFileSync(join(d.remote, 'out.bin')).equals(data));
      assert.deepEqual(leftovers(d.remote), []);
    });

    it('without a checkpoint (another machine): the tail read-back finds a hole within the window', async () => {
      const d = fresh();
      const { hole, o, partialSize } = await makeHole(d, 20, 4);
      assert.ok(partialSize - hole <= W);
      rmSync(d.state, { recursive: true, force: true });
      const a2 = await attempt(kind, d.remote, {}, (c) => c.put(src, 'out.bin', o));
      assert.ok(a2.result, String(a2.error));
      assert.equal(a2.result.resumedFrom, hole);
      assert.ok(readFileSync(join(d.remote, 'out.bin')).equals(data));
      assert.deepEqual(leftovers(d.remote), []);
    });

    it(
      kind === 'ours'
        ? 'without a checkpoint, a hole far before the end: check-file-handle finds it'
        : 'without a checkpoint, a hole far before the end: verify=hash refuses to commit, the next attempt restarts clean',
      async () => {
        const d = fresh();
        const { hole, o, partialSize } = await makeHole(d, 3, 40);
        assert.ok(partialSize - hole > W, 'the hole is outside the tail window');
        rmSync(d.state, { recursive: true, force: true });
        const oh = { ...o, verify: 'hash' } as const;
        const a2 = await attempt(kind, d.remote, {}, (c) => c.put(src, 'out.bin', oh));
        if (kind === 'ours') {
          assert.ok(a2.result, String(a2.error));
          assert.equal(a2.result.resumedFrom, hole);
        } else {
          assert.equal((a2.error as Error).name, 'VerifyError');
          assert.deepEqual(readdirSync(d.remote), [], 'nothing committed, the lying partial removed');
          const a3 = await attempt(kind, d.remote, {}, (c) => c.put(src, 'out.bin', oh));
          assert.ok(a3.result, String(a3.error));
          assert.equal(a3.result.resumedFrom, 0);
        }
        assert.ok(readFileSync(join(d.remote, 'out.bin')).equals(data));
        assert.deepEqual(leftovers(d.remote), []);
      },
    );
  });
}
