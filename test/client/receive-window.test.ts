// raiseReceiveWindow on a stand-in for ssh2's channel: the window is raised once someone reads by
// 'data', credit comes back only for bytes consumed, and anything not shaped like ssh2 is left alone.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { openSftpChannel, raiseReceiveWindow, SFTP_RECEIVE_WINDOW } from '../../src/transport/ssh-client.js';
import { growReceiveWindowFor } from '../../src/transport/ssh-channel.js';

const MiB = 1024 * 1024;

function fakes(state = 'open') {
  const adjusts: Array<[number, number]> = [];
  const channel = Object.assign(new PassThrough(), {
    incoming: { window: 2 * MiB },
    outgoing: { id: 7, state },
  });
  const conn = { _protocol: { channelWindowAdjust: (id: number, n: number) => adjusts.push([id, n]) } };
  return { channel, conn, adjusts };
}

/** Deliver `n` bytes as ssh2 does: take them from the window, then push. */
function deliver(channel: ReturnType<typeof fakes>['channel'], n: number): void {
  channel.incoming.window -= n;
  channel.write(Buffer.alloc(n));
}

describe('SFTP channel receive window', () => {
  test('raised to the size when a data listener attaches, then topped up in quarter steps as bytes are read', async () => {
    const { channel, conn, adjusts } = fakes();
    raiseReceiveWindow(conn as unknown as ssh2.Client, channel as unknown as ClientChannel, 16 * MiB);
    assert.deepEqual(adjusts, [], 'nothing before anyone reads');
    let read = 0;
    channel.on('data', (d: Buffer) => (read += d.length));
    assert.deepEqual(adjusts, [[7, 14 * MiB]]);
    assert.equal(channel.incoming.window, 16 * MiB);
    for (let i = 0; i < 160; i++) deliver(channel, 32 * 1024); // 5 MiB
    await new Promise((r) => setImmediate(r));
    assert.equal(read, 5 * MiB);
    assert.deepEqual(adjusts.slice(1), [[7, 4 * MiB]], 'one grant per 4 MiB consumed');
    assert.equal(channel.incoming.window, 16 * MiB - 1 * MiB);
    assert.ok(channel.incoming.window > 12 * MiB - 1, 'never near ssh2 own 1 MiB threshold');
  });

  test('a paused reader gets no more credit (backpressure kept)', async () => {
    const { channel, conn, adjusts } = fakes();
    raiseReceiveWindow(conn as unknown as ssh2.Client, channel as unknown as ClientChannel, 8 * MiB);
    channel.on('data', () => {});
    channel.pause();
    for (let i = 0; i < 128; i++) deliver(channel, 32 * 1024); // 4 MiB, unread
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(adjusts, [[7, 6 * MiB]], 'only the initial raise');
    channel.resume();
    await new Promise((r) => setImmediate(r));
    assert.equal(adjusts.length, 3, 'credit for the 4 MiB once read, in 2 MiB steps');
  });

  test('a closed channel or an unexpected shape is left alone', () => {
    const closed = fakes('closed');
    raiseReceiveWindow(closed.conn as unknown as ssh2.Client, closed.channel as unknown as ClientChannel);
    closed.channel.on('data', () => {});
    assert.deepEqual(closed.adjusts, []);
    const odd = new PassThrough();
    assert.doesNotThrow(() => raiseReceiveWindow({} as ssh2.Client, odd as unknown as ClientChannel));
    odd.on('data', () => {});
    assert.equal(odd.listenerCount('data'), 1, 'no listener of ours added');
  });

  test('openSftpChannel raises the window to 4 MiB by default, to the size asked otherwise, and refuses a size out of range', async () => {
    assert.equal(SFTP_RECEIVE_WINDOW, 4 * MiB);
    for (const [asked, expected] of [
      [undefined, 4 * MiB],
      [16 * MiB, 16 * MiB],
    ] as const) {
      const { channel, conn, adjusts } = fakes();
      const ssh = Object.assign(conn, {
        setNoDelay: () => {},
        subsys: (_name: string, cb: (err: Error | undefined, ch: unknown) => void) => cb(undefined, channel),
      });
      const ch = await openSftpChannel(ssh as unknown as ssh2.Client, 'sftp', asked);
      ch.on('data', () => {});
      assert.deepEqual(adjusts, [[7, expected - 2 * MiB]], `window ${expected}`);
    }
    const { conn } = fakes();
    const ssh = Object.assign(conn, { setNoDelay: () => {}, subsys: () => assert.fail('no channel is opened') });
    for (const bad of [0, 1000, 1.5 * MiB + 0.5, 2 ** 32, NaN]) {
      await assert.rejects(openSftpChannel(ssh as unknown as ssh2.Client, 'sftp', bad), RangeError, String(bad));
    }
  });

  test('a window grows (never shrinks): before the first reader within the initial raise, after it by the difference', async () => {
    const { channel, conn, adjusts } = fakes();
    const w = raiseReceiveWindow(conn as unknown as ssh2.Client, channel as unknown as ClientChannel, 4 * MiB)!;
    w.grow(8 * MiB);
    assert.deepEqual(adjusts, [], 'nothing before anyone reads');
    channel.on('data', () => {});
    assert.deepEqual(adjusts, [[7, 6 * MiB]], 'the initial raise to the grown size');
    w.grow(16 * MiB);
    w.grow(2 * MiB);
    assert.deepEqual(adjusts.slice(1), [[7, 8 * MiB]], 'the difference only; a smaller size is ignored');
    assert.equal(channel.incoming.window, 16 * MiB);
    assert.equal(w.size, 16 * MiB);
    for (let i = 0; i < 128; i++) deliver(channel, 32 * 1024); // 4 MiB: one grant of a quarter of 16 MiB
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(adjusts.slice(2), [[7, 4 * MiB]]);
  });

  test('growReceiveWindowFor sizes a window openSftpChannel opened by the round trip: 4 MiB on loopback, 8 MiB at 20 ms, at most 16 MiB', async () => {
    const sizes: Array<number | undefined> = [];
    for (const rtt of [0.3, 5, 20, 40, 500, NaN]) {
      const { channel, conn } = fakes();
      const ssh = Object.assign(conn, {
        setNoDelay: () => {},
        subsys: (_name: string, cb: (err: Error | undefined, ch: unknown) => void) => cb(undefined, channel),
      });
      const ch = await openSftpChannel(ssh as unknown as ssh2.Client);
      sizes.push(growReceiveWindowFor(ch, rtt));
    }
    assert.deepEqual(sizes, [4 * MiB, 4 * MiB, 8 * MiB, 16 * MiB, 16 * MiB, 4 * MiB]);
    const { channel } = fakes();
    assert.equal(
      growReceiveWindowFor(channel as unknown as ClientChannel, 20),
      undefined,
      'not one openSftpChannel opened',
    );
  });
});
