// One battery of the client's operations against real SFTP servers on loopback: OpenSSH (the
// control), ProFTPD's mod_sftp (plain and with HiddenStores), AsyncSSH's and paramiko's servers and
// `rclone serve sftp`. Every server is a child process with a throwaway config; a missing one is a
// failure (never a skip). Where a server legitimately differs, its row of EXPECT says how, and the
// battery asserts that difference as well as everything the servers share.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SftpClient } from '../../src/client/client.js';
import { SftpError, isSymlink } from '../../src/protocol/index.js';
import {
  startAsyncSsh,
  startOpenSshServer,
  startParamiko,
  startProftpd,
  startRclone,
  type ServerName,
  type ServerUnderTest,
} from './sftp-servers.js';

const MiB = 1024 * 1024;

interface Expect {
  start(): Promise<ServerUnderTest>;
  /** Offers check-file(-handle): uploads verify by 'hash', else by 'tail'. */
  hash: boolean;
  /** TransferResult.chunkSize of a put and a get asking 256 KiB (or the put's error code). */
  chunk256: { put: number | 'ECONNRESET'; get: number };
  /**
   * Resume of an interrupted upload continues from the partial (true), or the server starts every
   * write open afresh so the upload restarts at 0, still whole and right (false).
   */
  resumesUpload: boolean;
  /** A v3 RENAME onto an existing file: EEXIST (both files kept) or replaces it. */
  renameOver: 'EEXIST' | 'replaces';
  /** MKDIR of an existing directory: EEXIST, or succeeds. */
  mkdirExisting: 'EEXIST' | 'succeeds';
  /** REMOVE of a directory: the code the caller sees. */
  removeDir: string;
  /** OPEN of a directory for reading: its code, or 'opens' (the READ then fails with `readDir`). */
  openDir: string;
  readDir?: string;
  /** Symlinks: 'yes'; 'no' = SYMLINK and READLINK answer OP_UNSUPPORTED (ENOSYS). */
  symlinks: 'yes' | 'no';
  /** What READLINK of a relative link 'one.txt' at /tree/link answers: the text as stored, an absolute path, or a code. */
  readlinkRelative?: string;
  /** LSTAT of a symlink shows the link (true) or what it points at (false). */
  lstatSeesLink?: boolean;
  /** SYMLINK order the session settles on (after its check). */
  symlinkOrder?: 'openssh' | 'draft';
}

/**
 * Per server, what differs. The rows were measured with Debian 12's packages: OpenSSH 9.2, ProFTPD
 * 1.3.8, AsyncSSH 2.10, paramiko 2.12 (its file system is test/interop/paramiko-sftp-server.py's:
 * os calls), rclone 1.60 (local backend, --vfs-cache-mode writes).
 */
