// getTree and rmtree list many directories at once (the remote walk). A TCP reset in the middle of
// that listing — a real RST from a relay in front of OpenSSH's sftp-server, right after the third
// READDIR — must end the call with the connection's error, soon, with nothing thrown in the process
// and nothing written outside the destination.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { SftpClient, TreeError } from '../../src/index.js';
import { PacketType } from '../../src/protocol/index.js';
import { TcpRelay } from '../atomic/tcp-relay.js';
import { tempDir } from '../support/temp-dir.js';

function wideTree(root: string): void {
  for (let d = 0; d < 20; d++) {
    mkdirSync(join(root, `d${d}`), { recursive: true });
    for (let f = 0; f < 3; f++) writeFileSync(join(root, `d${d}`, `f${f}`), `file ${d}/${f}\n`.repeat(50));
  }
}

/** The codes of an outcome: the error's own, or those a TreeError collected. */
function codesOf(err: unknown): string[] {
  if (err instanceof TreeError) return err.errors.map((e) => String((e.error as { code?: string }).code));
  return [String((err as { code?: string }).code)];
}

for (const op of ['getTree', 'rmtree'] as const) {
  test(`${op}: a TCP reset after the third READDIR ends the call with the connection's error`, async () => {
    const t = tempDir(`sftp-wire-tree-reset-${op}-`);
    const remote = join(t.dir, 'remote');
    wideTree(join(remote, 'top'));
    const thrown: unknown[] = [];
    const onThrown = (err: unknown) => thrown.push(err);
    process.on('uncaughtException', onThrown);
    process.on('unhandledRejection', onThrown);
    let readdirs = 0;
    const relay = await new TcpRelay({
      upstream: { sftpServerIn: remote },
      cutAfterPacket: (p) => p[0] === PacketType.READDIR && ++readdirs === 3,
    }).listen();
    const sock = net.connect(relay.port, '127.0.0.1');
    sock.on('error', () => {});
    await new Promise((r) => sock.once('connect', r));
    const client = await SftpClient.fromStream(sock);
    const dest = join(t.dir, 'local', 'dest');
    try {
      const run = op === 'getTree' ? client.getTree('top', dest) : client.rmtree('top');
      const outcome = await Promise.race([
        run.then(
          () => ({ error: undefined as unknown }),
          (error: unknown) => ({ error }),
        ),
        new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000).unref()),
      ]);
      assert.notEqual(outcome, 'hung', 'the call settled');
      assert.ok(outcome !== 'hung' && outcome.error !== undefined, 'the call rejected');
      const codes = codesOf(outcome.error);
      assert.ok(
        codes.length > 0 && codes.every((c) => c === 'ECONNRESET' || c === 'ERR_SFTP_CLOSED'),
        `connection errors only, got ${codes.join(', ')}`,
      );
      assert.equal(relay.cuts, 1, 'the relay cut once');
      // nothing outside the destination: the local side holds only dest (getTree) or nothing (rmtree)
      if (op === 'getTree') assert.deepEqual(readdirSync(join(t.dir, 'local')), ['dest']);
      else assert.equal(existsSync(join(t.dir, 'local')), false);
      assert.deepEqual(thrown, [], 'nothing was thrown in the process');
    } finally {
      sock.destroy();
      await relay.close();
      process.off('uncaughtException', onThrown);
      process.off('unhandledRejection', onThrown);
      t.cleanup();
    }
  });
}
