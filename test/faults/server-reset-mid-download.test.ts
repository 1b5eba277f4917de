// Our server reuses DATA reply buffers on plain sockets once a write is done with them. A client whose
// TCP connection is reset while dozens of DATA replies are queued on it (it stopped reading first)
// must not hurt anyone: its session ends, nothing is thrown in the server's process, and another
// client downloading from the same server at the same time gets every byte right — a buffer handed
// back too early would show up there as wrong bytes. Real loopback sockets, a real RST.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { SftpClient, SftpServer } from '../../src/index.js';
import { tempDir } from '../support/temp-dir.js';

const CHUNK = 32 * 1024;
/** The reset clients ask 64 READs of 255 KiB: about 16 MiB, more than loopback's socket buffers hold. */
const BIG = 255 * 1024;

test('a client reset while 64 DATA replies of 255 KiB are queued on its socket: its session ends, a concurrent download stays byte-exact', async () => {
  const t = tempDir('sftp-wire-reset-dl-');
  const data = randomBytes(4 * 1024 * 1024 + 333);
  writeFileSync(join(t.dir, 'f.bin'), data);
  const thrown: unknown[] = [];
  const onThrown = (err: unknown) => thrown.push(err);
  process.on('uncaughtException', onThrown);
  process.on('unhandledRejection', onThrown);
  const server = new SftpServer({ root: t.dir });
  const sessions: Promise<void>[] = [];
  const listener = net.createServer((sock) => void sessions.push(server.serve(sock)));
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const { port } = listener.address() as net.AddressInfo;
  const connect = async () => {
    const sock = net.connect(port, '127.0.0.1');
    sock.on('error', () => {});
    await new Promise((r) => sock.once('connect', r));
    return { sock, client: await SftpClient.fromStream(sock) };
  };

  const steady = await connect();
  try {
    const h = await steady.client.open('/f.bin', 'r');
    let stop = false;
    let rounds = 0;
    // The steady client reads scattered ranges all along, each reply checked against the file.
    const checking = (async () => {
      while (!stop) {
        const offsets = Array.from({ length: 32 }, (_, i) => ((i * 7919 + rounds * 104729) * 4096) % data.length);
        const got = await Promise.all(offsets.map((o) => steady.client.read(h, o, CHUNK)));
        got.forEach((b, i) => {
          const o = offsets[i]!;
          assert.ok(b.equals(data.subarray(o, o + CHUNK)), `round ${rounds}: bytes at ${o}`);
        });
        rounds++;
      }
    })();

    for (let victim = 0; victim < 5; victim++) {
      const { sock, client } = await connect();
      const session = sessions[sessions.length - 1]!;
      const vh = await client.open('/f.bin', 'r');
      sock.pause(); // stops reading: the replies pile up in the server's socket
      const reads = Array.from({ length: 64 }, (_, i) => client.read(vh, (i * BIG) % (data.length - BIG), BIG));
      for (const r of reads) r.catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
      sock.resetAndDestroy();
      const ended = await Promise.race([
        session.then(
          () => 'ended',
          () => 'ended',
        ),
        new Promise((r) => setTimeout(() => r('still serving after 10 s'), 10_000).unref()),
      ]);
      assert.equal(ended, 'ended', `victim ${victim}: the reset client's session ended`);
      const outcomes = await Promise.allSettled(reads);
      assert.ok(
        outcomes.some((o) => o.status === 'rejected'),
        `victim ${victim}: its reads did not all complete`,
      );
    }
    stop = true;
    await checking;
    assert.ok(rounds >= 1, 'the steady client completed rounds while the others were reset');
    await steady.client.close(h);
    assert.deepEqual(thrown, [], 'nothing was thrown in the process');
  } finally {
    await steady.client.end().catch(() => {});
    steady.sock.destroy();
    await Promise.all(sessions.map((s) => s.catch(() => {})));
    await new Promise((r) => listener.close(r));
    process.off('uncaughtException', onThrown);
    process.off('unhandledRejection', onThrown);
    t.cleanup();
  }
});
