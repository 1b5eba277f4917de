import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  lstatSync,
  lutimesSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { OpenFlags, PacketType as T, StatusCode } from '../../src/protocol/constants.js';
import type { Packet, PacketOf, RequestType } from '../../src/protocol/packets.js';
import { Extensions, type ExtensionKey } from '../../src/protocol/extensions.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { REQUESTS } from '../../src/server/request-table.js';
import { connect, type RawClient } from '../support/raw-client.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Every request type and every extension, sent to a read-only server on a real directory. Whether
 * each one writes is stated here, independently of the server's table: a row wrongly marked as not
 * writing makes its request run, and this test sees it (a reply other than EROFS, or a changed tree).
 */

const CONTENT = Buffer.from('0123456789abcdef'.repeat(64));

/** What a case may use: a file handle to read, one to write (on a read-only server only a read handle exists), a directory handle. */
interface Handles {
  read: Buffer;
  write: Buffer;
  dir: Buffer;
}
interface Case {
  name: string;
  writes: boolean;
  /** Sends the request(s); returns their replies. */
  send(c: RawClient, h: Handles): Promise<Packet[]>;
  /** For a case that does not write: its replies are the ones that succeed. */
  works?(replies: Packet[]): void;
}

const one = (p: Promise<Packet>): Promise<Packet[]> => p.then((r) => [r]);
const isOk = (p: Packet): boolean => p.type === T.STATUS && p.code === StatusCode.OK;
const expectType = (type: number) => (replies: Packet[]) => {
  for (const r of replies) assert.equal(r.type, type, JSON.stringify(r));
};
const expectOk = (replies: Packet[]): void => {
  for (const r of replies) assert.ok(isOk(r), JSON.stringify(r));
};
const PAST = 1_600_000_000;

