/**
 * getTree never writes through a local symlink, in every write mode (default, atomic, resume):
 *  - a destination pre-populated with symlinks pointing outside it (an earlier run, or someone else);
 *  - resume partials and checkpoints planted as symlinks under the names a resumed download uses;
 *  - a lying server that lists a name as a symlink (copied as a local link pointing outside) and then
 *    lists the same name as a file.
 * Each such entry is an error in the result; the file outside stays byte-identical, nothing is created
 * outside the destination.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PacketType as T, StatusCode, type Attrs } from '../../src/protocol/index.js';
import { SftpClient, resumePartialName } from '../../src/client/index.js';
import { FakeServer } from '../../bench/lib/peers/fake-sftp-server.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';
import { connectPeer, type PeerKind } from '../atomic/fixture.js';
import { removeDir, tempDir } from '../support/temp-dir.js';

const VICTIM = Buffer.from('outside the destination: must never change\n');
const MODES = [
  { name: 'default', opts: {} },
  { name: 'atomic', opts: { atomic: true } },
  { name: 'resume', opts: { resume: true } },
  { name: 'atomic+resume', opts: { atomic: true, resume: true } },
];

function outsideState(dir: string): string {
  return JSON.stringify(
    readdirSync(dir)
      .sort()
      .map((n) => [n, readFileSync(join(dir, n)).toString('hex')]),
  );
}

for (const kind of ['openssh', 'ours'] as PeerKind[]) {
  describe(`getTree into a destination holding symlinks that point outside, against ${kind}`, () => {
    const base = tempDir('sftp-wire-nofollow-').dir;
    const remote = join(base, 'remote');
    const outside = join(base, 'outside');
    const big = Buffer.alloc(300 * 1024, 0x5a);
    const other = Buffer.alloc(400 * 1024, 0x3c);
    before(() => {
      mkdirSync(join(remote, 'tree', 'sub'), { recursive: true });
      writeFileSync(join(remote, 'tree', 'small.txt'), 'small remote file\n');
      writeFileSync(join(remote, 'tree', 'big.bin'), big);
      writeFileSync(join(remote, 'tree', 'sub', 'c.txt'), 'in sub\n');
      writeFileSync(join(remote, 'tree', 'plain.txt'), 'plain\n');
      writeFileSync(join(remote, 'tree', 'other.bin'), other);
      mkdirSync(outside);
      writeFileSync(join(outside, 'victim.txt'), VICTIM);
    });
    after(() => removeDir(base));

    for (const m of MODES) {
      it(`${m.name}: each symlinked entry is an error, the file outside is unchanged, the rest is copied`, async () => {
        const dest = join(base, `dest-${kind}-${m.name.replace('+', '-')}`);
        mkdirSync(dest);
        const victim = join(outside, 'victim.txt');
        symlinkSync(victim, join(dest, 'small.txt'));
        symlinkSync(victim, join(dest, 'big.bin'));
        symlinkSync(outside, join(dest, 'sub'));
        const before = outsideState(outside);
        const peer = await connectPeer(kind, remote);
        try {
          // Resume: a partial and its checkpoint planted as links under the exact names a resumed
          // download of plain.txt uses; for other.bin only the checkpoint (the download itself is fine).
          if (m.opts.resume) {
            for (const [name, size, partialToo] of [
              ['plain.txt', 6, true],
              ['other.bin', other.length, false],
            ] as const) {
              const a = await peer.client.stat(`tree/${name}`);
              assert.equal(a.size, size);
              const partial = resumePartialName(name, join(dest, name), {
                path: `tree/${name}`,
                size,
                mtime: a.mtime ?? 0,
              });
              if (partialToo) symlinkSync(victim, join(dest, partial));
              symlinkSync(victim, join(dest, `${partial}.ckpt`));
            }
          }
          const r = await peer.client.getTree('tree', dest, { ...m.opts, chunkSize: 16 * 1024 });
          const failed = r.errors.map((e) => e.path).sort();
          const expected = m.opts.resume
            ? ['big.bin', 'plain.txt', 'small.txt', 'sub']
            : ['big.bin', 'small.txt', 'sub'];
          assert.deepEqual(failed, expected, JSON.stringify(r.errors.map((e) => [e.path, String(e.error)])));
          for (const e of r.errors)
            assert.equal((e.error as { code?: string }).code, 'ELOOP', `${e.path}: ${String(e.error)}`);
        } finally {
          await peer.close();
        }
        assert.equal(outsideState(outside), before, 'nothing outside the destination changed or appeared');
        assert.ok(readFileSync(victim).equals(VICTIM));
        for (const n of ['small.txt', 'big.bin', 'sub'])
          assert.ok(lstatSync(join(dest, n)).isSymbolicLink(), `${n} is still the link`);
        if (!m.opts.resume) assert.equal(readFileSync(join(dest, 'plain.txt'), 'utf8'), 'plain\n');
        assert.ok(readFileSync(join(dest, 'other.bin')).equals(other), 'the other entries are copied');
        const temps = readdirSync(dest).filter((n) => /\.part$/.test(n));
        assert.deepEqual(temps, [], 'no temporary file left');
      });
    }
  });
}

/**
 * A lying server: `/t` lists `x` as a symlink to `target` in its first READDIR batch and, in a batch
 * sent only once the client has read the link, `x` again as a regular file of `content`.
 */
