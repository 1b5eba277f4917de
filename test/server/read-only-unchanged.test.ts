import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OpenFlags, PacketType as T, StatusCode } from '../../src/protocol/constants.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { LocalFs } from '../../src/server/fs/local-fs.js';
import type { FileSystem, FsFile, OpenOptions } from '../../src/server/fs/file-system.js';
import { connect } from '../support/raw-client.js';
import { tempDir } from '../support/temp-dir.js';

const CHANGING = new Set(['remove', 'rename', 'setstat', 'mkdir', 'rmdir', 'link', 'symlink']);

/** A FileSystem that records every call that could change the storage. */
function recording(inner: FileSystem): { fs: FileSystem; changes: string[] } {
  const changes: string[] = [];
  const fileProxy = (f: FsFile, what: string): FsFile =>
    new Proxy(f, {
      get(t, k) {
        const v = Reflect.get(t, k, t);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (k === 'write' || k === 'writev' || k === 'setstat') changes.push(`${String(k)} ${what}`);
          return v.apply(t, args);
        };
      },
    });
  const fs = new Proxy(inner, {
    get(t, k) {
      const v = Reflect.get(t, k, t);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (CHANGING.has(String(k))) changes.push(`${String(k)} ${String(args[0])}`);
        if (k === 'open') {
          const o = args[1] as OpenOptions;
          if (o.write || o.create || o.truncate || o.append) changes.push(`open-for-write ${String(args[0])}`);
          return (v.apply(t, args) as Promise<FsFile>).then((f) => fileProxy(f, String(args[0])));
        }
        return v.apply(t, args);
      };
    },
  });
  return { fs, changes };
}

describe('a read-only server changes nothing', () => {
  it('atomic-resume + read-only: STAT, LSTAT, READDIR and every refused change leave stale partials and upload files alone', async () => {
    const t = tempDir();
    mkdirSync(path.join(t.dir, 'd'));
    const old = new Date(Date.now() - 3 * 24 * 3600 * 1000);
    const hiddenFiles = [
      '.gone.bin.sftp-wire-partial',
      'd/.deep.bin.sftp-wire-partial',
      '.x.0-1-2-3.sftp-wire-upload',
      '.y.deadbeef0.sftp-wire-upload',
    ];
    for (const f of hiddenFiles) {
      writeFileSync(path.join(t.dir, f), 'stale bytes');
      utimesSync(path.join(t.dir, f), old, old);
    }
    writeFileSync(path.join(t.dir, 'a.txt'), 'a');
    const before = [...readdirSync(t.dir), ...readdirSync(path.join(t.dir, 'd'))].sort();
    const { fs, changes } = recording(new LocalFs(t.dir));
    const { client: c, served } = await connect(
      new SftpServer({ fs, readOnly: true, atomicUploads: 'atomic-resume', partialMaxAgeMs: 1000 }),
    );
    for (const p of ['/gone.bin', '/d/deep.bin', '/x', '/y', '/a.txt']) {
      await c.request({ type: T.STAT, path: p });
      await c.request({ type: T.LSTAT, path: p });
    }
    assert.deepEqual(await c.list('/'), ['.', '..', 'a.txt', 'd']);
    assert.deepEqual(await c.list('/d'), ['.', '..']);
    const h = await c.open('/a.txt', OpenFlags.READ);
    await c.ok({ type: T.CLOSE, handle: h });
    const refused = [
      { type: T.OPEN, path: '/gone.bin', pflags: OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.APPEND, attrs: {} },
      { type: T.OPEN, path: '/n.bin', pflags: OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC, attrs: {} },
      { type: T.REMOVE, path: '/a.txt' },
      { type: T.RENAME, oldPath: '/a.txt', newPath: '/b.txt' },
      { type: T.SETSTAT, path: '/a.txt', attrs: { size: 0 } },
      { type: T.MKDIR, path: '/m', attrs: {} },
      { type: T.RMDIR, path: '/d' },
      { type: T.SYMLINK, first: '/a.txt', second: '/l' },
    ] as const;
    for (const r of refused) {
      const rep = await c.request(r);
      assert.equal(rep.type === T.STATUS && rep.code, StatusCode.PERMISSION_DENIED, JSON.stringify(r));
    }
    c.end();
    await served;
    assert.deepEqual(changes, [], 'no call that changes the storage');
    assert.deepEqual(
      [...readdirSync(t.dir), ...readdirSync(path.join(t.dir, 'd'))].sort(),
      before,
      'every file is still there',
    );
    t.cleanup();
  });
});
