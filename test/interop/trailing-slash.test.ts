/**
 * A trailing slash means a directory: each request on "file/", "dirlink/", "filelink/", "dir/" and
 * "missing/" gets the reply OpenSSH's sftp-server gives (same status code; for STAT/LSTAT the same
 * file type), and the tree is left as OpenSSH leaves it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, lstatSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SftpServer } from '../../src/server/sftp-server.js';
import { LocalFs } from '../../src/server/fs/local-fs.js';
import { PacketType as T, OpenFlags } from '../../src/protocol/constants.js';
import type { Packet } from '../../src/protocol/packets.js';
import { RawPeer, type Reply } from '../../bench/lib/peers/raw-peer.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';
import { spawnSftpServer } from '../../bench/lib/peers/openssh.js';

function plant(root: string): void {
  mkdirSync(path.join(root, 'dir'));
  writeFileSync(path.join(root, 'file'), 'content');
  symlinkSync('dir', path.join(root, 'dirlink'));
  symlinkSync('file', path.join(root, 'filelink'));
}

const TARGETS = ['file/', 'dir/', 'dirlink/', 'filelink/', 'missing/'];

type Req = (id: number, p: string) => Packet;
const REQUESTS: Record<string, Req> = {
  stat: (id, p) => ({ type: T.STAT, id, path: p }),
  lstat: (id, p) => ({ type: T.LSTAT, id, path: p }),
  setstat: (id, p) => ({ type: T.SETSTAT, id, path: p, attrs: { permissions: 0o750 } }),
  openRead: (id, p) => ({ type: T.OPEN, id, path: p, pflags: OpenFlags.READ, attrs: {} }),
  openCreate: (id, p) => ({ type: T.OPEN, id, path: p, pflags: OpenFlags.WRITE | OpenFlags.CREAT, attrs: {} }),
  remove: (id, p) => ({ type: T.REMOVE, id, path: p }),
  rmdir: (id, p) => ({ type: T.RMDIR, id, path: p }),
  renameFrom: (id, p) => ({ type: T.RENAME, id, oldPath: p, newPath: 'renamed' }),
  renameFileTo: (id, p) => ({ type: T.RENAME, id, oldPath: 'file', newPath: `new${p}` }),
  renameDirTo: (id, p) => ({ type: T.RENAME, id, oldPath: 'dir', newPath: `new${p}` }),
  mkdir: (id, p) => ({ type: T.MKDIR, id, path: `new${p}`, attrs: {} }),
  opendir: (id, p) => ({ type: T.OPENDIR, id, path: p }),
};

function summary(r: Reply | undefined): string {
  if (!r) return 'none';
  if (r.type === T.STATUS) return `status ${r.code}`;
  if (r.type === T.ATTRS) return `attrs type=${((r.attrs.permissions ?? 0) & 0o170000).toString(8)}`;
  return `type ${r.type}`;
}

function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${e}` : e;
      const st = lstatSync(path.join(root, r));
      out.push(`${r} ${(st.mode & 0o177777).toString(8)}`);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

/** One request on a freshly planted root, on the given server; its reply and the tree after. */
async function once(kind: 'ours' | 'openssh', make: Req, target: string): Promise<{ reply: string; tree: string[] }> {
  const root = mkdtempSync(path.join(os.tmpdir(), `sftp-wire-slash-${kind}-`));
  plant(root);
  let peer: RawPeer;
  let close: () => Promise<void>;
  if (kind === 'ours') {
    const [a, b] = memoryPair();
    const served = new SftpServer({ fs: new LocalFs(root) }).serve(b);
    peer = new RawPeer(a);
    close = async () => {
      a.end();
      await served.catch(() => undefined);
    };
  } else {
    const child = spawnSftpServer({ cwd: root });
    peer = new RawPeer(child.stream);
    close = () => child.close();
  }
  try {
    assert.equal((await peer.init())?.type, T.VERSION);
    const r = await peer.request(make(1, target) as Extract<Packet, { id: number }>);
    if (r?.type === T.HANDLE) await peer.request({ type: T.CLOSE, id: 2, handle: r.handle });
    return { reply: summary(r), tree: tree(root) };
  } finally {
    await close();
    rmSync(root, { recursive: true, force: true });
  }
}

describe('a trailing slash means a directory (beside OpenSSH sftp-server)', () => {
  for (const [name, make] of Object.entries(REQUESTS)) {
    it(`${name} of ${TARGETS.join(', ')}`, { timeout: 60_000 }, async () => {
      for (const target of TARGETS) {
        const mine = await once('ours', make, target);
        const theirs = await once('openssh', make, target);
        assert.deepEqual(mine, theirs, `${name} ${target}`);
      }
    });
  }

  it('REMOVE of "file/" leaves the file and answers NO_SUCH_FILE', { timeout: 60_000 }, async () => {
    const r = await once('ours', REQUESTS.remove!, 'file/');
    assert.equal(r.reply, 'status 2');
    assert.ok(r.tree.some((e) => e.startsWith('file 100')));
  });
});