async function lyingServer(target: string, content: Buffer) {
  const [a, b] = memoryPair();
  const server = new FakeServer(b);
  const fileAttrs: Attrs = { size: content.length, permissions: 0o100644, atime: 1, mtime: 1 };
  const dirAttrs: Attrs = { permissions: 0o40755 };
  let readlinkAnswered: () => void = () => {};
  const linkRead = new Promise<void>((r) => (readlinkAnswered = r));
  let batch = 0;
  server.onRequest = (r) => {
    const status = (code: number) => server.send({ type: T.STATUS, id: r.id, code, message: '', lang: '' });
    switch (r.type) {
      case T.STAT:
      case T.LSTAT:
        if (r.path === '/t') return server.send({ type: T.ATTRS, id: r.id, attrs: dirAttrs });
        if (r.path === '/t/x') return server.send({ type: T.ATTRS, id: r.id, attrs: fileAttrs });
        return status(StatusCode.NO_SUCH_FILE);
      case T.REALPATH:
        return server.send({ type: T.NAME, id: r.id, entries: [{ filename: r.path, longname: '', attrs: {} }] });
      case T.OPENDIR:
        return server.send({ type: T.HANDLE, id: r.id, handle: Buffer.from('D') });
      case T.READDIR: {
        const n = batch++;
        if (n === 0)
          return server.send({
            type: T.NAME,
            id: r.id,
            entries: [{ filename: 'x', longname: '', attrs: { permissions: 0o120777, size: 5 } }],
          });
        if (n === 1) {
          // Answered a while after the link was read: by then the client has made the local link.
          void linkRead.then(() =>
            setTimeout(
              () =>
                server.send({ type: T.NAME, id: r.id, entries: [{ filename: 'x', longname: '', attrs: fileAttrs }] }),
              100,
            ),
          );
          return;
        }
        return status(StatusCode.EOF);
      }
      case T.READLINK:
        server.send({ type: T.NAME, id: r.id, entries: [{ filename: target, longname: '', attrs: {} }] });
        readlinkAnswered();
        return;
      case T.OPEN:
        return server.send({ type: T.HANDLE, id: r.id, handle: Buffer.from('F') });
      case T.FSTAT:
        return server.send({ type: T.ATTRS, id: r.id, attrs: fileAttrs });
      case T.READ:
        if (r.offset >= content.length) return status(StatusCode.EOF);
        return server.send({ type: T.DATA, id: r.id, data: content.subarray(r.offset, r.offset + r.length) });
      case T.CLOSE:
        return status(StatusCode.OK);
      default:
        return status(StatusCode.OP_UNSUPPORTED);
    }
  };
  return SftpClient.fromStream(a, { askLimits: false });
}

describe('a server that lists a name as a symlink, then as a file', () => {
  for (const m of MODES) {
    it(`${m.name}: the link it made is not written through; the entry is an error`, async () => {
      const base = tempDir('sftp-wire-lying-').dir;
      try {
        const outside = join(base, 'outside');
        mkdirSync(outside);
        const victim = join(outside, 'victim.txt');
        writeFileSync(victim, VICTIM);
        const dest = join(base, 'dest');
        const client = await lyingServer(victim, Buffer.from('PAYLOAD FROM A LYING SERVER'));
        try {
          const r = await client.getTree('/t', dest, m.opts);
          assert.equal(r.symlinks, 1, 'the link entry was copied as a link');
          assert.equal(r.files, 0, 'the file entry was not written');
          assert.deepEqual(
            r.errors.map((e) => e.path),
            ['x'],
          );
          assert.equal((r.errors[0]!.error as { code?: string }).code, 'ELOOP', String(r.errors[0]!.error));
        } finally {
          await client.end().catch(() => {});
        }
        assert.ok(readFileSync(victim).equals(VICTIM), 'the file outside is unchanged');
        assert.deepEqual(readdirSync(outside), ['victim.txt']);
        assert.equal(readlinkSync(join(dest, 'x')), victim);
        assert.deepEqual(readdirSync(dest), ['x'], 'no temporary or partial left');
      } finally {
        removeDir(base);
      }
    });
  }
});
