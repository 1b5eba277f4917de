// Every SFTP v3 request and every extension OpenSSH's sftp-server advertises, against the real server
// on its stdio; directory listings of 0, 1 and 5,000 entries; symlinks; error cases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { StatusCode, SftpError, isDirectory, isRegularFile, isSymlink } from '../../src/protocol/index.js';
import { openSsh, rejectionOf, type OpenSshFixture } from './helpers.js';

describe('SftpClient against OpenSSH sftp-server (stdio)', () => {
  let f: OpenSshFixture;
  let d: string;
  before(async () => {
    f = await openSsh();
    d = f.dir;
  });
  after(async () => f.close());

  test('handshake: version 3, OpenSSH extensions, limits asked', () => {
    const c = f.client;
    assert.equal(c.version, 3);
    assert.equal(c.isOpenSsh, true);
    for (const name of [
      'posix-rename@openssh.com',
      'statvfs@openssh.com',
      'fstatvfs@openssh.com',
      'hardlink@openssh.com',
      'fsync@openssh.com',
      'limits@openssh.com',
    ]) {
      assert.ok(c.extensions.has(name), name);
    }
    assert.equal(c.limitsFromServer, true);
    assert.ok(c.limits.maxReadLength >= 32 * 1024);
    assert.ok(c.limits.maxPacketLength >= c.limits.maxWriteLength);
    assert.equal(c.readChunkSize, Math.min(c.limits.maxReadLength, 256 * 1024));
  });

  test('open/write/fstat/fsetstat/close, then open/read with short and EOF reads', async () => {
    const c = f.client;
    const p = join(d, 'rw.bin');
    const h = await c.open(p, 'wx', { permissions: 0o640 });
    await c.write(h, 0, Buffer.from('hello '));
    await c.write(h, 6, Buffer.from('world'));
    const a = await c.fstat(h);
    assert.equal(a.size, 11);
    assert.ok(isRegularFile(a));
    await c.fsetstat(h, { permissions: 0o600 });
    await c.close(h);
    assert.equal(readFileSync(p, 'utf8'), 'hello world');
    assert.equal(statSync(p).mode & 0o777, 0o600);
    const r = await c.open(p, 'r');
    assert.equal((await c.read(r, 0, 5)).toString(), 'hello');
    assert.equal((await c.read(r, 6, 100)).toString(), 'world'); // short read at the end
    assert.equal((await c.read(r, 11, 100)).length, 0); // EOF: an empty buffer
    assert.equal((await c.read(r, 1000, 1)).length, 0);
    await c.close(r);
    // 'wx' on an existing file: EXCL fails
    const e = await rejectionOf(c.open(p, 'wx'));
    assert.ok(e instanceof SftpError);
    assert.equal(e.status, StatusCode.FAILURE);
    assert.equal(e.op, 'open');
    assert.equal(e.path, p);
  });

  test('append mode and numeric pflags', async () => {
    const c = f.client;
    const p = join(d, 'append.txt');
    writeFileSync(p, 'abc');
    const h = await c.open(p, 'a');
    await c.write(h, 0, Buffer.from('def')); // OpenSSH honours APPEND: the offset is ignored
    await c.close(h);
    assert.equal(readFileSync(p, 'utf8'), 'abcdef');
    const h2 = await c.open(p, 0x01);
    assert.equal((await c.read(h2, 0, 10)).toString(), 'abcdef');
    await c.close(h2);
    await assert.rejects(async () => c.open(p, 'bogus' as 'r'), TypeError);
  });

  test('stat, lstat, setstat (times and mode)', async () => {
    const c = f.client;
    const p = join(d, 'times.txt');
    writeFileSync(p, 'x');
    await c.setstat(p, { atime: 1_000_000, mtime: 2_000_000, permissions: 0o604 });
    const a = await c.stat(p);
    assert.equal(a.mtime, 2_000_000);
    assert.equal(a.atime, 1_000_000);
    assert.equal(a.permissions! & 0o777, 0o604);
    assert.equal(a.size, 1);
    assert.equal(a.uid, process.getuid!());
    symlinkSync('times.txt', join(d, 'times.link'));
    assert.ok(isSymlink(await c.lstat(join(d, 'times.link'))));
    assert.ok(isRegularFile(await c.stat(join(d, 'times.link'))));
  });

  test('mkdir, opendir/readdir/close, rmdir, remove, rename, realpath', async () => {
    const c = f.client;
    const sub = join(d, 'sub');
    await c.mkdir(sub, { permissions: 0o750 });
    assert.ok(isDirectory(await c.stat(sub)));
    assert.equal(statSync(sub).mode & 0o777, 0o750);
    writeFileSync(join(sub, 'one'), '1');
    const h = await c.opendir(sub);
    const names: string[] = [];
    for (let batch = await c.readdir(h); batch !== null; batch = await c.readdir(h))
      names.push(...batch.map((e) => e.filename));
    await c.close(h);
    assert.deepEqual(names.sort(), ['.', '..', 'one']);
    await c.rename(join(sub, 'one'), join(sub, 'two'));
    assert.ok(existsSync(join(sub, 'two')) && !existsSync(join(sub, 'one')));
    assert.equal(await c.realpath(join(sub, '..', 'sub', '.', 'two')), join(sub, 'two'));
    assert.equal(await c.realpath('.'), d);
    await c.remove(join(sub, 'two'));
    await c.rmdir(sub);
    assert.ok(!existsSync(sub));
  });

  test('symlink(target, linkPath) in Node order; readlink', async () => {
    const c = f.client;
    writeFileSync(join(d, 'target.txt'), 'T');
    await c.symlink('target.txt', join(d, 'link.txt'));
    assert.equal(readlinkSync(join(d, 'link.txt')), 'target.txt');
    assert.ok(lstatSync(join(d, 'link.txt')).isSymbolicLink());
    assert.equal(await c.readlink(join(d, 'link.txt')), 'target.txt');
    // a dangling link is fine; reading through it is ENOENT
    await c.symlink('nowhere', join(d, 'dangling'));
    assert.equal(await c.readlink(join(d, 'dangling')), 'nowhere');
    assert.equal((await rejectionOf(c.stat(join(d, 'dangling')))).code, 'ENOENT');
    assert.ok(isSymlink(await c.lstat(join(d, 'dangling'))));
    // readlink of a regular file fails (EINVAL, which OpenSSH maps to BAD_MESSAGE)
    const e = await rejectionOf(c.readlink(join(d, 'target.txt')));
    assert.ok(e instanceof SftpError);
    assert.equal(e.status, StatusCode.BAD_MESSAGE);
    assert.equal(e.op, 'readlink');
  });

  test('raw extended(): limits@openssh.com answers EXTENDED_REPLY; an unknown request answers OP_UNSUPPORTED', async () => {
    const c = f.client;
    const r = await c.extended('limits@openssh.com');
    assert.equal(r.type, 'data');
    assert.equal(r.type === 'data' && r.data.length, 32);
    const e = await rejectionOf(c.extended('no-such-thing@example.com', Buffer.from([1, 2, 3])));
    assert.equal(e.code, 'ENOSYS');
    assert.equal(e.status, StatusCode.OP_UNSUPPORTED);
  });

  test('extension helpers: posixRename, statvfs, fstatvfs, hardlink, fsync, lsetstat, limits, expandPath, copyData, homeDirectory, usersGroupsById', async () => {
    const c = f.client;
    writeFileSync(join(d, 'ext-a'), 'AAAA');
    writeFileSync(join(d, 'ext-b'), 'B');
    await c.posixRename(join(d, 'ext-a'), join(d, 'ext-b')); // replaces the existing target
    assert.equal(readFileSync(join(d, 'ext-b'), 'utf8'), 'AAAA');
    assert.ok(!existsSync(join(d, 'ext-a')));

    const vfs = await c.statvfs(d);
    assert.ok(vfs.bsize > 0n && vfs.blocks > 0n && vfs.namemax > 0n);
    const h = await c.open(join(d, 'ext-b'), 'r+');
    const fvfs = await c.fstatvfs(h);
    assert.equal(fvfs.fsid, vfs.fsid);
    await c.fsync(h);

    await c.hardlink(join(d, 'ext-b'), join(d, 'ext-hard'));
    assert.equal(statSync(join(d, 'ext-hard')).ino, statSync(join(d, 'ext-b')).ino);

    symlinkSync('ext-b', join(d, 'ext-sl'));
    await c.lsetstat(join(d, 'ext-sl'), { atime: 12345, mtime: 67890 });
    assert.equal(Math.floor(lstatSync(join(d, 'ext-sl')).mtimeMs / 1000), 67890);
    assert.notEqual(Math.floor(statSync(join(d, 'ext-b')).mtimeMs / 1000), 67890);

    const lim = await c.fetchLimits();
    assert.deepEqual(lim, c.limits);

    const home = userInfo().homedir;
    // OpenSSH expands a bare '~' to the directory the session started in (normally the home directory)
    assert.equal(await c.expandPath('~'), d);
    assert.equal(await c.expandPath(`~${userInfo().username}/x`), join(home, 'x'));
    assert.equal(await c.expandPath('rel'), join(d, 'rel'));
    assert.equal(await c.homeDirectory(userInfo().username), home);

    // copy-data: the whole source into a new file at offset 2
    const dst = await c.open(join(d, 'ext-copy'), 'w+');
    await c.write(dst, 0, Buffer.from('..'));
    await c.copyData(h, 0, 0, dst, 2);
    await c.close(dst);
    await c.close(h);
    assert.equal(readFileSync(join(d, 'ext-copy'), 'utf8'), '..AAAA');

    const ug = await c.usersGroupsById([process.getuid!(), 4_000_000_000], [process.getgid!()]);
    assert.equal(ug.users[0], userInfo().username);
    assert.equal(ug.users[1], '');
    assert.equal(ug.groups.length, 1);
    assert.ok(ug.groups[0]!.length > 0);
  });

  test('a helper for an extension the server does not advertise rejects with ENOSYS (never throws synchronously)', async () => {
    const c = f.client;
    assert.equal(c.supports('checkFileName'), false);
    let p: Promise<unknown> | undefined;
    assert.doesNotThrow(() => {
      p = c.checkFile(join(d, 'ext-b'));
    });
    const e = await rejectionOf(p!);
    assert.ok(e instanceof SftpError);
    assert.equal(e.code, 'ENOSYS');
    assert.equal(e.op, 'checkFile');
    assert.match(e.message, /check-file-name/);
    assert.equal((await rejectionOf(c.checkFile(Buffer.from('h')))).code, 'ENOSYS');
  });

  test('error cases: missing file ENOENT with path and op; existing directory; non-empty rmdir', async () => {
    const c = f.client;
    const missing = join(d, 'missing', 'file');
    for (const [op, p] of [
      ['stat', c.stat(missing)],
      ['lstat', c.lstat(missing)],
      ['open', c.open(missing, 'r')],
      ['opendir', c.opendir(missing)],
      ['remove', c.remove(missing)],
      ['realpath', c.realpath(missing)],
      ['readlink', c.readlink(missing)],
      ['setstat', c.setstat(missing, { permissions: 0o600 })],
    ] as const) {
      const e = await rejectionOf(p);
      assert.ok(e instanceof SftpError, op);
      assert.equal(e.code, 'ENOENT', op);
      assert.equal(e.status, StatusCode.NO_SUCH_FILE, op);
      assert.equal(e.op, op);
      assert.equal(e.path, missing);
    }
    mkdirSync(join(d, 'existing'));
    writeFileSync(join(d, 'existing', 'x'), '');
    const mk = await rejectionOf(c.mkdir(join(d, 'existing')));
    assert.equal(mk.status, StatusCode.FAILURE); // OpenSSH maps EEXIST to FAILURE
    assert.equal(mk.op, 'mkdir');
    const wdir = await rejectionOf(c.open(join(d, 'existing'), 'w'));
    assert.equal(wdir.status, StatusCode.FAILURE);
    const rm = await rejectionOf(c.rmdir(join(d, 'existing')));
    assert.equal(rm.status, StatusCode.FAILURE);
    const rdir = await rejectionOf(c.remove(join(d, 'existing')));
    assert.ok(rdir instanceof SftpError);
    // the session is still fine after all those errors
    assert.equal(await c.realpath('.'), d);
  });
});

