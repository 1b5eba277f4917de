/**
 * LocalFs answers a path request synchronously when the parent's path has no symlink and calls are
 * fast, and through the full walk on the thread pool otherwise (syncBudgetMs 0 forces that). Both must
 * give the same answers — the same errors (the kernel's, EACCES for outside), the same files read and
 * created — on every path, symlinks in and out of the root included. Also: a directory renamed and
 * replaced is never taken for its old name, and a session leaves no descriptor open.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { LocalFs } from '../../src/server/fs/local-fs.js';
import { errnoOf } from '../../src/server/fs/fs-error.js';
import type { FileSystem, OpenOptions } from '../../src/server/fs/file-system.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { sessionConfig } from '../../src/server/session-settings.js';
import { OpenFlags, PacketType as T, StatusCode } from '../../src/protocol/constants.js';
import { connect } from '../support/raw-client.js';
import { tempDir } from '../support/temp-dir.js';

const SECRET = 'OUTSIDE-SECRET';

/** base/{root, outside}: a tree with every kind of symlink, the same in every world built. */
function buildWorld(base: string): { root: string; outside: string } {
  const root = path.join(base, 'root');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(path.join(outside, 'odir'), { recursive: true });
  fs.writeFileSync(path.join(outside, 'secret'), SECRET);
  fs.mkdirSync(path.join(root, 'a', 'b'), { recursive: true });
  fs.writeFileSync(path.join(root, 'a', 'file'), 'in-a');
  fs.writeFileSync(path.join(root, 'a', 'b', 'file'), 'in-b');
  fs.symlinkSync('b', path.join(root, 'a', 'to-b')); // relative, to a directory
  fs.symlinkSync('file', path.join(root, 'a', 'to-file')); // relative, to a file
  fs.symlinkSync('..', path.join(root, 'a', 'b', 'up')); // climbing, inside
  fs.symlinkSync('../../outside/secret', path.join(root, 'a', 'rel-out')); // climbing out
  fs.symlinkSync(outside, path.join(root, 'abs-out')); // absolute, to a directory outside
  fs.symlinkSync(path.join(root, 'a', 'b'), path.join(root, 'abs-in')); // absolute, inside
  fs.symlinkSync('missing-target', path.join(root, 'a', 'dangling')); // dangling, inside
  fs.symlinkSync(path.join(outside, 'new'), path.join(root, 'dangling-out')); // dangling, outside
  fs.symlinkSync('loop2', path.join(root, 'loop1'));
  fs.symlinkSync('loop1', path.join(root, 'loop2'));
  return { root, outside };
}

const NAMES = ['a', 'b', 'file', 'to-b', 'to-file', 'up', 'rel-out', 'abs-out', 'abs-in', 'dangling'];
const MORE = ['dangling-out', 'loop1', 'missing', '..', '.', 'secret', 'odir', 'new-name'];
const component = fc.constantFrom(...NAMES, ...MORE);
const vpath = fc
  .array(component, { minLength: 0, maxLength: 5 })
  .chain((parts) => fc.constantFrom('/' + parts.join('/'), parts.join('/') || '.', '/' + parts.join('/') + '/'));

const OPS = [
  ...['lstat', 'stat', 'read', 'create', 'exclusive', 'realpath'],
  ...['mkdir', 'rmdir', 'remove', 'symlink', 'readlink', 'list'],
] as const;
type Op = (typeof OPS)[number];
const ops = fc.constantFrom<Op>(...OPS);

const READ: OpenOptions = { read: true, write: false, append: false, create: false, truncate: false, exclusive: false };
const CREATE: OpenOptions = { read: false, write: true, append: true, create: true, truncate: false, exclusive: false };

/** List `dir` of `fsys` whole; how many names, and how many synchronous lstats that took. */
async function listCountingSync(fsys: FileSystem, dir: string): Promise<{ names: number; sync: number }> {
  let sync = 0;
  const real = fs.lstatSync;
  (fs as { lstatSync: unknown }).lstatSync = (...args: unknown[]) => {
    sync++;
    return (real as (...a: unknown[]) => unknown)(...args);
  };
  try {
    const d = await fsys.opendir(dir);
    let names = 0;
    for (let b = await d.read(16); b !== null; b = await d.read(16)) names += b.length;
    await d.close();
    return { names, sync };
  } finally {
    (fs as { lstatSync: unknown }).lstatSync = real;
  }
}