const EXPECT: Record<ServerName, Expect> = {
  openssh: {
    start: startOpenSshServer,
    hash: false,
    chunk256: { put: 261120, get: 261120 }, // its limits@openssh.com
    resumesUpload: true,
    renameOver: 'EEXIST',
    mkdirExisting: 'EEXIST',
    removeDir: 'EISDIR',
    openDir: 'opens',
    readDir: 'EIO',
    symlinks: 'yes',
    readlinkRelative: 'one.txt',
    lstatSeesLink: true,
    symlinkOrder: 'openssh',
  },
  proftpd: {
    start: () => startProftpd({ hiddenStores: false }),
    hash: false,
    chunk256: { put: 262144, get: 262144 },
    resumesUpload: true,
    renameOver: 'EEXIST',
    mkdirExisting: 'EEXIST',
    removeDir: 'EISDIR',
    openDir: 'EACCES',
    symlinks: 'yes',
    readlinkRelative: '/tree/one.txt', // it answers the link's text made absolute
    lstatSeesLink: false, // its LSTAT follows the link inside its DefaultRoot jail
    symlinkOrder: 'openssh', // reads the target first from us, though its identification is not OpenSSH's
  },
  'proftpd-hidden-stores': {
    start: () => startProftpd({ hiddenStores: true }),
    hash: false,
    chunk256: { put: 262144, get: 262144 },
    resumesUpload: false, // every write open is a new hidden file, renamed into place at CLOSE
    renameOver: 'EEXIST',
    mkdirExisting: 'EEXIST',
    removeDir: 'EISDIR',
    openDir: 'EACCES',
    symlinks: 'yes',
    readlinkRelative: '/tree/one.txt',
    lstatSeesLink: false,
    symlinkOrder: 'openssh',
  },
  asyncssh: {
    start: startAsyncSsh,
    hash: false,
    chunk256: { put: 262144, get: 262144 },
    resumesUpload: true,
    renameOver: 'EEXIST',
    mkdirExisting: 'EEXIST',
    removeDir: 'EISDIR',
    openDir: 'EIO',
    symlinks: 'yes',
    readlinkRelative: 'ENOENT', // its chroot cannot map a relative link's text back
    lstatSeesLink: true,
    symlinkOrder: 'draft',
  },
  paramiko: {
    start: startParamiko,
    hash: true, // check-file
    chunk256: { put: 262144, get: 262144 },
    resumesUpload: true,
    renameOver: 'replaces', // the script's rename is os.rename
    mkdirExisting: 'EEXIST',
    removeDir: 'EISDIR',
    openDir: 'EIO',
    symlinks: 'yes',
    readlinkRelative: 'one.txt',
    lstatSeesLink: true,
    symlinkOrder: 'openssh',
  },
  rclone: {
    start: startRclone,
    hash: false,
    // A WRITE of 256 KiB of data is a packet over 256 KiB: its Go server (pkg/sftp) ends the session.
    chunk256: { put: 'ECONNRESET', get: 262144 },
    resumesUpload: false, // its VFS cache starts a write open afresh
    renameOver: 'replaces',
    mkdirExisting: 'succeeds',
    removeDir: 'EISDIR',
    openDir: 'opens',
    readDir: 'EIO',
    symlinks: 'no',
  },
};

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SftpError, `an SftpError, not ${String(err)}`);
    return err.code;
  }
  return 'resolved';
};