describe('directories via scandir (OpenSSH sftp-server)', () => {
  let f: OpenShFixtureAlias;
  type OpenShFixtureAlias = OpenSshFixture;
  before(async () => {
    f = await openSsh();
    mkdirSync(join(f.dir, 'empty'));
    mkdirSync(join(f.dir, 'one'));
    writeFileSync(join(f.dir, 'one', 'only'), 'x');
    mkdirSync(join(f.dir, 'many'));
    for (let i = 0; i < 5000; i++) writeFileSync(join(f.dir, 'many', `f${i}`), '');
  });
  after(async () => f.close());

  test('0 entries: list is empty, scandir yields only . and ..', async () => {
    assert.deepEqual(await f.client.list(join(f.dir, 'empty')), []);
    const names: string[] = [];
    for await (const e of f.client.scandir(join(f.dir, 'empty'))) names.push(e.filename);
    assert.deepEqual(names.sort(), ['.', '..']);
  });

  test('1 entry with attrs and longname', async () => {
    const list = await f.client.list(join(f.dir, 'one'));
    assert.equal(list.length, 1);
    assert.equal(list[0]!.filename, 'only');
    assert.equal(list[0]!.attrs.size, 1);
    assert.ok(isRegularFile(list[0]!.attrs));
    assert.match(list[0]!.longname, /^-rw.* only$/);
  });

  test('5,000 entries, every one exactly once, with several read-ahead settings', async () => {
    for (const readAhead of [1, 4, 16]) {
      const seen = new Set<string>();
      for await (const e of f.client.scandir(join(f.dir, 'many'), { readAhead })) {
        if (e.filename === '.' || e.filename === '..') continue;
        assert.ok(!seen.has(e.filename), `duplicate ${e.filename}`);
        seen.add(e.filename);
      }
      assert.equal(seen.size, 5000);
      for (let i = 0; i < 5000; i += 499) assert.ok(seen.has(`f${i}`));
    }
  });

  test('breaking out early closes the directory handle', async () => {
    const before = f.openFds();
    let n = 0;
    for await (const e of f.client.scandir(join(f.dir, 'many'))) {
      void e;
      if (++n === 10) {
        assert.equal(f.openFds(), before + 1); // the directory is open on the server now
        break;
      }
    }
    // close was sent and answered before the loop ended
    assert.equal(f.openFds(), before);
    assert.equal(f.client.session.inFlight, 0);
  });

  test('an error thrown by the loop body closes the handle too; a missing directory rejects ENOENT', async () => {
    const before = f.openFds();
    await assert.rejects(async () => {
      for await (const e of f.client.scandir(join(f.dir, 'many'))) {
        void e;
        throw new Error('stop');
      }
    }, /stop/);
    assert.equal(f.openFds(), before);
    const e = await rejectionOf(f.client.list(join(f.dir, 'nope')));
    assert.equal(e.code, 'ENOENT');
  });
});