/** What one request gives, in terms that do not depend on which world it ran in. */
async function outcome(fsys: FileSystem, op: Op, p: string, n: number): Promise<string> {
  try {
    switch (op) {
      case 'lstat':
      case 'stat': {
        const st = await (op === 'lstat' ? fsys.lstat(p) : fsys.stat(p));
        return `${op} mode=${st.mode.toString(8)} size=${st.size} nlink=${st.nlink}`;
      }
      case 'read': {
        const f = await fsys.open(p, READ);
        try {
          return `read ${(await f.read(0, 64)).toString()}`;
        } finally {
          await f.close();
        }
      }
      case 'create':
      case 'exclusive': {
        const f = await fsys.open(p, op === 'create' ? CREATE : { ...CREATE, exclusive: true });
        try {
          await f.write(0, Buffer.from(`w${n};`));
          return `${op} ok`;
        } finally {
          await f.close();
        }
      }
      case 'realpath':
        return `realpath ${await fsys.realpath(p)}`;
      case 'mkdir':
        await fsys.mkdir(p, 0o755);
        return 'mkdir ok';
      case 'rmdir':
        await fsys.rmdir(p);
        return 'rmdir ok';
      case 'remove':
        await fsys.remove(p);
        return 'remove ok';
      case 'symlink':
        await fsys.symlink(n % 2 ? '../a/file' : 'b', p);
        return 'symlink ok';
      case 'readlink': {
        // an absolute target outside names its own world: compare what follows the world's folder
        const target = await fsys.readlink(p);
        return `readlink ${target.replace(/^\/.*\/(outside|root)(?=\/|$)/, '<$1>')}`;
      }
      case 'list': {
        const d = await fsys.opendir(p);
        try {
          const names: string[] = [];
          for (let batch = await d.read(100); batch; batch = await d.read(100)) {
            for (const e of batch) names.push(`${e.name}:${e.stats?.mode.toString(8)}`);
          }
          return `list ${names.sort().join(',')}`;
        } finally {
          await d.close();
        }
      }
    }
  } catch (err) {
    return `${op} error ${errnoOf(err) ?? String(err)}`;
  }
}

/** Every entry under `dir` with its kind, size and content (files) or target (links). */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const name of fs.readdirSync(d).sort()) {
      const full = path.join(d, name);
      const st = fs.lstatSync(full);
      if (st.isSymbolicLink()) out.push(`${rel}${name} -> ${path.basename(fs.readlinkSync(full))}`);
      else if (st.isDirectory()) {
        out.push(`${rel}${name}/`);
        walk(full, `${rel}${name}/`);
      } else out.push(`${rel}${name} ${fs.readFileSync(full, 'latin1')}`);
    }
  };
  walk(dir, '');
  return out;
}

