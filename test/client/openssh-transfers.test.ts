// Windowed get/put, Buffer and stream variants against OpenSSH's sftp-server on stdio: sizes around the
// chunk size and a 20 MiB random file, byte-identical both ways; progress, preserve, fsync, abort and
// a source that changes size under the transfer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createReadStream as localReadStream } from 'node:fs';
import {
  AbortError,
  SourceChangedError,
  downloadHandle,
  openForRead,
  readChunks,
  type TransferProgress,
} from '../../src/client/index.js';
import { openSsh, rejectionOf, type OpenSshFixture } from './helpers.js';

describe('transfers against OpenSSH sftp-server (stdio)', () => {
  let f: OpenSshFixture;
  let d: string;
  let chunk: number;
  let big: Buffer;
  before(async () => {
    f = await openSsh();
    d = f.dir;
    chunk = f.client.readChunkSize;
    big = randomBytes(20 * 1024 * 1024);
    writeFileSync(join(d, 'big.src'), big);
  });
  after(async () => f.close());

  test('the chunk size comes from the server limits', () => {
    assert.equal(chunk, 261120);
    assert.equal(f.client.writeChunkSize, 261120);
  });

  for (const label of ['0', '1', 'chunk-1', 'chunk', 'chunk+1', '3*chunk+7'] as const) {
    test(`get and put of ${label} bytes are byte-identical (default and small chunks)`, async () => {
      const c = f.client;
      const size = { '0': 0, '1': 1, 'chunk-1': chunk - 1, chunk, 'chunk+1': chunk + 1, '3*chunk+7': 3 * chunk + 7 }[
        label
      ];
      const data = randomBytes(size);
      const src = join(d, `s-${label}`);
      writeFileSync(src, data);
      for (const opts of [{}, { chunkSize: 1000, requests: 3 }, { chunkSize: chunk, requests: 1 }]) {
        const g = await c.get(src, join(d, `g-${label}`), opts);
        assert.equal(g.bytes, size);
        assert.ok(readFileSync(join(d, `g-${label}`)).equals(data));
        const p = await c.put(src, join(d, `p-${label}`), opts);
        assert.equal(p.bytes, size);
        assert.equal(p.size, size);
        assert.ok(readFileSync(join(d, `p-${label}`)).equals(data));
        assert.ok((await c.readFile(src, opts)).equals(data));
        await c.writeFile(join(d, `w-${label}`), data, opts);
        assert.ok(readFileSync(join(d, `w-${label}`)).equals(data));
      }
      assert.equal(c.session.inFlight, 0);
    });
  }

  test('20 MiB random: get and put byte-identical, progress monotonic up to the total', async () => {
    const c = f.client;
    const seen: TransferProgress[] = [];
    const g = await c.get(join(d, 'big.src'), join(d, 'big.get'), { onProgress: (p) => seen.push(p) });
    assert.equal(g.bytes, big.length);
    assert.ok(readFileSync(join(d, 'big.get')).equals(big));
    assert.ok(seen.length >= Math.floor(big.length / chunk));
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.bytes > seen[i - 1]!.bytes);
    assert.deepEqual(seen.at(-1), { bytes: big.length, total: big.length });

    const up: number[] = [];
    const p = await c.put(join(d, 'big.src'), join(d, 'big.put'), {
      requests: 64,
      onProgress: (x) => up.push(x.bytes),
    });
    assert.equal(p.bytes, big.length);
    assert.equal(p.requests, 64);
    assert.ok(readFileSync(join(d, 'big.put')).equals(big));
    assert.equal(up.at(-1), big.length);
    for (let i = 1; i < up.length; i++) assert.ok(up[i]! > up[i - 1]!);
  });

  test('createReadStream: many READs in flight, in order, with start/end ranges', async () => {
    const c = f.client;
    const src = join(d, 'big.src');
    const parts: Buffer[] = [];
    for await (const b of c.createReadStream(src, { chunkSize: 65536, requests: 16 })) parts.push(b as Buffer);
    assert.ok(Buffer.concat(parts).equals(big));
    const range: Buffer[] = [];
    for await (const b of c.createReadStream(src, { start: 1000, end: 300_999 })) range.push(b as Buffer);
    assert.ok(Buffer.concat(range).equals(big.subarray(1000, 301_000)));
    const beyond: Buffer[] = [];
    for await (const b of c.createReadStream(join(d, 's-chunk+1'), { start: chunk - 5, end: chunk + 100 }))
      beyond.push(b as Buffer);
    assert.equal(Buffer.concat(beyond).length, 6);
    // destroying early closes the handle
    const fds = f.openFds();
    const rs = c.createReadStream(src, { chunkSize: 32768 });
    for await (const b of rs) {
      void b;
      break;
    }
    await new Promise((r) => setImmediate(r));
    while (f.client.session.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(f.openFds(), fds);
  });

  test('createWriteStream: pipe 20 MiB in odd-sized writes; bytes identical, handle closed at finish', async () => {
    const c = f.client;
    const fds = f.openFds();
    const dst = join(d, 'big.stream');
    await pipeline(
      localReadStream(join(d, 'big.src'), { highWaterMark: 77_777 }),
      c.createWriteStream(dst, { requests: 8 }),
    );
    assert.ok(readFileSync(dst).equals(big));
    assert.equal(f.openFds(), fds);
    // a caller reusing its buffer after the write callback does not corrupt the upload (chunks are copied)
    const reused = Buffer.alloc(10_000);
    const ws = c.createWriteStream(join(d, 'reuse.bin'), { chunkSize: 4096 });
    const expected: Buffer[] = [];
    for (let i = 0; i < 20; i++) {
      reused.fill(i);
      expected.push(Buffer.from(reused));
      await new Promise<void>((res, rej) => ws.write(reused, (e) => (e ? rej(e) : res())));
    }
    await new Promise<void>((res) => ws.end(res));
    assert.ok(readFileSync(join(d, 'reuse.bin')).equals(Buffer.concat(expected)));
    // errors surface: a write stream to a missing directory fails
    const bad = c.createWriteStream(join(d, 'no', 'such', 'dir'));
    const e = await rejectionOf(pipeline(Readable.from([Buffer.from('x')]), bad));
    assert.equal(e.code, 'ENOENT');
  });

  test('preserve copies mode and times both ways; fsync is used when advertised', async () => {
    const c = f.client;
    const src = join(d, 'pres.src');
    writeFileSync(src, 'preserve me');
    chmodSync(src, 0o640);
    utimesSync(src, 1_500_000_000, 1_600_000_000);
    const up = await c.put(src, join(d, 'pres.put'), { preserve: true, fsync: true });
    assert.equal(up.preserved, true);
    assert.equal(up.fsynced, true);
    const st = statSync(join(d, 'pres.put'));
    assert.equal(st.mode & 0o777, 0o640);
    assert.equal(Math.floor(st.mtimeMs / 1000), 1_600_000_000);
    const down = await c.get(src, join(d, 'pres.get'), { preserve: true, fsync: true });
    assert.equal(down.preserved, true);
    const st2 = statSync(join(d, 'pres.get'));
    assert.equal(st2.mode & 0o777, 0o640);
    assert.equal(Math.floor(st2.mtimeMs / 1000), 1_600_000_000);
    // without preserve, times are fresh
    await c.put(src, join(d, 'nopres.put'));
    assert.notEqual(Math.floor(statSync(join(d, 'nopres.put')).mtimeMs / 1000), 1_600_000_000);
  });

  test('abort mid-transfer rejects with AbortError; the session keeps working', async () => {
    const c = f.client;
    const ac = new AbortController();
    const e = await rejectionOf(
      c.get(join(d, 'big.src'), join(d, 'aborted.get'), {
        chunkSize: 32768,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.bytes > 1_000_000) ac.abort();
        },
      }),
    );
    assert.ok(e instanceof AbortError);
    const ac2 = new AbortController();
    const e2 = await rejectionOf(
      c.put(join(d, 'big.src'), join(d, 'aborted.put'), {
        chunkSize: 32768,
        signal: ac2.signal,
        onProgress: (p) => {
          if (p.bytes > 1_000_000) ac2.abort();
        },
      }),
    );
    assert.ok(e2 instanceof AbortError);
    assert.ok(statSync(join(d, 'aborted.put')).size < big.length);
    // an already-aborted signal rejects before anything is sent
    assert.ok((await rejectionOf(c.stat(d, { signal: AbortSignal.abort() }))) instanceof AbortError);
    assert.ok((await c.readFile(join(d, 's-chunk+1'))).length === chunk + 1);
  });

  test('a remote source that shrinks or grows after its size was read is reported', async () => {
    const c = f.client;
    const p = join(d, 'changing.bin');
    writeFileSync(p, randomBytes(3 * chunk));
    let { handle, attrs } = await openForRead(c, p);
    truncateSync(p, chunk + 10);
    const shrink = await rejectionOf(
      downloadHandle(c, handle, { write: async () => {} }, { chunkSize: chunk, requests: 4, expectSize: attrs.size }),
    );
    assert.ok(shrink instanceof SourceChangedError);
    assert.equal((shrink as SourceChangedError).expected, 3 * chunk);
    // `actual` is where an EOF was seen: at or past the new end, before the expected size
    assert.ok((shrink as SourceChangedError).actual >= chunk + 10 && (shrink as SourceChangedError).actual < 3 * chunk);
    assert.match(shrink.message, /shrank/);
    await c.close(handle);

    ({ handle, attrs } = await openForRead(c, p));
    appendFileSync(p, 'more');
    const grow = await rejectionOf(
      downloadHandle(c, handle, { write: async () => {} }, { chunkSize: chunk, requests: 4, expectSize: attrs.size }),
    );
    assert.ok(grow instanceof SourceChangedError);
    assert.ok((grow as SourceChangedError).actual > chunk + 10);
    // without an expected size, the engine reads to EOF
    const parts: Buffer[] = [];
    for await (const b of readChunks(c, handle, { chunkSize: 1000, requests: 8 })) parts.push(b);
    assert.equal(Buffer.concat(parts).length, chunk + 14);
    await c.close(handle);
  });

  test('get of a missing file rejects ENOENT and leaves no handle open; put of a directory is refused', async () => {
    const c = f.client;
    const fds = f.openFds();
    const e = await rejectionOf(c.get(join(d, 'nope'), join(d, 'nope.get')));
    assert.equal(e.code, 'ENOENT');
    assert.equal(e.op, 'open');
    assert.equal(f.openFds(), fds);
    const e2 = await rejectionOf(c.put(d, join(d, 'dir.put')));
    assert.equal(e2.code, 'EISDIR');
    const e3 = await rejectionOf(c.put(join(d, 'big.src'), join(d, 'no', 'dir', 'x')));
    assert.equal(e3.code, 'ENOENT');
    assert.equal(f.openFds(), fds);
  });
});
