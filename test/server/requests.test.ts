import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { PacketType as T, StatusCode, OpenFlags, FileType } from '../../src/protocol/constants.js';
import { Extensions } from '../../src/protocol/extensions.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import type { FileSystem } from '../../src/server/fs/file-system.js';
import { connect, type RawClient } from '../support/raw-client.js';
import { storages } from './helpers/fixtures.js';

const RW = OpenFlags.READ | OpenFlags.WRITE;
const NEW = OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC;

for (const storage of storages) {
  describe(`requests against ${storage.name}`, () => {
    let made: { fs: FileSystem; cleanup(): void };
    let c: RawClient;
    let served: Promise<void>;
    let version: Awaited<ReturnType<typeof connect>>['version'];

    before(async () => {
      made = storage.make();
      const s = await connect(new SftpServer({ fs: made.fs }));
      c = s.client;
      served = s.served;
      version = s.version;
    });
    after(async () => {
      c.end();
      await served;
      made.cleanup();
    });

    it('advertises version 3 and every extension', async () => {
      assert.equal(version.version, 3);
      const names = version.extensions.map((e) => e.name).sort();
      assert.deepEqual(
        names,
        Object.values(Extensions)
          .map((e) => e.name)
          .sort(),
      );
      const lim = await c.extReply('limits', {});
      assert.equal(lim.maxPacketLength, 256 * 1024 + 1024);
      assert.equal(lim.maxReadLength, 261120);
      assert.equal(lim.maxOpenHandles, 1024);
    });

    it('writes, reads, fstats and closes a file; READ past the end is EOF', async () => {
      const data = randomBytes(100_000);
      await c.writeFile('/f.bin', data);
      assert.deepEqual(await c.readFile('f.bin'), data);
      const h = await c.open('/f.bin', OpenFlags.READ);
      const st = await c.request({ type: T.FSTAT, handle: h });
      assert.equal(st.type, T.ATTRS);
      assert.equal(st.type === T.ATTRS && st.attrs.size, 100_000);
      assert.equal(await c.status({ type: T.READ, handle: h, offset: 100_000, length: 10 }), StatusCode.EOF);
      const short = await c.request({ type: T.READ, handle: h, offset: 99_990, length: 100 });
      assert.equal(short.type === T.DATA && short.data.length, 10);
      await c.ok({ type: T.CLOSE, handle: h });
      assert.equal(await c.status({ type: T.CLOSE, handle: h }), StatusCode.FAILURE);
    });

    it('caps READ at maxRead', async () => {
      await c.writeFile('/big.bin', randomBytes(300_000));
      const h = await c.open('/big.bin', OpenFlags.READ);
      const p = await c.request({ type: T.READ, handle: h, offset: 0, length: 1 << 30 });
      assert.equal(p.type === T.DATA && p.data.length, 261120);
      await c.ok({ type: T.CLOSE, handle: h });
    });

    it("answers one handle's pipelined requests in order, with the file written in order", async () => {
      const h = await c.open('/ordered.bin', NEW | OpenFlags.READ);
      const expected = Buffer.alloc(64 * 1000);
      const pending: Promise<unknown>[] = [];
      const ids: number[] = [];
      const before = c.arrivals.length;
      for (let i = 0; i < 64; i++) {
        const chunk = Buffer.alloc(1000, i);
        chunk.copy(expected, i * 1000);
        pending.push(c.request({ type: T.WRITE, handle: h, offset: i * 1000, data: chunk }));
      }
      // overlapping rewrite of the first chunk must land after the first write
      pending.push(c.request({ type: T.WRITE, handle: h, offset: 0, data: Buffer.alloc(10, 0xee) }));
      expected.fill(0xee, 0, 10);
      await Promise.all(pending);
      const got = c.arrivals.slice(before);
      ids.push(...got);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
      );
      assert.deepEqual(await c.readAll(h), expected);
      await c.ok({ type: T.CLOSE, handle: h });
    });

    it('EXCL fails on an existing name; opening a missing file without CREAT is NO_SUCH_FILE', async () => {
      await c.writeFile('/x', Buffer.from('x'));
      const s = await c.statusOf({ type: T.OPEN, path: '/x', pflags: NEW | OpenFlags.EXCL, attrs: {} });
      assert.equal(s.code, StatusCode.FAILURE);
      assert.match(s.message, /^EEXIST/);
      assert.equal(
        await c.status({ type: T.OPEN, path: '/nope', pflags: OpenFlags.READ, attrs: {} }),
        StatusCode.NO_SUCH_FILE,
      );
    });

    it('stat, lstat, setstat and fsetstat', async () => {
      await c.writeFile('/s.txt', Buffer.from('hello world'));
      await c.ok({
        type: T.SETSTAT,
        path: '/s.txt',
        attrs: { permissions: 0o600, atime: 1_000_000, mtime: 2_000_000 },
      });
      let a = await c.attrs(T.STAT, '/s.txt');
      assert.equal(a.permissions! & 0o7777, 0o600);
      assert.equal(a.permissions! & FileType.MASK, FileType.REGULAR);
      assert.equal(a.mtime, 2_000_000);
      assert.equal(a.atime, 1_000_000);
      await c.ok({ type: T.SETSTAT, path: '/s.txt', attrs: { size: 5 } });
      assert.equal((await c.attrs(T.LSTAT, '/s.txt')).size, 5);
      const h = await c.open('/s.txt', RW);
      await c.ok({ type: T.FSETSTAT, handle: h, attrs: { size: 2, permissions: 0o640 } });
      await c.ok({ type: T.CLOSE, handle: h });
      a = await c.attrs(T.STAT, '/s.txt');
      assert.equal(a.size, 2);
      assert.equal(a.permissions! & 0o777, 0o640);
      assert.equal(await c.status({ type: T.STAT, path: '/missing' }), StatusCode.NO_SUCH_FILE);
    });

    it('mkdir, readdir in batches with . and .. and longnames, rmdir', async () => {
      await c.ok({ type: T.MKDIR, path: '/dir', attrs: { permissions: 0o755 } });
      const s = await c.statusOf({ type: T.MKDIR, path: '/dir', attrs: {} });
      assert.match(s.message, /^EEXIST/);
      for (let i = 0; i < 230; i++) await c.writeFile(`/dir/f${i}`, Buffer.from(String(i)));
      const batches = await c.names('/dir');
      // the first reply is small (100 names, like OpenSSH's), later ones are filled by size
      assert.ok(batches.length >= 2, `expected several batches, got ${batches.length}`);
      assert.equal(batches[0]!.length, 100);
      const names = batches.flat().map((e) => e.filename);
      assert.equal(names.length, 232);
      assert.ok(names.includes('.') && names.includes('..'));
      const f7 = batches.flat().find((e) => e.filename === 'f7')!;
      assert.match(f7.longname, /^-rw-r--r-- +1 +\S+ +\S+ +1 \w{3} [ \d]\d [ \d]\d:\d\d|\d{4} f7$/);
      assert.ok(f7.longname.endsWith(' f7'));
      assert.equal(f7.attrs.size, 1);
      const notEmpty = await c.statusOf({ type: T.RMDIR, path: '/dir' });
      assert.equal(notEmpty.code, StatusCode.FAILURE);
      assert.match(notEmpty.message, /^ENOTEMPTY/);
      for (let i = 0; i < 230; i++) await c.ok({ type: T.REMOVE, path: `/dir/f${i}` });
      await c.ok({ type: T.RMDIR, path: '/dir' });
      assert.equal(await c.status({ type: T.OPENDIR, path: '/dir' }), StatusCode.NO_SUCH_FILE);
    });

    it('RENAME refuses to replace; posix-rename replaces', async () => {
      await c.writeFile('/r1', Buffer.from('one'));
      await c.writeFile('/r2', Buffer.from('two'));
      const s = await c.statusOf({ type: T.RENAME, oldPath: '/r1', newPath: '/r2' });
      assert.equal(s.code, StatusCode.FAILURE);
      assert.match(s.message, /^EEXIST/);
      await c.ok({ type: T.RENAME, oldPath: '/r1', newPath: '/r3' });
      assert.deepEqual(await c.readFile('/r3'), Buffer.from('one'));
      const p = await c.ext('posixRename', { oldPath: '/r3', newPath: '/r2' });
      assert.equal(p.type === T.STATUS && p.code, StatusCode.OK);
      assert.deepEqual(await c.readFile('/r2'), Buffer.from('one'));
      assert.equal(await c.status({ type: T.STAT, path: '/r3' }), StatusCode.NO_SUCH_FILE);
      await c.ok({ type: T.MKDIR, path: '/rd', attrs: {} });
      await c.ok({ type: T.RENAME, oldPath: '/rd', newPath: '/rd2' });
      await c.ok({ type: T.RMDIR, path: '/rd2' });
    });

    it('SYMLINK takes the target first (OpenSSH order); READLINK, LSTAT; hardlink', async () => {
      await c.writeFile('/target.txt', Buffer.from('pointed at'));
      await c.ok({ type: T.SYMLINK, first: 'target.txt', second: '/link' });
      const rl = await c.request({ type: T.READLINK, path: '/link' });
      assert.equal(rl.type === T.NAME && rl.entries[0]!.filename, 'target.txt');
      assert.equal((await c.attrs(T.LSTAT, '/link')).permissions! & FileType.MASK, FileType.SYMLINK);
      assert.equal((await c.attrs(T.STAT, '/link')).size, 10);
      assert.deepEqual(await c.readFile('/link'), Buffer.from('pointed at'));
      const hl = await c.ext('hardlink', { oldPath: '/target.txt', newPath: '/hard' });
      assert.equal(hl.type === T.STATUS && hl.code, StatusCode.OK);
      assert.deepEqual(await c.readFile('/hard'), Buffer.from('pointed at'));
      const entries = (await c.names('/')).flat();
      assert.match(entries.find((e) => e.filename === 'hard')!.longname, /^-\S+ +2 /);
      await c.ok({ type: T.REMOVE, path: '/link' });
      assert.deepEqual(await c.readFile('/target.txt'), Buffer.from('pointed at'));
    });

    it('REALPATH canonicalises: relative is from /, .. stops at the root, symlinks resolve', async () => {
      assert.equal(await c.realpath('.'), '/');
      assert.equal(await c.realpath(''), '/');
      assert.equal(await c.realpath('../../..'), '/');
      await c.ok({ type: T.MKDIR, path: '/rp', attrs: {} });
      await c.ok({ type: T.SYMLINK, first: 'rp', second: '/rplink' });
      assert.equal(await c.realpath('rplink/../rp/./x'), '/rp/x');
      assert.equal(await c.realpath('/rplink'), '/rp');
      const ex = await c.request({
        type: T.EXTENDED,
        request: Extensions.expandPath.name,
        data: Buffer.from([0, 0, 0, 4, ...Buffer.from('~/rp')]),
      });
      assert.equal(ex.type === T.NAME && ex.entries[0]!.filename, '/rp');
      const home = await c.ext('homeDirectory', { username: 'anyone' });
      assert.equal(home.type === T.NAME && home.entries[0]!.filename, '/');
    });

    it('statvfs, fstatvfs, fsync, lsetstat, users-groups-by-id', async () => {
      const sv = await c.extReply('statvfs', { path: '/' });
      assert.ok(sv.bsize > 0n && sv.blocks > 0n);
      await c.writeFile('/sync.bin', Buffer.from('abc'));
      const h = await c.open('/sync.bin', RW);
      const fsv = await c.extReply('fstatvfs', { handle: h });
      assert.equal(fsv.bsize, sv.bsize);
      const fs1 = await c.ext('fsync', { handle: h });
      assert.equal(fs1.type === T.STATUS && fs1.code, StatusCode.OK);
      await c.ok({ type: T.CLOSE, handle: h });
      const ls = await c.ext('lsetstat', { path: '/sync.bin', attrs: { atime: 5, mtime: 7 } });
      assert.equal(ls.type === T.STATUS && ls.code, StatusCode.OK);
      assert.equal((await c.attrs(T.STAT, '/sync.bin')).mtime, 7);
      const ug = await c.extReply('usersGroupsById', { uids: [0, 4_000_000_000], gids: [0] });
      assert.equal(ug.users.length, 2);
      assert.equal(ug.users[0], 'root');
      assert.equal(ug.users[1], '');
      assert.equal(ug.groups.length, 1);
    });

    it('copy-data copies between handles, to EOF with length 0', async () => {
      const data = randomBytes(200_000);
      await c.writeFile('/src.bin', data);
      const r = await c.open('/src.bin', OpenFlags.READ);
      const w = await c.open('/dst.bin', NEW);
      const p = await c.ext('copyData', {
        readHandle: r,
        readOffset: 1000,
        readLength: 0,
        writeHandle: w,
        writeOffset: 0,
      });
      assert.equal(p.type === T.STATUS && p.code, StatusCode.OK);
      await c.ok({ type: T.CLOSE, handle: r });
      await c.ok({ type: T.CLOSE, handle: w });
      assert.deepEqual(await c.readFile('/dst.bin'), data.subarray(1000));
    });

    it('check-file-name and check-file-handle: algorithms, ranges, block sizes', async () => {
      const data = randomBytes(5000);
      await c.writeFile('/h.bin', data);
      const whole = await c.extReply('checkFileName', {
        target: '/h.bin',
        algorithms: ['sha3', 'sha256', 'md5'],
        startOffset: 0,
        length: 0,
        blockSize: 0,
      });
      assert.equal(whole.algorithm, 'sha256');
      assert.deepEqual(whole.hashes, [createHash('sha256').update(data).digest()]);
      const h = await c.open('/h.bin', OpenFlags.READ);
      const blocks = await c.extReply('checkFileHandle', {
        target: h,
        algorithms: ['md5'],
        startOffset: 100,
        length: 2000,
        blockSize: 512,
      });
      const want = [];
      for (let o = 100; o < 2100; o += 512)
        want.push(
          createHash('md5')
            .update(data.subarray(o, Math.min(2100, o + 512)))
            .digest(),
        );
      assert.deepEqual(blocks.hashes, want);
      for (const alg of ['sha1', 'sha512']) {
        const r = await c.extReply('checkFileHandle', {
          target: h,
          algorithms: [alg],
          startOffset: 4000,
          length: 0,
          blockSize: 0,
        });
        assert.deepEqual(r.hashes, [createHash(alg).update(data.subarray(4000)).digest()]);
      }
      assert.equal(
        (await c.ext('checkFileHandle', { target: h, algorithms: ['md5'], startOffset: 0, length: 0, blockSize: 100 }))
          .type === T.STATUS,
        true,
      );
      const none = await c.ext('checkFileHandle', {
        target: h,
        algorithms: ['crc32'],
        startOffset: 0,
        length: 0,
        blockSize: 0,
      });
      assert.equal(none.type === T.STATUS && none.code, StatusCode.OP_UNSUPPORTED);
      await c.ok({ type: T.CLOSE, handle: h });
    });

    it('unknown extensions and malformed extension data are answered, not fatal', async () => {
      assert.equal(
        await c.status({ type: T.EXTENDED, request: 'nope@example.com', data: Buffer.alloc(0) }),
        StatusCode.OP_UNSUPPORTED,
      );
      assert.equal(
        await c.status({ type: T.EXTENDED, request: Extensions.posixRename.name, data: Buffer.from([0, 0, 0, 99]) }),
        StatusCode.BAD_MESSAGE,
      );
      assert.equal(
        await c.status({ type: T.READ, handle: Buffer.from('bogus'), offset: 0, length: 1 }),
        StatusCode.FAILURE,
      );
    });

    it('REMOVE of a missing file is NO_SUCH_FILE; of a directory fails', async () => {
      assert.equal(await c.status({ type: T.REMOVE, path: '/ghost' }), StatusCode.NO_SUCH_FILE);
      await c.ok({ type: T.MKDIR, path: '/notafile', attrs: {} });
      assert.notEqual(await c.status({ type: T.REMOVE, path: '/notafile' }), StatusCode.OK);
    });
  });

  describe(`limits and modes against ${storage.name}`, () => {
    it('read-only: every change is PERMISSION_DENIED, reads work', async () => {
      const made = storage.make();
      const rw = await connect(new SftpServer({ fs: made.fs }));
      await rw.client.writeFile('/keep', Buffer.from('data'));
      await rw.client.ok({ type: T.MKDIR, path: '/d', attrs: {} });
      rw.client.end();
      await rw.served;
      const { client: c, served } = await connect(new SftpServer({ fs: made.fs, readOnly: true }));
      const D = StatusCode.PERMISSION_DENIED;
      assert.equal(await c.status({ type: T.OPEN, path: '/new', pflags: NEW, attrs: {} }), D);
      assert.equal(await c.status({ type: T.OPEN, path: '/keep', pflags: OpenFlags.WRITE, attrs: {} }), D);
      assert.equal(await c.status({ type: T.REMOVE, path: '/keep' }), D);
      assert.equal(await c.status({ type: T.MKDIR, path: '/d2', attrs: {} }), D);
      assert.equal(await c.status({ type: T.RMDIR, path: '/d' }), D);
      assert.equal(await c.status({ type: T.RENAME, oldPath: '/keep', newPath: '/k2' }), D);
      assert.equal(await c.status({ type: T.SETSTAT, path: '/keep', attrs: { permissions: 0o777 } }), D);
      assert.equal(await c.status({ type: T.SYMLINK, first: 'keep', second: '/l' }), D);
      const pr = await c.ext('posixRename', { oldPath: '/keep', newPath: '/k3' });
      assert.equal(pr.type === T.STATUS && pr.code, D);
      const hl = await c.ext('hardlink', { oldPath: '/keep', newPath: '/k4' });
      assert.equal(hl.type === T.STATUS && hl.code, D);
      assert.deepEqual(await c.readFile('/keep'), Buffer.from('data'));
      const sv = await c.extReply('statvfs', { path: '/' });
      assert.equal(sv.flag & 1n, 1n);
      c.end();
      await served;
      made.cleanup();
    });

    it('maxHandles: the next OPEN fails, a CLOSE makes room', async () => {
      const made = storage.make();
      const { client: c, served } = await connect(new SftpServer({ fs: made.fs, limits: { maxHandles: 3 } }));
      await c.writeFile('/f', Buffer.from('f'));
      const hs = [await c.open('/f', OpenFlags.READ), await c.open('/f', OpenFlags.READ), await c.opendir('/')];
      const s = await c.statusOf({ type: T.OPEN, path: '/f', pflags: OpenFlags.READ, attrs: {} });
      assert.equal(s.code, StatusCode.FAILURE);
      assert.match(s.message, /^EMFILE/);
      await c.ok({ type: T.CLOSE, handle: hs[0]! });
      const again = await c.open('/f', OpenFlags.READ);
      assert.equal(again.length, 4);
      c.end();
      await served;
      made.cleanup();
    });
  });
}
