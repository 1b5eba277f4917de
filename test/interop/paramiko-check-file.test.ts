/**
 * paramiko's SFTP server advertises the handle form of check-file as plain `check-file` (VERSION data
 * "md5,sha1"), takes check-file-handle's request body under that name, and hashes a block correctly
 * only when it is at most 64 KiB (read in one piece); below 256 bytes it refuses. This fake server
 * answers as paramiko 2.12's sftp_server.py does (read for facts), keeps its files in memory, and
 * fails the test if it is ever asked for a block it would hash wrongly.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open as openLocalFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PacketType as T, OpenFlags, StatusCode, SftpError, type Packet } from '../../src/protocol/index.js';
import { Writer, Reader } from '../../src/protocol/bytes.js';
import { SftpClient } from '../../src/client/client.js';
import { localReader, remoteReader, verifiedPrefix } from '../../src/client/file/atomic/resume-verify.js';
import { FakeServer, type Request } from '../../bench/lib/peers/fake-sftp-server.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';

const PARAMIKO_HASHES: Record<string, string> = { md5: 'md5', sha1: 'sha1' };

class FakeParamiko {
  readonly files = new Map<string, Buffer>();
  private readonly handles = new Map<string, string>();
  private nextHandle = 1;
  /** Every check-file request: name, algorithms, start, length, block size. */
  readonly checkFiles: { name: string; algorithms: string[]; start: number; length: number; blockSize: number }[] = [];
  /** Blocks paramiko would hash wrongly (> 64 KiB, or a whole range > 64 KiB). */
  readonly badBlocks: number[] = [];
  /** Flip a byte in every READ reply (a lying transfer that check-file must catch). */
  corruptReads = false;

  constructor(readonly server: FakeServer) {
    server.extensions = [{ name: 'check-file', data: Buffer.from('md5,sha1') }];
    server.onRequest = (r) => this.answer(r);
  }

  private status(id: number, code: number, message = ''): void {
    this.server.send({ type: T.STATUS, id, code, message, lang: '' });
  }
  private fileOf(handle: Buffer): string | undefined {
    return this.handles.get(handle.toString('latin1'));
  }

  private answer(r: Request): void {
    switch (r.type) {
      case T.REALPATH:
        return this.server.send({
          type: T.NAME,
          id: r.id,
          entries: [{ filename: path.posix.resolve('/', r.path), longname: '', attrs: {} }],
        });
      case T.OPEN: {
        const exists = this.files.has(r.path);
        if (!exists && !(r.pflags & OpenFlags.CREAT)) return this.status(r.id, StatusCode.NO_SUCH_FILE);
        if (!exists || r.pflags & OpenFlags.TRUNC) this.files.set(r.path, Buffer.alloc(0));
        const h = Buffer.from(String(this.nextHandle++));
        this.handles.set(h.toString('latin1'), r.path);
        return this.server.send({ type: T.HANDLE, id: r.id, handle: h });
      }
      case T.CLOSE:
        this.handles.delete(r.handle.toString('latin1'));
        return this.status(r.id, StatusCode.OK);
      case T.STAT:
      case T.LSTAT:
      case T.FSTAT: {
        const name = r.type === T.FSTAT ? this.fileOf(r.handle) : r.path;
        const data = name === undefined ? undefined : this.files.get(name);
        if (!data) return this.status(r.id, StatusCode.NO_SUCH_FILE);
        return this.server.send({
          type: T.ATTRS,
          id: r.id,
          attrs: { size: data.length, permissions: 0o100644, atime: 1, mtime: 1_700_000_000 },
        });
      }
      case T.READ: {
        const data = this.files.get(this.fileOf(r.handle) ?? '');
        if (!data) return this.status(r.id, StatusCode.FAILURE);
        if (r.offset >= data.length) return this.status(r.id, StatusCode.EOF);
        const out = Buffer.from(data.subarray(r.offset, r.offset + r.length));
        if (this.corruptReads) out[0]! ^= 0xff;
        return this.server.send({ type: T.DATA, id: r.id, data: out });
      }
      case T.WRITE: {
        const name = this.fileOf(r.handle);
        const data = this.files.get(name ?? '');
        if (!name || !data) return this.status(r.id, StatusCode.FAILURE);
        const grown = Buffer.alloc(Math.max(data.length, r.offset + r.data.length));
        data.copy(grown);
        r.data.copy(grown, r.offset);
        this.files.set(name, grown);
        return this.status(r.id, StatusCode.OK);
      }
      case T.EXTENDED:
        if (r.request === 'check-file') return this.checkFile(r.id, r.data);
        return this.status(r.id, StatusCode.OP_UNSUPPORTED, 'unsupported');
      default:
        return this.status(r.id, StatusCode.OP_UNSUPPORTED, 'unsupported');
    }
  }

  /** paramiko's _check_file: handle, alg list, start, length, block size; first known alg wins. */
  private checkFile(id: number, body: Buffer): void {
    const q = new Reader(body);
    const handle = q.bytes('handle');
    const algorithms = q.string('algorithms').split(',');
    const start = q.u64('start');
    let length = q.u64('length');
    let blockSize = q.u32('block size');
    this.checkFiles.push({ name: 'check-file', algorithms, start, length, blockSize });
    const data = this.files.get(this.fileOf(handle) ?? '');
    if (!data) return this.status(id, StatusCode.BAD_MESSAGE, 'Invalid handle');
    const alg = algorithms.find((a) => Object.hasOwn(PARAMIKO_HASHES, a));
    if (!alg) return this.status(id, StatusCode.FAILURE, 'No supported hash types found');
    if (length === 0) length = data.length - start;
    if (blockSize === 0) blockSize = length;
    if (blockSize < 256) return this.status(id, StatusCode.FAILURE, 'Block size too small');
    if (blockSize > 64 * 1024) this.badBlocks.push(blockSize);
    const w = new Writer();
    w.string('check-file').string(alg);
    for (let off = start; off < start + length; off += blockSize) {
      w.raw(
        createHash(PARAMIKO_HASHES[alg]!)
          .update(data.subarray(off, Math.min(start + length, off + blockSize)))
          .digest(),
      );
    }
    this.server.send({ type: T.EXTENDED_REPLY, id, data: Buffer.from(w.finish()) } as Packet);
  }
}

