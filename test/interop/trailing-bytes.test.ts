/**
 * A WRITE whose packet is longer than the data it declares (as pkg/sftp 1.13.5, Debian 12's rclone,
 * sends them) writes exactly the declared bytes, on our server as on OpenSSH's sftp-server; both run
 * as real child processes speaking SFTP on their stdin/stdout, fed raw packets.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PacketType as T, OpenFlags, StatusCode } from '../../src/protocol/constants.js';
import { encodePacketToBuffer, type Packet } from '../../src/protocol/packets.js';
import { RawClient } from '../support/raw-client.js';
import { TSX_LOADER, CLI_MAIN } from '../support/cli.js';
import { SFTP_SERVER_PATH, joinStreams, requireOpenSsh } from '../../bench/lib/peers/openssh.js';
import { randomBytesSeeded } from '../atomic/fixture.js';

/** Encode a request and append `extra` bytes inside the same packet (the length prefix covers them). */
function withTrailing(p: Packet, extra: Buffer): Buffer {
  const out = Buffer.concat([encodePacketToBuffer(p), extra]);
  out.writeUInt32BE(out.length - 4, 0);
  return out;
}

interface Peer {
  name: string;
  start(root: string): { command: string; args: string[]; cwd: string };
  /** What a field running past its packet gets: a BAD_MESSAGE (ours) or the end of the session (OpenSSH's, which treats it as fatal). */
  overrun: 'bad-message' | 'exit';
}
const peers: Peer[] = [
  {
    name: 'sftp-wire serve --stdio',
    start: (root) => ({
      command: process.execPath,
      args: ['--import', TSX_LOADER, CLI_MAIN, 'serve', '--stdio', '--root', root],
      cwd: root,
    }),
    overrun: 'bad-message',
  },
  {
    name: "OpenSSH's sftp-server",
    start: (root) => ({ command: requireOpenSsh(SFTP_SERVER_PATH), args: [], cwd: root }),
    overrun: 'exit',
  },
];

describe('requests with bytes past their last field, over stdio', () => {
  for (const peer of peers) {
    it(`${peer.name}: WRITEs with trailing bytes write exactly the declared bytes; other requests still answer`, async () => {
      const root = mkdtempSync(path.join(tmpdir(), 'sftp-wire-trailing-'));
      const { command, args, cwd } = peer.start(root);
      const child = spawn(command, args, { cwd, stdio: ['pipe', 'pipe', 'inherit'] });
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
      try {
        const c = new RawClient(joinStreams(child.stdin!, child.stdout!));
        await c.init();
        const target = 'up.bin';
        const handle = await c.open(target, OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC);
        // pkg/sftp's shape: 4 KiB declared, 28 KiB more in the packet; then a second, odd-sized one.
        const first = randomBytesSeeded(4096, 1);
        const second = randomBytesSeeded(40_001, 2);
        const replies: Packet[] = [];
        for (const [offset, data, extra] of [
          [0, first, randomBytesSeeded(28672, 3)],
          [first.length, second, randomBytesSeeded(7, 4)],
        ] as const) {
          const id = c.takeId();
          const reply = c.expect(id);
          c.writeRaw(withTrailing({ type: T.WRITE, id, handle, offset, data }, extra));
          replies.push(await reply);
        }
        // a STAT and a CLOSE with trailing bytes are answered as without them
        const statId = c.takeId();
        const stat = c.expect(statId);
        c.writeRaw(withTrailing({ type: T.STAT, id: statId, path: target }, Buffer.from('tail')));
        const closeId = c.takeId();
        const closed = c.expect(closeId);
        c.writeRaw(withTrailing({ type: T.CLOSE, id: closeId, handle }, Buffer.from([0, 0, 0, 9])));

        for (const r of replies) assert.deepEqual(r.type === T.STATUS && r.code, StatusCode.OK, JSON.stringify(r));
        const st = await stat;
        assert.equal(st.type, T.ATTRS, JSON.stringify(st));
        assert.equal(st.type === T.ATTRS && st.attrs.size, first.length + second.length);
        const cl = await closed;
        assert.equal(cl.type === T.STATUS && cl.code, StatusCode.OK);
        assert.ok(
          readFileSync(path.join(root, target)).equals(Buffer.concat([first, second])),
          'the file holds exactly the declared bytes',
        );

        // a field that runs past the packet is still refused
        const badId = c.takeId();
        const bad = c.expect(badId);
        const p = encodePacketToBuffer({
          type: T.WRITE,
          id: badId,
          handle: Buffer.from('h'),
          offset: 0,
          data: Buffer.from('abc'),
        });
        p.writeUInt32BE(4, p.length - 7); // declares 4 data bytes, 3 follow
        c.writeRaw(p);
        if (peer.overrun === 'bad-message') {
          const b = await bad;
          assert.equal(b.type === T.STATUS && b.code, StatusCode.BAD_MESSAGE, JSON.stringify(b));
          assert.equal(await c.realpath('.'), '/', 'the session goes on');
          c.end();
        } else {
          await c.closed;
          assert.equal(c.arrivals.includes(badId), false, 'no reply: the server ended the session');
        }
        await exited;
      } finally {
        clearTimeout(kill);
        child.kill('SIGKILL');
        rmSync(root, { recursive: true, force: true });
      }
    });
  }
});