/** Cases by request type: the Record makes a new request type a compile error here until it has its cases. */
const REQUEST_CASES: Record<Exclude<RequestType, typeof T.EXTENDED>, Case[]> = {
  [T.OPEN]: [
    {
      name: 'OPEN READ',
      writes: false,
      send: (c) => one(c.request({ type: T.OPEN, path: '/f.txt', pflags: OpenFlags.READ, attrs: {} })),
      works: expectType(T.HANDLE),
    },
    ...(
      [
        ['WRITE', OpenFlags.WRITE, '/f.txt'],
        ['READ|WRITE', OpenFlags.READ | OpenFlags.WRITE, '/f.txt'],
        ['CREAT', OpenFlags.CREAT, '/new-creat'],
        ['WRITE|CREAT|EXCL', OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.EXCL, '/new-excl'],
        ['TRUNC', OpenFlags.TRUNC, '/tr.txt'],
        ['APPEND', OpenFlags.APPEND, '/ap.txt'],
        ['READ|APPEND', OpenFlags.READ | OpenFlags.APPEND, '/ap.txt'],
      ] as const
    ).map(([flags, pflags, p]): Case => ({
      name: `OPEN ${flags}`,
      writes: true,
      send: (c) => one(c.request({ type: T.OPEN, path: p, pflags, attrs: { permissions: 0o600 } })),
    })),
  ],
  [T.CLOSE]: [
    {
      name: 'CLOSE',
      writes: false,
      send: async (c) => one(c.request({ type: T.CLOSE, handle: await c.open('/f.txt', OpenFlags.READ) })),
      works: expectOk,
    },
  ],
  [T.READ]: [
    {
      name: 'READ',
      writes: false,
      send: (c, h) => one(c.request({ type: T.READ, handle: h.read, offset: 0, length: 4096 })),
      works: ([r]) => {
        assert.ok(r, 'READ has a reply');
        assert.deepEqual(r.type === T.DATA && r.data, CONTENT);
      },
    },
  ],
  [T.WRITE]: [
    {
      name: 'WRITE',
      writes: true,
      send: (c, h) => one(c.request({ type: T.WRITE, handle: h.write, offset: 0, data: Buffer.from('x') })),
    },
    {
      // pipelined contiguous WRITEs on one handle run as one batch: refused all the same
      name: 'WRITE x3 pipelined',
      writes: true,
      send: (c, h) =>
        Promise.all(
          [0, 4, 8].map((offset) => c.request({ type: T.WRITE, handle: h.write, offset, data: Buffer.from('wxyz') })),
        ),
    },
  ],
  [T.LSTAT]: [
    {
      name: 'LSTAT',
      writes: false,
      send: (c) => one(c.request({ type: T.LSTAT, path: '/link' })),
      works: expectType(T.ATTRS),
    },
  ],
  [T.FSTAT]: [
    {
      name: 'FSTAT',
      writes: false,
      send: (c, h) => one(c.request({ type: T.FSTAT, handle: h.read })),
      works: expectType(T.ATTRS),
    },
  ],
  [T.SETSTAT]: [
    {
      name: 'SETSTAT mode',
      writes: true,
      send: (c) => one(c.request({ type: T.SETSTAT, path: '/f.txt', attrs: { permissions: 0o600 } })),
    },
    {
      name: 'SETSTAT size',
      writes: true,
      send: (c) => one(c.request({ type: T.SETSTAT, path: '/g.txt', attrs: { size: 1 } })),
    },
  ],
  [T.FSETSTAT]: [
    {
      name: 'FSETSTAT file',
      writes: true,
      send: (c, h) => one(c.request({ type: T.FSETSTAT, handle: h.write, attrs: { permissions: 0o600 } })),
    },
    {
      name: 'FSETSTAT dir',
      writes: true,
      send: (c, h) => one(c.request({ type: T.FSETSTAT, handle: h.dir, attrs: { atime: PAST, mtime: PAST } })),
    },
  ],
  [T.OPENDIR]: [
    {
      name: 'OPENDIR',
      writes: false,
      send: (c) => one(c.request({ type: T.OPENDIR, path: '/' })),
      works: expectType(T.HANDLE),
    },
  ],
  [T.READDIR]: [
    {
      name: 'READDIR',
      writes: false,
      send: (c, h) => one(c.request({ type: T.READDIR, handle: h.dir })),
      works: expectType(T.NAME),
    },
  ],
  [T.REMOVE]: [{ name: 'REMOVE', writes: true, send: (c) => one(c.request({ type: T.REMOVE, path: '/rm.txt' })) }],
  [T.MKDIR]: [
    { name: 'MKDIR', writes: true, send: (c) => one(c.request({ type: T.MKDIR, path: '/newdir', attrs: {} })) },
  ],
  [T.RMDIR]: [{ name: 'RMDIR', writes: true, send: (c) => one(c.request({ type: T.RMDIR, path: '/empty' })) }],
  [T.REALPATH]: [
    {
      name: 'REALPATH',
      writes: false,
      send: (c) => one(c.request({ type: T.REALPATH, path: 'd/..' })),
      works: expectType(T.NAME),
    },
  ],
  [T.STAT]: [
    {
      name: 'STAT',
      writes: false,
      send: (c) => one(c.request({ type: T.STAT, path: '/link' })),
      works: expectType(T.ATTRS),
    },
  ],
  [T.RENAME]: [
    {
      name: 'RENAME',
      writes: true,
      send: (c) => one(c.request({ type: T.RENAME, oldPath: '/mv.txt', newPath: '/mv2.txt' })),
    },
  ],
  [T.READLINK]: [
    {
      name: 'READLINK',
      writes: false,
      send: (c) => one(c.request({ type: T.READLINK, path: '/link' })),
      works: ([r]) => {
        assert.ok(r, 'READLINK has a reply');
        assert.equal(r.type === T.NAME && r.entries[0]!.filename, 'f.txt');
      },
    },
  ],
  [T.SYMLINK]: [
    { name: 'SYMLINK', writes: true, send: (c) => one(c.request({ type: T.SYMLINK, first: 'f.txt', second: '/sl' })) },
  ],
};

