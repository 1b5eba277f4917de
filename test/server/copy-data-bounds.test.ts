import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, ftruncateSync, statSync } from 'node:fs';
import path from 'node:path';
import { OpenFlags, PacketType as T, StatusCode } from '../../src/protocol/constants.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { MemoryFs } from '../../src/server/fs/memory-fs.js';
import { LocalFs } from '../../src/server/fs/local-fs.js';
import { connect } from '../support/raw-client.js';
import { tempDir } from '../support/temp-dir.js';

const RW = OpenFlags.READ | OpenFlags.WRITE;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('copy-data onto the same file', () => {
  it('length 0 (to the end) from a file to itself through two handles is refused and writes nothing', async () => {
    // a small capacity: were the copy to run, it would stop at ENOSPC instead of filling the disk
    const fs = new MemoryFs({ capacity: 8 * 1024 * 1024 });
    const { client: c, served } = await connect(new SftpServer({ fs }));
    const content = randomBytes(300_000);
    await c.writeFile('/f.bin', content);
    const a = await c.open('/f.bin', OpenFlags.READ);
    const b = await c.open('/f.bin', OpenFlags.WRITE);
    const r = await c.ext('copyData', {
      readHandle: a,
      readOffset: 0,
      readLength: 0,
      writeHandle: b,
      writeOffset: 1000,
    });
    assert.equal(r.type === T.STATUS && r.code, StatusCode.FAILURE, JSON.stringify(r));
    assert.equal((await fs.stat('/f.bin')).size, content.length, 'nothing was written');
    c.end();
    await served;
  });

  it('on the local file system: overlapping ranges through two handles (and through a hard link) are refused', async () => {
    const t = tempDir();
    const { client: c, served } = await connect(new SftpServer({ fs: new LocalFs(t.dir) }));
    const content = randomBytes(200_000);
    await c.writeFile('/f.bin', content);
    const link = await c.ext('hardlink', { oldPath: '/f.bin', newPath: '/g.bin' });
    assert.equal(link.type === T.STATUS && link.code, StatusCode.OK);
    const a = await c.open('/f.bin', OpenFlags.READ);
    const b = await c.open('/g.bin', RW);
    for (const [readOffset, readLength, writeOffset] of [
      [0, 100_000, 50_000],
      [50_000, 100_000, 0],
      [0, 0, 199_999],
      [10, 1, 10],
    ] as const) {
      const r = await c.ext('copyData', { readHandle: a, readOffset, readLength, writeHandle: b, writeOffset });
      assert.equal(r.type === T.STATUS && r.code, StatusCode.FAILURE, `${readOffset}+${readLength} -> ${writeOffset}`);
    }
    assert.deepEqual(await c.readFile('/f.bin'), content, 'the file is unchanged');
    // ranges that do not overlap are copied
    const ok = await c.ext('copyData', {
      readHandle: a,
      readOffset: 0,
      readLength: 1000,
      writeHandle: b,
      writeOffset: 100_000,
    });
    assert.equal(ok.type === T.STATUS && ok.code, StatusCode.OK);
    const after = await c.readFile('/f.bin');
    assert.deepEqual(after.subarray(100_000, 101_000), content.subarray(0, 1000));
    c.end();
    await served;
    t.cleanup();
  });

  it('a long copy stops when its session ends (the client connection is destroyed mid-copy)', async () => {
    const t = tempDir();
    const total = 3 * 1024 * 1024 * 1024; // sparse: reading it costs no disk
    const fd = openSync(path.join(t.dir, 'big.bin'), 'w');
    ftruncateSync(fd, total);
    closeSync(fd);
    const { client: c, served } = await connect(new SftpServer({ fs: new LocalFs(t.dir) }));
    const a = await c.open('/big.bin', OpenFlags.READ);
    const b = await c.open('/copy.bin', OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC);
    void c
      .ext('copyData', { readHandle: a, readOffset: 0, readLength: 0, writeHandle: b, writeOffset: 0 })
      .catch(() => undefined);
    const dest = path.join(t.dir, 'copy.bin');
    for (let i = 0; i < 20_000 && statSync(dest).size < 4 * 1024 * 1024; i++) await sleep(2);
    assert.ok(statSync(dest).size >= 4 * 1024 * 1024, 'the copy started');
    c.stream.destroy();
    await served; // the session's shutdown waits for the running copy
    const atEnd = statSync(dest).size;
    await sleep(300);
    assert.equal(statSync(dest).size, atEnd, 'the file stopped growing');
    assert.ok(atEnd < total, `the copy stopped early (${atEnd} of ${total} bytes)`);
    t.cleanup();
  });
});