describe('LocalFs: the synchronous fast path and the thread-pool walk answer alike', () => {
  let t: ReturnType<typeof tempDir>;
  before(() => {
    t = tempDir('sftp-wire-fast-path-');
  });
  after(() => t.cleanup());

  it('every request on every path: same answer, same files, nothing outside touched', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(ops, vpath), { minLength: 1, maxLength: 12 }), async (requests) => {
        const fast = buildWorld(t.fresh());
        const pool = buildWorld(t.fresh());
        const fastFs = new LocalFs(fast.root);
        const poolFs = new LocalFs(pool.root, { syncBudgetMs: 0 });
        for (const [i, [op, p]] of requests.entries()) {
          const a = await outcome(fastFs, op, p, i);
          const b = await outcome(poolFs, op, p, i);
          assert.equal(a, b, `${op} ${p}: fast path ${a}, thread pool ${b}`);
          assert.ok(!a.includes(SECRET), `${op} ${p} read outside: ${a}`);
        }
        assert.deepEqual(snapshot(fast.root), snapshot(pool.root));
        assert.deepEqual(snapshot(fast.outside), ['odir/', `secret ${SECRET}`]);
        assert.deepEqual(snapshot(pool.outside), ['odir/', `secret ${SECRET}`]);
      }),
      { numRuns: 60 },
    );
  });

  it('the fast path answers without a trip through the event loop; syncBudgetMs 0 never takes it', async () => {
    const w = buildWorld(t.fresh());
    /** Does `p` settle before a setImmediate callback runs (no thread-pool call on the way)? */
    const settlesFirst = (p: Promise<unknown>): Promise<boolean> =>
      Promise.race([
        p.then(
          () => true,
          () => true,
        ),
        new Promise<boolean>((r) => setImmediate(() => r(false))),
      ]);
    const sync = new LocalFs(w.root, { syncBudgetMs: 60_000 });
    const pool = new LocalFs(w.root, { syncBudgetMs: 0 });
    for (const [name, lfs, expected] of [
      ['synchronous', sync, true],
      ['thread pool', pool, false],
    ] as const) {
      assert.equal(await settlesFirst(lfs.lstat('/a/b/file')), expected, `${name}: lstat`);
      assert.equal(await settlesFirst(lfs.lstat('/a/b/missing')), expected, `${name}: lstat of nothing`);
      assert.equal(await settlesFirst(lfs.stat('/a/to-file')), expected, `${name}: stat through a link`);
      const opened = lfs.open('/a/b/file', READ);
      assert.equal(await settlesFirst(opened), expected, `${name}: open`);
      await (await opened).close();
    }
  });

  it('syncBudgetMs 0 lists a directory without a synchronous call; a generous budget lists with them', async () => {
    const w = buildWorld(t.fresh());
    for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(w.root, 'a', `f${i}`), '');
    const sync = await listCountingSync(new LocalFs(w.root, { syncBudgetMs: 60_000 }), '/a');
    const pool = await listCountingSync(new LocalFs(w.root, { syncBudgetMs: 0 }), '/a');
    assert.equal(sync.names, pool.names);
    assert.ok(sync.names > 40);
    assert.ok(sync.sync >= sync.names, `generous budget: ${sync.sync} synchronous lstats for ${sync.names} entries`);
    assert.equal(pool.sync, 0, 'syncBudgetMs 0: no synchronous lstat');
  });

  it('SftpServer gives syncBudgetMs to the LocalFs it makes, and to a session’s own root; not with fs', async () => {
    const w = buildWorld(t.fresh());
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(w.root, 'a', `f${i}`), '');
    const server = new SftpServer({ root: w.root, syncBudgetMs: 0 });
    assert.equal((await listCountingSync(server.fs, '/a')).sync, 0, 'the server’s LocalFs');
    const own = sessionConfig(server, { root: path.join(w.root, 'a') });
    const listed = await listCountingSync(own.fs, '/');
    assert.ok(listed.names >= 20);
    assert.equal(listed.sync, 0, 'a session’s own root');
    const byDefault = new SftpServer({ root: w.root });
    assert.ok((await listCountingSync(byDefault.fs, '/a')).sync > 0, 'the default budget lists synchronously');
    assert.throws(() => new SftpServer({ fs: new LocalFs(w.root), syncBudgetMs: 0 }), TypeError);
  });

  it('a budget that is not a number of milliseconds is refused', () => {
    for (const bad of [-1, Number.NaN, Infinity, '5' as unknown as number])
      assert.throws(() => new LocalFs('/', { syncBudgetMs: bad }), RangeError, String(bad));
  });

  it('the errors are the kernel’s: ENOENT, ENOTDIR, ELOOP, and EACCES for outside', async () => {
    const w = buildWorld(t.fresh());
    const lfs = new LocalFs(w.root);
    const code = (p: Promise<unknown>): Promise<string | undefined> =>
      p.then(
        () => 'ok',
        (e) => errnoOf(e),
      );
    assert.equal(await code(lfs.lstat('/a/missing')), 'ENOENT');
    assert.equal(await code(lfs.lstat('/missing/x')), 'ENOENT');
    assert.equal(await code(lfs.lstat('/a/file/x')), 'ENOTDIR');
    assert.equal(await code(lfs.stat('/loop1')), 'ELOOP');
    assert.equal(await code(lfs.stat('/a/rel-out')), 'EACCES');
    assert.equal(await code(lfs.lstat('/abs-out/secret')), 'EACCES');
    assert.equal(await code(lfs.open('/abs-out/secret', READ)), 'EACCES');
    assert.equal(await code(lfs.open('/dangling-out', CREATE)), 'EACCES');
    assert.equal(await code(lfs.open('/a/to-file', { ...CREATE, exclusive: true })), 'EEXIST');
    assert.equal(await code(lfs.lstat('/a/to-b/file')), 'ok');
    assert.equal(await code(lfs.lstat('/abs-in/up/file')), 'ok');
    assert.ok(!fs.existsSync(path.join(w.outside, 'new')));
  });

  it('a directory renamed and replaced is never taken for its old name', async () => {
    const w = buildWorld(t.fresh());
    const server = new SftpServer({ fs: new LocalFs(w.root) });
    const { client: c, served } = await connect(server);
    try {
      // use the directory by name a few times first, as a client walking it would
      for (let i = 0; i < 5; i++) assert.equal((await c.attrs(T.LSTAT, '/a/file')).size, 4);
      await c.ok({ type: T.RENAME, oldPath: '/a', newPath: '/a-old' });
      await c.ok({ type: T.MKDIR, path: '/a', attrs: {} });
      const h = await c.open('/a/x', OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC);
      await c.ok({ type: T.WRITE, handle: h, offset: 0, data: Buffer.from('new') });
      await c.ok({ type: T.CLOSE, handle: h });
      assert.equal(fs.readFileSync(path.join(w.root, 'a', 'x'), 'utf8'), 'new');
      assert.ok(!fs.existsSync(path.join(w.root, 'a-old', 'x')));
      const st = await c.request({ type: T.LSTAT, path: '/a/file' });
      assert.equal(st.type === T.STATUS && st.code, StatusCode.NO_SUCH_FILE);
      // and a directory swapped for a symlink to outside after use is refused, not followed
      fs.renameSync(path.join(w.root, 'a'), path.join(w.root, 'a-new'));
      fs.symlinkSync(w.outside, path.join(w.root, 'a'));
      const out = await c.request({ type: T.LSTAT, path: '/a/secret' });
      assert.equal(out.type === T.STATUS && out.code, StatusCode.PERMISSION_DENIED);
    } finally {
      c.end();
      await served;
    }
  });

  for (const syncBudgetMs of [undefined, 0]) {
    it(`a session leaves no descriptor open (${syncBudgetMs === 0 ? 'thread pool' : 'synchronous'})`, async () => {
      const base = t.fresh();
      const w = buildWorld(base);
      const server = new SftpServer({ fs: new LocalFs(w.root, { syncBudgetMs }) });
      /** This process's descriptors that lead into the world (directories pinned, files opened). */
      const intoWorld = (): number =>
        fs.readdirSync('/proc/self/fd').filter((fd) => {
          try {
            return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(base);
          } catch {
            return false; // the descriptor readdir itself used, gone already
          }
        }).length;
      const all = (): number => fs.readdirSync('/proc/self/fd').length;
      const { client: c, served } = await connect(server);
      await c.attrs(T.LSTAT, '/a/file'); // warm: whatever a first request opens once per process
      const before = all();
      assert.equal(intoWorld(), 0);
      const paths = ['/a/file', '/a/to-file', '/abs-in/file', '/a/missing', '/abs-out/secret', '/loop1', '/a/file/x'];
      for (let round = 0; round < 20; round++) {
        for (const p of paths) {
          await c.request({ type: T.LSTAT, path: p });
          await c.request({ type: T.STAT, path: p });
          const r = await c.request({ type: T.OPEN, path: p, pflags: OpenFlags.READ, attrs: {} });
          if (r.type === T.HANDLE) await c.ok({ type: T.CLOSE, handle: r.handle });
        }
        const d = await c.request({ type: T.OPENDIR, path: '/a' });
        if (d.type === T.HANDLE) await c.ok({ type: T.CLOSE, handle: d.handle });
      }
      assert.equal(intoWorld(), 0, 'descriptors left open by requests that were answered');
      assert.equal(all(), before);
      // handles left open are closed when the session ends
      for (let i = 0; i < 10; i++) await c.open('/a/file', OpenFlags.READ);
      for (let i = 0; i < 3; i++) await c.opendir('/a/b');
      assert.equal(intoWorld(), 13);
      c.end();
      await served;
      await c.closed;
      assert.equal(intoWorld(), 0, 'descriptors left open after the session');
    });
  }
});