/** Cases by extension: EXTENDED's cases, one Record entry per extension the protocol defines. */
const EXTENSION_CASES: Record<ExtensionKey, Case[]> = {
  posixRename: [
    {
      name: 'posix-rename',
      writes: true,
      send: (c) => one(c.ext('posixRename', { oldPath: '/pr.txt', newPath: '/g.txt' })),
    },
  ],
  statvfs: [
    {
      name: 'statvfs',
      writes: false,
      send: (c) => one(c.ext('statvfs', { path: '/' })),
      works: expectType(T.EXTENDED_REPLY),
    },
  ],
  fstatvfs: [
    {
      name: 'fstatvfs',
      writes: false,
      send: (c, h) => one(c.ext('fstatvfs', { handle: h.read })),
      works: expectType(T.EXTENDED_REPLY),
    },
  ],
  hardlink: [
    { name: 'hardlink', writes: true, send: (c) => one(c.ext('hardlink', { oldPath: '/f.txt', newPath: '/hl' })) },
  ],
  fsync: [{ name: 'fsync', writes: true, send: (c, h) => one(c.ext('fsync', { handle: h.write })) }],
  lsetstat: [
    {
      name: 'lsetstat times',
      writes: true,
      send: (c) => one(c.ext('lsetstat', { path: '/g.txt', attrs: { atime: PAST, mtime: PAST } })),
    },
    {
      name: 'lsetstat mode',
      writes: true,
      send: (c) => one(c.ext('lsetstat', { path: '/f.txt', attrs: { permissions: 0o600 } })),
    },
  ],
  limits: [
    { name: 'limits', writes: false, send: (c) => one(c.ext('limits', {})), works: expectType(T.EXTENDED_REPLY) },
  ],
  expandPath: [
    {
      name: 'expand-path',
      writes: false,
      send: (c) => one(c.ext('expandPath', { path: '~/d' })),
      works: expectType(T.NAME),
    },
  ],
  copyData: [
    {
      name: 'copy-data',
      writes: true,
      send: (c, h) =>
        one(
          c.ext('copyData', {
            readHandle: h.read,
            readOffset: 0,
            readLength: 100,
            writeHandle: h.write,
            writeOffset: 2000,
          }),
        ),
    },
  ],
  homeDirectory: [
    {
      name: 'home-directory',
      writes: false,
      send: (c) => one(c.ext('homeDirectory', { username: '' })),
      works: expectType(T.NAME),
    },
  ],
  usersGroupsById: [
    {
      name: 'users-groups-by-id',
      writes: false,
      send: (c) => one(c.ext('usersGroupsById', { uids: [process.getuid!()], gids: [process.getgid!()] })),
      works: expectType(T.EXTENDED_REPLY),
    },
  ],
  discardHandle: [
    {
      name: 'discard-handle',
      writes: false,
      send: (c, h) => one(c.ext('discardHandle', { handle: h.read })),
      works: expectOk,
    },
  ],
  checkFileName: [
    {
      name: 'check-file-name',
      writes: false,
      send: (c) =>
        one(
          c.ext('checkFileName', { target: '/f.txt', algorithms: ['sha256'], startOffset: 0, length: 0, blockSize: 0 }),
        ),
      works: expectType(T.EXTENDED_REPLY),
    },
  ],
  checkFileHandle: [
    {
      name: 'check-file-handle',
      writes: false,
      send: (c, h) =>
        one(c.ext('checkFileHandle', { target: h.read, algorithms: ['md5'], startOffset: 0, length: 0, blockSize: 0 })),
      works: expectType(T.EXTENDED_REPLY),
    },
  ],
};

const ALL_CASES: Case[] = [...Object.values(REQUEST_CASES).flat(), ...Object.values(EXTENSION_CASES).flat()];

/** A tree with something for every request to act on. */
function plant(dir: string): void {
  for (const f of ['f.txt', 'g.txt', 'tr.txt', 'ap.txt', 'rm.txt', 'mv.txt', 'pr.txt'])
    writeFileSync(path.join(dir, f), CONTENT, { mode: 0o644 });
  mkdirSync(path.join(dir, 'd'));
  writeFileSync(path.join(dir, 'd', 'inner.txt'), 'inner');
  mkdirSync(path.join(dir, 'empty'));
  symlinkSync('f.txt', path.join(dir, 'link'));
  // access times ahead of every other time, so that reading (with relatime) changes none of them
  const later = new Date(Date.now() + 3600_000);
  const before = new Date(Date.now() - 3600_000);
  for (const rel of [
    'f.txt',
    'g.txt',
    'tr.txt',
    'ap.txt',
    'rm.txt',
    'mv.txt',
    'pr.txt',
    'd/inner.txt',
    'd',
    'empty',
    '.',
  ]) {
    utimesSync(path.join(dir, rel), later, before);
  }
  lutimesSync(path.join(dir, 'link'), later, before);
}

