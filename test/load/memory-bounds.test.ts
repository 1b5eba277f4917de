/**
 * Untrusted sizes and offsets never size an allocation: a WRITE far past the end or a SETSTAT that
 * grows a file is bounded by the storage's capacity (MemoryFs) and answered with a STATUS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SftpServer } from '../../src/server/sftp-server.js';
import { MemoryFs } from '../../src/server/fs/memory-fs.js';
import { PacketType as T, OpenFlags, StatusCode } from '../../src/protocol/constants.js';
import { RawPeer } from '../../bench/lib/peers/raw-peer.js';
import { memoryPair, within } from '../../bench/lib/peers/streams.js';

test('MemoryFs: a WRITE at offset 2 GiB, or 2^53-1, and a SETSTAT to 1 TiB are refused with ENOSPC; memory stays put', async () => {
  const server = new SftpServer({ fs: new MemoryFs({ capacity: 64 * 1024 * 1024 }) });
  const [c, s] = memoryPair();
  const served = server.serve(s);
  const peer = new RawPeer(c);
  await peer.init();
  const open = await peer.request({
    type: T.OPEN,
    id: 1,
    path: '/f',
    pflags: OpenFlags.READ | OpenFlags.WRITE | OpenFlags.CREAT,
    attrs: {},
  });
  assert.equal(open?.type, T.HANDLE);
  const handle = open?.type === T.HANDLE ? open.handle : Buffer.alloc(0);
  const before = process.memoryUsage().arrayBuffers;
  const replies = [
    await peer.request({ type: T.WRITE, id: 2, handle, offset: 2 ** 31, data: Buffer.from('x') }),
    await peer.request({ type: T.WRITE, id: 3, handle, offset: 2 ** 53 - 2, data: Buffer.from('x') }),
    await peer.request({ type: T.FSETSTAT, id: 4, handle, attrs: { size: 2 ** 40 } }),
    await peer.request({ type: T.SETSTAT, id: 5, path: '/f', attrs: { size: 2 ** 30 } }),
  ];
  const grown = process.memoryUsage().arrayBuffers - before;
  for (const r of replies) {
    assert.equal(r?.type, T.STATUS);
    assert.equal(r?.type === T.STATUS && r.code, StatusCode.FAILURE);
    assert.match(r?.type === T.STATUS ? r.message : '', /^ENOSPC/);
  }
  assert.ok(grown < 16 * 1024 * 1024, `buffers grew by ${grown} bytes`);
  // within the capacity it still works, sparse regions read as zeros
  const ok = await peer.request({ type: T.WRITE, id: 6, handle, offset: 1_000_000, data: Buffer.from('end') });
  assert.equal(ok?.type === T.STATUS && ok.code, StatusCode.OK);
  const st = await peer.request({ type: T.FSTAT, id: 7, handle });
  assert.equal(st?.type === T.ATTRS && st.attrs.size, 1_000_003);
  peer.stream.end();
  await within(served, 5000, 'serve');
});
