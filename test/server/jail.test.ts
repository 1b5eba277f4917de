import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdirSync,
  writeFileSync,
  symlinkSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  existsSync,
  statSync,
} from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { PacketType as T, StatusCode, OpenFlags } from '../../src/protocol/constants.js';
import type { Packet } from '../../src/protocol/packets.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { LocalFs } from '../../src/server/fs/local-fs.js';
import { connect, type RawClient } from '../support/raw-client.js';
import { tempDir } from '../support/temp-dir.js';

const SECRET = 'TOP-SECRET-OUTSIDE';
const NEW = OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC;

/** Every byte a reply carries, to check that no outside content or listing leaks. */
function replyText(p: Packet): string {
  switch (p.type) {
    case T.DATA:
      return p.data.toString('latin1');
    case T.NAME:
      return p.entries.map((e) => `${e.filename} ${e.longname}`).join('\n');
    case T.STATUS:
      return p.message;
    case T.ATTRS:
      return JSON.stringify(p.attrs);
    default:
      return '';
  }
}

describe('LocalFs jail', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let outside: string;
  let c: RawClient;
  let served: Promise<void>;
  let outsideListing: string[];
  let outsideSize: number;
  let outsideMode: number;

  before(async () => {
    t = tempDir('sftp-wire-jail-');
    root = path.join(t.dir, 'root');
    outside = path.join(t.dir, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'secret'), SECRET);
    mkdirSync(path.join(outside, 'private-dir'));
    mkdirSync(path.join(root, 'inner'));
    writeFileSync(path.join(root, 'inner', 'ok.txt'), 'inside');
    symlinkSync(outside, path.join(root, 'out-dir')); // absolute, to a directory outside
    symlinkSync(path.join(outside, 'secret'), path.join(root, 'out-file')); // absolute, to a file outside
    symlinkSync('../outside/secret', path.join(root, 'rel-out')); // relative, climbing out
    symlinkSync('../../outside', path.join(root, 'inner', 'deep-out'));
    symlinkSync(path.join(outside, 'new-file'), path.join(root, 'dangling-out')); // dangling, outside
    symlinkSync('inner/ok.txt', path.join(root, 'good-link'));
    outsideListing = readdirSync(outside).sort();
    outsideSize = statSync(path.join(outside, 'secret')).size;
    outsideMode = statSync(path.join(outside, 'secret')).mode & 0o777;
    ({ client: c, served } = await connect(new SftpServer({ root })));
  });
  after(async () => {
    c.end();
    await served;
    t.cleanup();
  });

  function assertOutsideUntouched(): void {
    assert.deepEqual(readdirSync(outside).sort(), outsideListing);
    assert.equal(readFileSync(path.join(outside, 'secret'), 'utf8'), SECRET);
    assert.equal(statSync(path.join(outside, 'secret')).size, outsideSize);
    assert.equal(statSync(path.join(outside, 'secret')).mode & 0o777, outsideMode);
  }

  const escapes = [
    '/../outside/secret',
    '../../outside/secret',
    '/inner/../../outside/secret',
    'out-dir/secret',
    'out-file',
    'rel-out',
    'inner/deep-out/secret',
    '/out-dir',
  ];

  it('.. and absolute paths stay in the root: /.. is /', async () => {
    assert.equal(await c.realpath('/..'), '/');
    assert.equal(await c.realpath('../../..'), '/');
    const top = await c.list('/../..');
    assert.ok(top.includes('inner'));
    assert.ok(!top.includes('outside') && !top.includes('secret'));
  });

  it("nothing outside is read, stat'ed or listed through .., absolute paths or symlinks", async () => {
    for (const p of escapes) {
      const replies: Packet[] = [
        await c.request({ type: T.OPEN, path: p, pflags: OpenFlags.READ, attrs: {} }),
        await c.request({ type: T.STAT, path: p }),
        await c.request({ type: T.OPENDIR, path: p }),
        await c.request({ type: T.REALPATH, path: p }),
        await c.ext('checkFileName', { target: p, algorithms: ['md5'], startOffset: 0, length: 0, blockSize: 0 }),
        await c.ext('statvfs', { path: p + '/x' }),
      ];
      for (const r of replies) {
        // REALPATH may answer with a virtual path ("/outside/secret" names a file inside the root)
        assert.ok(r.type === T.STATUS || r.type === T.NAME, `${p}: ${JSON.stringify(r)}`);
        if (r.type === T.STATUS) assert.notEqual(r.code, StatusCode.OK, p);
        assert.ok(!replyText(r).includes(SECRET), p);
        assert.ok(!replyText(r).includes(t.dir), `${p} leaks the real path: ${replyText(r)}`);
      }
    }
  });

  it('LSTAT and READLINK of a link pointing out describe the link only', async () => {
    const a = await c.attrs(T.LSTAT, '/out-file');
    assert.equal(a.permissions! & 0o170000, 0o120000);
    const rl = await c.request({ type: T.READLINK, path: '/rel-out' });
    assert.equal(rl.type === T.NAME && rl.entries[0]!.filename, '../outside/secret');
  });

  it('nothing outside is written, created, removed, renamed or changed', async () => {
    const attempts: Packet[] = [];
    for (const p of ['/../outside/created', 'out-dir/created', 'dangling-out', 'out-file', 'inner/deep-out/created']) {
      attempts.push(await c.request({ type: T.OPEN, path: p, pflags: NEW, attrs: {} }));
      attempts.push(await c.request({ type: T.MKDIR, path: p + '/sub-dir', attrs: {} }));
    }
    attempts.push(await c.request({ type: T.REMOVE, path: 'out-dir/secret' }));
    attempts.push(await c.request({ type: T.RMDIR, path: 'out-dir/private-dir' }));
    attempts.push(await c.request({ type: T.SETSTAT, path: 'out-file', attrs: { permissions: 0o777, size: 0 } }));
    attempts.push(await c.request({ type: T.SETSTAT, path: 'out-dir/secret', attrs: { size: 1 } }));
    attempts.push(await c.request({ type: T.RENAME, oldPath: 'out-dir/secret', newPath: '/stolen' }));
    attempts.push(await c.request({ type: T.RENAME, oldPath: '/inner/ok.txt', newPath: 'out-dir/planted' }));
    attempts.push(await c.ext('posixRename', { oldPath: '/inner/ok.txt', newPath: 'out-dir/secret' }));
    attempts.push(await c.ext('hardlink', { oldPath: 'out-dir/secret', newPath: '/hard' }));
    attempts.push(await c.request({ type: T.SYMLINK, first: '/etc/passwd', second: 'out-dir/planted-link' }));
    for (const r of attempts) assert.ok(r.type === T.STATUS && r.code !== StatusCode.OK, JSON.stringify(r));
    assertOutsideUntouched();
    assert.ok(!existsSync(path.join(root, 'stolen')) && !existsSync(path.join(root, 'hard')));
    // what is inside still works
    assert.equal((await c.readFile('/good-link')).toString(), 'inside');
  });

  it('a symlink created with an absolute target is stored as given and cannot be followed out', async () => {
    await c.ok({ type: T.SYMLINK, first: path.join(outside, 'secret'), second: '/abs-link' });
    const rl = await c.request({ type: T.READLINK, path: '/abs-link' });
    assert.equal(rl.type === T.NAME && rl.entries[0]!.filename, path.join(outside, 'secret'));
    const r = await c.request({ type: T.OPEN, path: '/abs-link', pflags: OpenFlags.READ, attrs: {} });
    assert.equal(r.type, T.STATUS);
    const w = await c.request({ type: T.OPEN, path: '/abs-link', pflags: NEW, attrs: {} });
    assert.equal(w.type, T.STATUS);
    assertOutsideUntouched();
  });

  it('a directory swapped for a symlink between the check and the use is not followed (pinned parent)', async () => {
    const fs = new LocalFs(root);
    mkdirSync(path.join(root, 'swap'));
    writeFileSync(path.join(root, 'swap', 'secret'), 'inside-version');
    // The swap happens after the parent was resolved and checked, right before the use.
    const got = await fs.jail.at('/swap/secret', async (p) => {
      renameSync(path.join(root, 'swap'), path.join(root, 'swap-old'));
      symlinkSync(outside, path.join(root, 'swap'));
      return fsp.readFile(p, 'utf8');
    });
    assert.equal(got, 'inside-version');
    // now that `swap` is the link, the check itself refuses it
    await assert.rejects(
      fs.jail.at('/swap/planted', async (p) => fsp.writeFile(p, 'x')),
      { code: 'EACCES' },
    );
    // and a write whose directory is swapped after the check lands in the checked directory
    rmSync(path.join(root, 'swap'));
    renameSync(path.join(root, 'swap-old'), path.join(root, 'swap'));
    await fs.jail.at('/swap/planted', async (p) => {
      renameSync(path.join(root, 'swap'), path.join(root, 'swap-old'));
      symlinkSync(outside, path.join(root, 'swap'));
      await fsp.writeFile(p, 'x');
    });
    assertOutsideUntouched();
    assert.ok(existsSync(path.join(root, 'swap-old', 'planted')));
    rmSync(path.join(root, 'swap'));
    rmSync(path.join(root, 'swap-old'), { recursive: true });
  });

  it('racing swaps of a directory and a symlink to outside never leak or write outside', async () => {
    const dir = path.join(root, 'race');
    const aside = path.join(root, 'race-real');
    mkdirSync(aside);
    writeFileSync(path.join(aside, 'secret'), 'inside-version');
    symlinkSync('race-real', dir);
    let stop = false;
    const swapper = (async () => {
      // flip `race` between a link to the inside directory and a link to the outside one
      let i = 0;
      while (!stop) {
        const tmp = path.join(root, `race-tmp-${i++}`);
        symlinkSync(i % 2 ? outside : 'race-real', tmp);
        renameSync(tmp, dir);
        await new Promise((r) => setImmediate(r));
      }
    })();
    const seen: Packet[] = [];
    for (let round = 0; round < 60; round++) {
      const batch = await Promise.all([
        c.request({ type: T.OPEN, path: '/race/secret', pflags: OpenFlags.READ, attrs: {} }),
        c.request({ type: T.STAT, path: '/race/secret' }),
        c.request({ type: T.OPEN, path: '/race/planted', pflags: NEW, attrs: {} }),
        c.request({ type: T.SETSTAT, path: '/race/secret', attrs: { size: 3 } }),
      ]);
      for (const p of batch) {
        seen.push(p);
        if (p.type === T.HANDLE) {
          const text = await c.readAll(p.handle).catch(() => Buffer.alloc(0));
          assert.ok(!text.toString().includes('SECRET'));
          await c.request({ type: T.CLOSE, handle: p.handle });
        }
      }
      const listing = await c.request({ type: T.OPENDIR, path: '/race' });
      if (listing.type === T.HANDLE) {
        const names = await c.request({ type: T.READDIR, handle: listing.handle });
        assert.ok(!replyText(names).includes('private-dir'), 'outside directory listed');
        await c.request({ type: T.CLOSE, handle: listing.handle });
      }
    }
    stop = true;
    await swapper;
    for (const p of seen) assert.ok(!replyText(p).includes(SECRET));
    assertOutsideUntouched();
    rmSync(dir);
    rmSync(aside, { recursive: true });
  });
});