describe('permission denied (OpenSSH sftp-server -R, read-only)', () => {
  let f: OpenSshFixture;
  before(async () => {
    f = await openSsh({ args: ['-R'] });
    writeFileSync(join(f.dir, 'ro.txt'), 'read only');
  });
  after(async () => f.close());

  test('writes are EACCES, reads work', async () => {
    const c = f.client;
    for (const [op, p] of [
      ['open', c.open(join(f.dir, 'new.txt'), 'w')],
      ['mkdir', c.mkdir(join(f.dir, 'd'))],
      ['remove', c.remove(join(f.dir, 'ro.txt'))],
      ['rename', c.rename(join(f.dir, 'ro.txt'), join(f.dir, 'x'))],
      ['setstat', c.setstat(join(f.dir, 'ro.txt'), { permissions: 0o600 })],
      ['symlink', c.symlink('ro.txt', join(f.dir, 'l'))],
    ] as const) {
      const e = await rejectionOf(p);
      assert.ok(e instanceof SftpError, op);
      assert.equal(e.code, 'EACCES', op);
      assert.equal(e.status, StatusCode.PERMISSION_DENIED, op);
      assert.equal(e.op, op);
    }
    const e = await rejectionOf(c.writeFile(join(f.dir, 'ro.txt'), 'x'));
    assert.equal(e.code, 'EACCES');
    assert.equal((await c.readFile(join(f.dir, 'ro.txt'))).toString(), 'read only');
  });
});
