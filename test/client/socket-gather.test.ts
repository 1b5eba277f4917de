// gatherSocketWrites on a stand-in for ssh2's channel and socket: every channel write of one tick
// reaches the socket while it is corked, the socket is uncorked once before the next tick, bytes keep
// their order, and a connection not shaped like ssh2's is left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { gatherSocketWrites } from '../../src/transport/ssh-channel.js';

function fakes() {
  const sock = {
    corks: 0,
    uncorks: 0,
    destroyed: false,
    cork() {
      this.corks++;
    },
    uncork() {
      this.uncorks++;
    },
  };
  const seen: Array<{ bytes: string; corked: boolean }> = [];
  const channel = new Writable({
    write(chunk: Buffer, _enc, cb) {
      seen.push({ bytes: chunk.toString(), corked: sock.corks > sock.uncorks });
      cb();
    },
  });
  return { sock, channel, seen, conn: { _sock: sock } };
}

const tick = () => new Promise((r) => setImmediate(r));

test('the channel writes of one tick go to a corked socket, uncorked once before the next tick', async () => {
  const { sock, channel, seen, conn } = fakes();
  gatherSocketWrites(conn as unknown as ssh2.Client, channel as unknown as ClientChannel);
  channel.write('a');
  channel.write('b');
  channel.cork();
  channel.write('c');
  channel.write('d');
  channel.uncork();
  assert.equal(sock.corks, 1);
  assert.equal(sock.uncorks, 0, 'still corked within the tick');
  await tick();
  assert.equal(sock.uncorks, 1);
  channel.write('e');
  await tick();
  assert.deepEqual(
    seen.map((s) => s.bytes),
    ['a', 'b', 'c', 'd', 'e'],
  );
  assert.ok(
    seen.every((s) => s.corked),
    'every write reached the socket corked',
  );
  assert.equal(sock.corks, 2);
  assert.equal(sock.uncorks, 2, 'balanced');
});

test('a connection without a socket shaped like ssh2 is left alone', async () => {
  const { channel, seen } = fakes();
  const before = (channel as unknown as { _write: unknown })._write;
  gatherSocketWrites({} as unknown as ssh2.Client, channel as unknown as ClientChannel);
  assert.equal((channel as unknown as { _write: unknown })._write, before);
  channel.write('x');
  await tick();
  assert.deepEqual(
    seen.map((s) => s.bytes),
    ['x'],
  );
});