/** Every name under `dir` with its type, mode, size, times, link count, inode, content hash or link target. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    const abs = path.join(dir, rel);
    const st = lstatSync(abs, { bigint: true });
    let what = '';
    if (st.isSymbolicLink()) what = `-> ${readlinkSync(abs)}`;
    else if (st.isFile()) what = createHash('sha256').update(readFileSync(abs)).digest('hex');
    out.set(rel || '.', [st.mode, st.size, st.nlink, st.ino, st.atimeNs, st.mtimeNs, st.ctimeNs, what].join(' '));
    if (st.isDirectory()) for (const name of readdirSync(abs).sort()) walk(path.join(rel, name));
  };
  walk('');
  return out;
}

/** A session on a server over a fresh planted directory; ended and removed whatever `body` does. */
async function withTree(
  readOnly: boolean,
  body: (c: RawClient, dir: string, version: PacketOf<typeof T.VERSION>) => Promise<void>,
): Promise<void> {
  const t = tempDir();
  try {
    plant(t.dir);
    const { client: c, served, serverSide, version } = await connect(new SftpServer({ root: t.dir, readOnly }));
    try {
      await body(c, t.dir, version);
    } finally {
      c.end();
      // a failed assertion may leave requests unanswered: the session must end anyway
      setTimeout(() => serverSide.destroy(), 5000).unref();
      await served;
    }
  } finally {
    t.cleanup();
  }
}

async function handles(c: RawClient, write: boolean): Promise<Handles> {
  const read = await c.open('/f.txt', OpenFlags.READ);
  return {
    read,
    write: write ? await c.open('/g.txt', OpenFlags.READ | OpenFlags.WRITE) : read,
    dir: await c.opendir('/d'),
  };
}

describe('read-only: every request type and every extension', { timeout: 120_000 }, () => {
  it('has a case for every request type in the table and every extension the server advertises', async () => {
    const types = Object.keys(REQUESTS)
      .map(Number)
      .filter((t) => t !== T.EXTENDED)
      .sort((a, b) => a - b);
    assert.deepEqual(
      Object.keys(REQUEST_CASES)
        .map(Number)
        .sort((a, b) => a - b),
      types,
    );
    for (const cases of [...Object.values(REQUEST_CASES), ...Object.values(EXTENSION_CASES)])
      assert.ok(cases.length > 0);
    await withTree(true, async (_c, _dir, version) => {
      const advertised = version.extensions.map((e) => e.name).sort();
      const covered = (Object.keys(EXTENSION_CASES) as ExtensionKey[]).map((k) => Extensions[k].name).sort();
      assert.deepEqual(
        advertised,
        covered,
        'a case for each extension advertised, and every known one is advertised on a local directory',
      );
    });
  });

  it('a writable server carries out every writing case (so refusing one is a real refusal)', async () => {
    await withTree(false, async (c) => {
      const h = await handles(c, true);
      for (const k of ALL_CASES.filter((x) => x.writes)) {
        for (const r of await k.send(c, h))
          assert.ok(isOk(r) || r.type === T.HANDLE, `${k.name}: ${JSON.stringify(r)}`);
      }
    });
  });

  it('each writing request is PERMISSION_DENIED (EROFS) and changes nothing; each other one works', async () => {
    await withTree(true, async (c, dir) => {
      const before = snapshot(dir);
      const h = await handles(c, false);
      for (const k of ALL_CASES) {
        const replies = await k.send(c, h);
        assert.ok(replies.length > 0);
        if (k.writes) {
          for (const r of replies) {
            assert.equal(
              r.type === T.STATUS && r.code,
              StatusCode.PERMISSION_DENIED,
              `${k.name}: ${JSON.stringify(r)}`,
            );
            assert.match(r.type === T.STATUS ? r.message : '', /^EROFS/, k.name);
          }
        } else {
          assert.ok(k.works, `${k.name} says how it works`);
          k.works(replies);
        }
        assert.deepEqual(snapshot(dir), before, `${k.name} changed nothing`);
      }
      // the handles still work after all that, and close
      assert.equal((await c.request({ type: T.FSTAT, handle: h.read })).type, T.ATTRS);
      for (const x of [h.read, h.dir]) await c.ok({ type: T.CLOSE, handle: x });
      assert.deepEqual(snapshot(dir), before);
    });
  });
});
