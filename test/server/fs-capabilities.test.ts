import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PacketType as T, StatusCode } from '../../src/protocol/constants.js';
import { Extensions, type ExtensionKey } from '../../src/protocol/extensions.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { MemoryFs } from '../../src/server/fs/memory-fs.js';
import type { FileSystem } from '../../src/server/fs/file-system.js';
import { connect, type RawClient } from '../support/raw-client.js';

type Optional = 'link' | 'statvfs' | 'userName' | 'groupName';
const OPTIONAL: readonly Optional[] = ['link', 'statvfs', 'userName', 'groupName'];

/** A FileSystem over a MemoryFs with only the required methods, and the optional ones named in `keep`. */
function storage(keep: readonly Optional[]): { fs: FileSystem; inner: MemoryFs } {
  const inner = new MemoryFs({ users: { 0: 'root' }, groups: { 0: 'wheel' } });
  const fs: FileSystem = {
    open: (p, o) => inner.open(p, o),
    opendir: (p) => inner.opendir(p),
    stat: (p) => inner.stat(p),
    lstat: (p) => inner.lstat(p),
    setstat: (p, a, o) => inner.setstat(p, a, o),
    mkdir: (p, m) => inner.mkdir(p, m),
    rmdir: (p) => inner.rmdir(p),
    remove: (p) => inner.remove(p),
    rename: (a, b, o) => inner.rename(a, b, o),
    symlink: (t, l) => inner.symlink(t, l),
    readlink: (p) => inner.readlink(p),
    realpath: (p) => inner.realpath(p),
  };
  const methods = fs as unknown as Record<Optional, unknown>;
  for (const k of keep) methods[k] = (inner[k] as (...a: unknown[]) => unknown).bind(inner);
  return { fs, inner };
}

async function session(fs: FileSystem): Promise<{ c: RawClient; names: string[]; done(): Promise<void> }> {
  const { client: c, served, version } = await connect(new SftpServer({ fs }));
  return {
    c,
    names: version.extensions.map((e) => e.name).sort(),
    done: async () => {
      c.end();
      await served;
    },
  };
}

const name = (k: ExtensionKey): string => Extensions[k].name;
const ALL = (Object.keys(Extensions) as ExtensionKey[]).map(name).sort();

describe('extensions are advertised only when the FileSystem can serve them', { timeout: 60_000 }, () => {
  it('a FileSystem with every optional method (MemoryFs) advertises every extension', async () => {
    const s = await session(new MemoryFs());
    try {
      assert.deepEqual(s.names, ALL);
    } finally {
      await s.done();
    }
  });

  it('without link, statvfs, userName and groupName: no hardlink, statvfs, fstatvfs, users-groups-by-id; asking anyway is OP_UNSUPPORTED', async () => {
    const { fs, inner } = storage([]);
    await inner.mkdir('/d', 0o755);
    const s = await session(fs);
    try {
      const missing = ['hardlink', 'statvfs', 'fstatvfs', 'usersGroupsById'] as const;
      assert.deepEqual(
        s.names,
        ALL.filter((n) => !missing.map(name).includes(n)),
      );
      const h = await s.c.opendir('/d');
      const replies = [
        await s.c.ext('hardlink', { oldPath: '/d', newPath: '/e' }),
        await s.c.ext('statvfs', { path: '/' }),
        await s.c.ext('fstatvfs', { handle: h }),
        await s.c.ext('usersGroupsById', { uids: [0], gids: [0] }),
      ];
      for (const r of replies) {
        assert.equal(r.type === T.STATUS && r.code, StatusCode.OP_UNSUPPORTED, JSON.stringify(r));
        assert.match(r.type === T.STATUS ? r.message : '', /^ENOSYS: .* is not supported by this storage$/);
      }
      // the rest still works on it
      assert.equal((await s.c.ext('limits', {})).type, T.EXTENDED_REPLY);
      await s.c.ok({ type: T.CLOSE, handle: h });
      await assert.rejects(inner.lstat('/e'), { code: 'ENOENT' });
    } finally {
      await s.done();
    }
  });

  it('each optional method brings exactly its extensions', async () => {
    const brings: Record<Optional, ExtensionKey[]> = {
      link: ['hardlink'],
      statvfs: ['statvfs', 'fstatvfs'],
      userName: ['usersGroupsById'],
      groupName: ['usersGroupsById'],
    };
    const base = (await session(storage([]).fs).then(async (s) => (await s.done(), s.names))).slice();
    for (const k of OPTIONAL) {
      const s = await session(storage([k]).fs);
      try {
        assert.deepEqual(s.names, [...base, ...brings[k].map(name)].sort(), k);
      } finally {
        await s.done();
      }
    }
    // with link, hardlink works
    const { fs, inner } = storage(['link']);
    await inner.mkdir('/d', 0o755);
    const s = await session(fs);
    try {
      await s.c.writeFile('/d/f', Buffer.from('x'));
      const r = await s.c.ext('hardlink', { oldPath: '/d/f', newPath: '/d/g' });
      assert.equal(r.type === T.STATUS && r.code, StatusCode.OK);
      assert.equal((await inner.lstat('/d/f')).nlink, 2);
    } finally {
      await s.done();
    }
  });
});