for (const [name, x] of Object.entries(EXPECT) as Array<[ServerName, Expect]>) {
  describe(`client vs ${name}`, { timeout: 150_000 }, () => {
    let srv: ServerUnderTest;
    let client: SftpClient;
    let local: string;
    let base: string;
    const data = randomBytes(Math.floor(1.5 * MiB) + 123);
    const at = (p: string) => path.posix.join(base, p);
    const onDisk = (p: string) => path.join(srv.root, p);

    before(async () => {
      local = mkdtempSync(path.join(tmpdir(), `sftp-wire-vs-${name}-`));
      writeFileSync(path.join(local, 'src.bin'), data);
      srv = await x.start();
      base = srv.base;
      client = await SftpClient.connect({ ...srv.connect, readyTimeout: 30_000, sftp: { handshakeTimeoutMs: 30_000 } });
    });
    after(async () => {
      await client?.end().catch(() => {});
      await srv?.stop();
      rmSync(local, { recursive: true, force: true });
    });

    test('connect: version 3, check-file and the guessed SYMLINK order as expected', () => {
      assert.equal(client.version, 3);
      assert.equal(client.supports('checkFileHandle'), x.hash);
      // The guess from its identification is already the order it reads: no symlink needs redoing.
      assert.deepEqual(client.symlinkOrder, { order: x.symlinkOrder ?? 'draft', checked: false });
    });

    test('put and get, plain', async () => {
      const up = await client.put(path.join(local, 'src.bin'), at('plain.bin'));
      assert.equal(up.size, data.length);
      assert.ok(readFileSync(onDisk('plain.bin')).equals(data));
      const down = await client.get(at('plain.bin'), path.join(local, 'plain.bin'));
      assert.equal(down.size, data.length);
      assert.ok(readFileSync(path.join(local, 'plain.bin')).equals(data));
    });

    test('chunkSize 256 KiB: as far as the server allows', async () => {
      if (x.chunk256.put === 'ECONNRESET') {
        const other = await SftpClient.connect({ ...srv.connect, readyTimeout: 30_000 });
        assert.equal(
          await codeOf(other.put(path.join(local, 'src.bin'), at('too-big.bin'), { chunkSize: 256 * 1024 })),
          'ECONNRESET',
        );
        await other.end();
        await client.put(path.join(local, 'src.bin'), at('big-chunks.bin'));
      } else {
        const up = await client.put(path.join(local, 'src.bin'), at('big-chunks.bin'), { chunkSize: 256 * 1024 });
        assert.equal(up.chunkSize, x.chunk256.put);
      }
      const down = await client.get(at('big-chunks.bin'), path.join(local, 'big-chunks.bin'), {
        chunkSize: 256 * 1024,
      });
      assert.equal(down.chunkSize, x.chunk256.get);
      assert.ok(readFileSync(path.join(local, 'big-chunks.bin')).equals(data));
    });

    test(`atomic put, verified by ${x.hash ? 'hash' : 'tail'}, new and over an existing file`, async () => {
      const verify = x.hash ? 'hash' : 'tail';
      await client.writeFile(at('atomic.bin'), 'old contents');
      const r = await client.put(path.join(local, 'src.bin'), at('atomic.bin'), { atomic: true, verify });
      assert.equal(r.atomic, true);
      assert.equal(r.verified, verify);
      assert.equal(r.replaced, 'atomic');
      assert.ok(readFileSync(onDisk('atomic.bin')).equals(data));
      const fresh = await client.put(path.join(local, 'src.bin'), at('atomic-new.bin'), { atomic: true, verify });
      assert.equal(fresh.replaced, false);
      assert.ok(readFileSync(onDisk('atomic-new.bin')).equals(data));
      const leftovers = (await client.list(base))
        .map((e) => e.filename)
        .filter((n) => n.includes('.part') || n.startsWith('.in.'));
      assert.deepEqual(leftovers, [], 'no temporary file left');
    });

    test('resume of an interrupted upload and download', async () => {
      const verify = x.hash ? 'hash' : 'tail';
      const stop = new AbortController();
      await assert.rejects(
        client.put(path.join(local, 'src.bin'), at('resumed.bin'), {
          resume: true,
          chunkSize: 32 * 1024,
          requests: 2,
          signal: stop.signal,
          onProgress: (p) => {
            if (p.bytes >= 512 * 1024) stop.abort();
          },
        }),
        { name: 'AbortError' },
      );
      assert.equal(existsSync(onDisk('resumed.bin')), false, 'nothing under the final name');
      const up = await client.put(path.join(local, 'src.bin'), at('resumed.bin'), { resume: true, verify });
      if (x.resumesUpload) assert.ok(up.resumedFrom > 0 && up.bytes < data.length, `resumed from ${up.resumedFrom}`);
      else assert.equal(up.resumedFrom, 0);
      assert.equal(up.verified, verify);
      assert.ok(readFileSync(onDisk('resumed.bin')).equals(data));

      const stop2 = new AbortController();
      await assert.rejects(
        client.get(at('resumed.bin'), path.join(local, 'resumed.bin'), {
          resume: true,
          chunkSize: 32 * 1024,
          requests: 2,
          signal: stop2.signal,
          onProgress: (p) => {
            if (p.bytes >= 512 * 1024) stop2.abort();
          },
        }),
        { name: 'AbortError' },
      );
      const down = await client.get(at('resumed.bin'), path.join(local, 'resumed.bin'), {
        resume: true,
        verify: 'tail',
      });
      assert.ok(down.resumedFrom > 0, `download resumed from ${down.resumedFrom}`);
      assert.ok(readFileSync(path.join(local, 'resumed.bin')).equals(data));
    });

    test('putTree / getTree of a small tree with a symlink; list; stat and lstat', async () => {
      const tree = path.join(local, 'tree');
      mkdirSync(path.join(tree, 'sub'), { recursive: true });
      writeFileSync(path.join(tree, 'one.txt'), 'one');
      writeFileSync(path.join(tree, 'sub', 'two.txt'), 'two two');
      symlinkSync('one.txt', path.join(tree, 'link'));
      const up = await client.putTree(tree, at('tree'));
      assert.equal(up.files, 2);
      assert.equal(readFileSync(onDisk('tree/sub/two.txt'), 'utf8'), 'two two');
      const names = (await client.list(at('tree'))).map((e) => e.filename).sort();
      const back = path.join(local, 'back');
      const down = await client.getTree(at('tree'), back);
      assert.equal(down.files, 2);
      assert.equal(readFileSync(path.join(back, 'sub', 'two.txt'), 'utf8'), 'two two');
      assert.equal((await client.stat(at('tree/one.txt'))).size, 3);
      if (x.symlinks === 'no') {
        assert.equal(up.symlinks, 0);
        assert.deepEqual(
          up.errors.map((e) => [e.path, (e.error as SftpError).code]),
          [['link', 'ENOSYS']],
        );
        assert.deepEqual(names, ['one.txt', 'sub']);
        return;
      }
      assert.deepEqual(up.errors, []);
      assert.equal(up.symlinks, 1);
      assert.equal(readlinkSync(onDisk('tree/link')), 'one.txt', 'the link points the right way on the server');
      assert.deepEqual(names, ['link', 'one.txt', 'sub']);
      assert.equal((await client.stat(at('tree/link'))).size, 3, 'stat follows the link');
      assert.equal(isSymlink(await client.lstat(at('tree/link'))), x.lstatSeesLink);
      const rel = x.readlinkRelative!;
      if (/^E[A-Z]+$/.test(rel)) {
        assert.equal(await codeOf(client.readlink(at('tree/link'))), rel);
        assert.deepEqual(
          down.errors.map((e) => [e.path, (e.error as SftpError).code]),
          [['link', rel]],
        );
      } else {
        assert.equal(await client.readlink(at('tree/link')), rel);
        assert.deepEqual(down.errors, []);
        assert.equal(readlinkSync(path.join(back, 'link')), rel);
      }
    });

    test('rename over an existing file', async () => {
      await client.writeFile(at('from.txt'), 'from');
      await client.writeFile(at('to.txt'), 'to');
      if (x.renameOver === 'EEXIST') {
        assert.equal(await codeOf(client.rename(at('from.txt'), at('to.txt'))), 'EEXIST');
        assert.equal(readFileSync(onDisk('to.txt'), 'utf8'), 'to');
        assert.equal(readFileSync(onDisk('from.txt'), 'utf8'), 'from');
      } else {
        await client.rename(at('from.txt'), at('to.txt'));
        assert.equal(readFileSync(onDisk('to.txt'), 'utf8'), 'from');
        assert.equal(existsSync(onDisk('from.txt')), false);
      }
      if (client.supports('posixRename')) {
        await client.writeFile(at('from.txt'), 'again');
        await client.posixRename(at('from.txt'), at('to.txt'));
        assert.equal(readFileSync(onDisk('to.txt'), 'utf8'), 'again');
      }
    });

    test('mkdir of an existing dir, rmdir of a non-empty one, remove and open of a directory', async () => {
      await client.mkdir(at('d'));
      await client.writeFile(at('d/f'), 'f');
      if (x.mkdirExisting === 'EEXIST') assert.equal(await codeOf(client.mkdir(at('d'))), 'EEXIST');
      else await client.mkdir(at('d'));
      assert.equal(await codeOf(client.rmdir(at('d'))), 'ENOTEMPTY');
      assert.equal(await codeOf(client.remove(at('d'))), x.removeDir);
      assert.ok(lstatSync(onDisk('d')).isDirectory(), 'the directory is still there');
      if (x.openDir === 'opens') {
        const h = await client.open(at('d'), 'r');
        assert.equal(await codeOf(client.read(h, 0, 10)), x.readDir);
        await client.close(h);
      } else {
        assert.equal(await codeOf(client.open(at('d'), 'r')), x.openDir);
      }
      assert.ok((await codeOf(client.readFile(at('d')))) !== 'resolved', 'reading a directory as a file fails');
    });

    test('symlink + readlink: the link points the right way', async () => {
      if (x.symlinks === 'no') {
        assert.equal(await codeOf(client.symlink('/target.txt', at('lnk'))), 'ENOSYS');
        assert.equal(client.symlinkOrder.checked, false);
        return;
      }
      await client.symlink('dangling-target', at('lnk'));
      assert.equal(readlinkSync(onDisk('lnk')), 'dangling-target');
      assert.equal(
        existsSync(onDisk('dangling-target')) || isLink(onDisk('dangling-target')),
        false,
        'nothing made at the target name',
      );
      assert.deepEqual(client.symlinkOrder, { order: x.symlinkOrder, checked: true });
      await client.symlink('one.txt', at('tree/lnk2'));
      assert.equal(readlinkSync(onDisk('tree/lnk2')), 'one.txt');
    });
  });
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
