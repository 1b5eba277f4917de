import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  constants,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  readlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { closeFd, openSource, readAt, Slab, SyncGate, writeWhole } from '../../src/client/tree/local-io.js';
import { SourceChangedError } from '../../src/client/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sftp-wire-local-io-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Descriptors of this process open on files under `dir` (others — the test runner's pipes, a
 * previous test's thread-pool close finishing late — come and go on their own and are not counted).
 */
const openFds = () =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir + '/');
    } catch {
      return false;
    }
  }).length;
const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

/** A gate that sends the next `n` files to the thread pool. */
function asyncGate(): SyncGate {
  const g = new SyncGate(0.2);
  g.took(Infinity); // one slow file: the next one goes async
  return g;
}

test('SyncGate: a slow file sends the next 1, 2, 4 ... files to the thread pool, capped; fast files halve the run', () => {
  const g = new SyncGate(1);
  assert.equal(g.take(), true);
  const runOf = () => {
    let n = 0;
    while (!g.take()) n++;
    return n;
  };
  g.took(5);
  assert.equal(runOf(), 1);
  g.took(5);
  assert.equal(runOf(), 2);
  g.took(5);
  assert.equal(runOf(), 4);
  for (let i = 0; i < 20; i++) {
    g.took(5);
    runOf();
  }
  g.took(5);
  assert.equal(runOf(), 256, 'capped');
  g.took(0.5); // fast: halves the next run
  g.took(5);
  assert.equal(runOf(), 128);
  assert.ok(g.syncFiles > 0 && g.asyncFiles > 0);
});

test('Slab: buffers handed out never overlap, trimmed or not, small or large', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 20_000 }), fc.nat()), { minLength: 1, maxLength: 80 }),
      (takes) => {
        const slab = new Slab(64 * 1024);
        const live: Array<{ b: Buffer; fill: number }> = [];
        takes.forEach(([n, keepRaw], i) => {
          const b = slab.take(n);
          assert.equal(b.length, n);
          const kept = Math.min(n, keepRaw % (n + 1));
          slab.trim(b, kept);
          const v = b.subarray(0, kept);
          v.fill(i & 0xff);
          live.push({ b: v, fill: i & 0xff });
        });
        for (const { b, fill } of live) for (const x of b) assert.equal(x, fill);
      },
    ),
    { numRuns: 200 },
  );
});

for (const mode of ['sync', 'thread pool'] as const) {
  const gate = () => (mode === 'sync' ? new SyncGate(1000) : asyncGate());

  test(`openSource (${mode}): a small file is read whole and closed; a larger one stays open for readAt`, async () => {
    const fds = openFds();
    const small = join(dir, `small-${mode}`);
    const content = Buffer.from('x'.repeat(3000));
    writeFileSync(small, content, { mode: 0o640 });
    const s = await openSource(gate(), new Slab(), small, 4096);
    assert.equal(s.fd, -1);
    assert.ok(s.data?.equals(content));
    assert.equal(s.stats.size, 3000);
    assert.equal(s.stats.mode & 0o777, 0o640);
    const empty = join(dir, `empty-${mode}`);
    writeFileSync(empty, '');
    assert.equal((await openSource(gate(), new Slab(), empty, 4096)).data?.length, 0);

    const big = join(dir, `big-${mode}`);
    const bigContent = Buffer.alloc(10_000, 7);
    writeFileSync(big, bigContent);
    const b = await openSource(gate(), new Slab(), big, 4096);
    assert.equal(b.data, undefined);
    assert.ok(b.fd >= 0);
    assert.ok((await readAt(b.fd, big, 10_000, 4096, 4096, false)).equals(bigContent.subarray(4096, 8192)));
    assert.ok((await readAt(b.fd, big, 10_000, 8192, 1808, true)).equals(bigContent.subarray(8192)));
    await assert.rejects(
      readAt(b.fd, big, 9_000, 8192, 808, true),
      SourceChangedError,
      'bytes past the expected end: it grew',
    );
    await assert.rejects(readAt(b.fd, big, 12_000, 8192, 3808, true), SourceChangedError, 'fewer bytes: it shrank');
    await closeFd(b.fd);
    assert.equal(openFds(), fds, 'no descriptor left open');
  });

  test(`openSource (${mode}): a directory or a missing file is an error, and nothing stays open`, async () => {
    const fds = openFds();
    const d = join(dir, `adir-${mode}`);
    mkdirSync(d);
    await assert.rejects(openSource(gate(), new Slab(), d, 4096), { code: 'EINVAL' });
    await assert.rejects(openSource(gate(), new Slab(), join(dir, 'missing'), 4096), { code: 'ENOENT' });
    assert.equal(openFds(), fds);
  });

  test(`writeWhole (${mode}): creates or truncates, applies mode and times, refuses a link at the name`, async () => {
    const p = join(dir, `w-${mode}`);
    writeFileSync(p, 'a much longer old content');
    await writeWhole(gate(), p, WRITE_FLAGS, 0o600, Buffer.from('new'));
    assert.equal(readFileSync(p, 'utf8'), 'new');
    const q = join(dir, `w2-${mode}`);
    await writeWhole(gate(), q, WRITE_FLAGS, 0o600, Buffer.from('abc'), {
      chmod: 0o751,
      atime: 1_000_000,
      mtime: 2_000_000,
    });
    const st = statSync(q);
    assert.equal(st.mode & 0o7777, 0o751);
    assert.equal(Math.floor(st.mtimeMs / 1000), 2_000_000);
    assert.equal(Math.floor(st.atimeMs / 1000), 1_000_000);
    const target = join(dir, `target-${mode}`);
    writeFileSync(target, 'keep');
    const link = join(dir, `link-${mode}`);
    symlinkSync(target, link);
    const fds = openFds();
    await assert.rejects(writeWhole(gate(), link, WRITE_FLAGS, 0o600, Buffer.from('evil')), { code: 'ELOOP' });
    assert.equal(readFileSync(target, 'utf8'), 'keep');
    assert.equal(openFds(), fds);
  });
}