async function setup(): Promise<{ client: SftpClient; fake: FakeParamiko }> {
  const [a, b] = memoryPair();
  const fake = new FakeParamiko(new FakeServer(b));
  const client = await SftpClient.fromStream(a);
  return { client, fake };
}

function pattern(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe("check-file as paramiko's server advertises it", () => {
  it('counts as check-file-handle: asked under its name, with the hashes it listed, and the hashes match', async () => {
    const { client, fake } = await setup();
    try {
      assert.equal(client.supports('checkFileHandle'), true);
      assert.equal(client.supports('checkFileName'), false, 'paramiko has no path form');
      const data = pattern(200_000, 1);
      fake.files.set('/f', data);
      const h = await client.open('/f', 'r');
      const reply = await client.checkFile(h, { startOffset: 1000, length: 150_000, blockSize: 65536 });
      assert.deepEqual(fake.checkFiles.at(-1), {
        name: 'check-file',
        algorithms: ['sha1', 'md5'],
        start: 1000,
        length: 150_000,
        blockSize: 65536,
      });
      assert.equal(reply.algorithm, 'sha1');
      const want = [0, 65536, 131072].map((o) =>
        createHash('sha1')
          .update(data.subarray(1000 + o, Math.min(151_000, 1000 + o + 65536)))
          .digest(),
      );
      assert.deepEqual(reply.hashes, want);
      await client.close(h);
    } finally {
      await client.end();
    }
  });

  it('a block it would hash wrongly is refused here (ENOTSUP) and never sent', async () => {
    const { client, fake } = await setup();
    try {
      fake.files.set('/f', pattern(300_000, 2));
      const h = await client.open('/f', 'r');
      for (const opts of [{ length: 300_000, blockSize: 131072 }, { length: 300_000, blockSize: 0 }, {}]) {
        const e = await client.checkFile(h, opts).then(
          () => undefined,
          (err: unknown) => err,
        );
        assert.ok(e instanceof SftpError, String(e));
        assert.equal(e.code, 'ENOTSUP');
      }
      assert.equal(fake.checkFiles.length, 0);
      await client.close(h);
    } finally {
      await client.end();
    }
  });

  it("get with verify 'hash' verifies by paramiko's check-file, and catches a lying READ", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sftp-wire-paramiko-'));
    const { client, fake } = await setup();
    try {
      const data = pattern(300_000, 3);
      fake.files.set('/big', data);
      await client.get('/big', path.join(dir, 'ok'), { verify: 'hash' });
      assert.ok(readFileSync(path.join(dir, 'ok')).equals(data));
      assert.ok(fake.checkFiles.length > 0, 'verified by check-file');
      fake.corruptReads = true;
      const e = await client.get('/big', path.join(dir, 'bad'), { verify: 'hash' }).then(
        () => undefined,
        (err: unknown) => err,
      );
      assert.ok(e instanceof Error && /hash/.test(e.message), String(e));
      assert.deepEqual(fake.badBlocks, []);
    } finally {
      await client.end();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resume finds where a partial stops matching by check-file blocks', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sftp-wire-paramiko-'));
    const { client, fake } = await setup();
    try {
      const data = pattern(1_000_000, 4);
      fake.files.set('/src', data);
      const partial = Buffer.from(data.subarray(0, 700_000));
      partial[523_456]! ^= 1;
      writeFileSync(path.join(dir, 'partial'), partial);
      const fh = await openLocalFile(path.join(dir, 'partial'), 'r');
      const h = await client.open('/src', 'r');
      const reader = localReader(fh);
      const at = await verifiedPrefix({
        client,
        handle: h,
        remote: remoteReader(client, h),
        local: reader,
        source: remoteReader(client, h),
        partial: reader,
        from: 600_000,
        to: 700_000,
        chunk: 65536,
        sample: 4096,
      });
      assert.equal(at, 523_456);
      assert.ok(fake.checkFiles.length > 0, 'compared by check-file');
      assert.deepEqual(fake.badBlocks, []);
      await fh.close();
      await client.close(h);
    } finally {
      await client.end();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
