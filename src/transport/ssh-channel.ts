import type ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';

/**
 * The SFTP channel on an ssh2 connection that exists already: open the `sftp` subsystem as a raw
 * channel, give it a larger receive window, and read the server's identification. Types only from
 * ssh2: loading this module does not load ssh2 (a client over stdio never does; see ssh-client.ts).
 */

/** An ssh2 connection (ssh2's Client). */
export type SshConnection = ssh2.Client;
/** The settings ssh2's Client connects with. */
export type SshConnectConfig = ConnectConfig;

/** The software part of the server's SSH identification, which ssh2 keeps (no public accessor) once the connection is up. */
export function serverSoftware(conn: SshConnection): string | undefined {
  const v = (conn as unknown as { _remoteVer?: unknown })._remoteVer;
  return typeof v === 'string' ? v : undefined;
}

/** Start the `sftp` subsystem on a connected ssh2 Client; resolves with the raw channel, its receive window `window` bytes. */
export function openSftpChannel(
  conn: ssh2.Client,
  subsystem = 'sftp',
  window = SFTP_RECEIVE_WINDOW,
): Promise<ClientChannel> {
  if (!Number.isSafeInteger(window) || window < 64 * 1024 || window > 0xffffffff) {
    return Promise.reject(
      new RangeError(`receiveWindow must be a whole number of bytes from 64 KiB to 4 GiB, not ${window}`),
    );
  }
  conn.setNoDelay(true);
  return new Promise((resolve, reject) => {
    conn.subsys(subsystem, (err, channel) => {
      if (err) return reject(err);
      const w = raiseReceiveWindow(conn, channel, window);
      if (w) windows.set(channel, w);
      gatherSocketWrites(conn, channel);
      resolve(channel);
    });
  });
}

/**
 * The SFTP channel's receive window (ssh2's own is 2 MiB, refilled only once it falls to 1 MiB).
 * Not larger: the window is what the server may push into the TCP connection ahead of us, and when
 * the client falls behind (a cold process whose code is still being compiled, a slow disk), a 16 MiB
 * window let sshd fill the socket's receive buffer; on this project's machine (Linux 6.18, BBR) the
 * connection then fell into loss recovery on loopback, with stalls of 50-200 ms: the first 256 MiB
 * download of a process took 2.1-6 s (11 runs) instead of about 1.2 s, and a warm one stalled now
 * and then (the bench suite's LARGE down read 112 MiB/s, its runs 2.3, 0.74 and 2.9 s). At 4 MiB that
 * first download took 1.2-1.4 s in 5 of 5 runs (2 MiB: 1.0-1.1 s, 2 of 2). A long link needs more (a download moves at most one window
 * per round trip): SftpClient grows it after connecting by the round trip it measured
 * (growReceiveWindowFor), and raiseReceiveWindow takes any size for a channel of your own.
 */
export const SFTP_RECEIVE_WINDOW = 4 * 1024 * 1024;

/** The most the client grows the window to by itself (growReceiveWindowFor). */
export const MAX_AUTO_RECEIVE_WINDOW = 16 * 1024 * 1024;
/** growReceiveWindowFor sizes the window to carry this many bytes per second over the round trip. */
const AUTO_WINDOW_BYTES_PER_SECOND = 400 * 1024 * 1024;

/** A raised receive window, which may grow later (never shrink: credit given cannot be taken back). */
export interface ReceiveWindow {
  readonly size: number;
  /** Raise the window to `size` bytes (no-op when it is not larger). */
  grow(size: number): void;
}

/** The windows openSftpChannel raised, by channel. */
const windows = new WeakMap<ClientChannel, ReceiveWindow>();

/**
 * Grow the receive window of a channel openSftpChannel opened to what a download needs over a round
 * trip of `rttMs`: 400 MiB/s x round trip, at least what it has, at most 16 MiB. On loopback (well under
 * 10 ms) it stays at 4 MiB (see SFTP_RECEIVE_WINDOW); at 20 ms it becomes 8 MiB, from 40 ms 16 MiB.
 */
export function growReceiveWindowFor(channel: ClientChannel, rttMs: number): number | undefined {
  const w = windows.get(channel);
  if (!w || !Number.isFinite(rttMs) || rttMs <= 0) return w?.size;
  const want = Math.min(MAX_AUTO_RECEIVE_WINDOW, Math.floor((AUTO_WINDOW_BYTES_PER_SECOND * rttMs) / 1000));
  w.grow(want);
  return w.size;
}

/** The parts of ssh2's internals the tuning below relies on (checked at run time, never assumed). */
interface ChannelInternals {
  incoming?: { window?: number };
  outgoing?: { id?: number; state?: string };
}
interface ClientInternals {
  _protocol?: { channelWindowAdjust?: (id: number, amount: number) => void };
  _sock?: { cork?: () => void; uncork?: () => void; destroyed?: boolean };
}
type WriteFn = (chunk: unknown, encoding: BufferEncoding, cb: (err?: Error | null) => void) => void;

/**
 * Give the channel a larger receive window than ssh2's fixed 2 MiB, and keep it topped up as the
 * channel's data is consumed. ssh2 grants more window only once half of it is used, so a download
 * through it has 1-2 MiB on the way at most: at 20 ms round trip that caps it near 75 MiB/s, and at
 * zero round trip every pause of the event loop stalls the sender. Credit is returned for bytes the
 * channel has emitted ('data'), so a paused channel still stops the sender (backpressure is kept);
 * the server only sends what our READs asked for, which the session bounds. If ssh2's internals are
 * not shaped as expected, nothing is changed.
 */
export function raiseReceiveWindow(
  conn: ssh2.Client,
  channel: ClientChannel,
  size = SFTP_RECEIVE_WINDOW,
): ReceiveWindow | undefined {
  const ch = channel as unknown as ChannelInternals;
  const proto = (conn as unknown as ClientInternals)._protocol;
  const incoming = ch.incoming;
  const outgoing = ch.outgoing;
  if (!incoming || typeof incoming.window !== 'number' || !outgoing || typeof outgoing.id !== 'number')
    return undefined;
  if (typeof proto?.channelWindowAdjust !== 'function') return undefined;
  const id = outgoing.id;
  const grant = (n: number) => {
    if (n <= 0 || (outgoing.state !== 'open' && outgoing.state !== 'eof')) return;
    incoming.window! += n;
    proto.channelWindowAdjust!(id, n);
  };
  // Top the window up in steps of a quarter: it stays above 3/4 of `size`, far above the 1 MiB at
  // which ssh2 would step in with its own (smaller) adjustment.
  let step = Math.max(1, Math.floor(size / 4));
  let reading = false;
  let consumed = 0;
  const onData = (d: Buffer) => {
    consumed += d.length;
    if (consumed >= step) {
      const n = consumed;
      consumed = 0;
      grant(n);
    }
  };
  // Count only when someone reads the channel by 'data' (the session does; so does pipe()). Adding our
  // listener ourselves would start the flow before the caller listens, and lose bytes.
  const onNewListener = (event: string | symbol) => {
    if (event !== 'data') return;
    channel.removeListener('newListener', onNewListener);
    reading = true;
    grant(size - incoming.window!);
    channel.on('data', onData);
  };
  channel.on('newListener', onNewListener);
  return {
    get size() {
      return size;
    },
    grow(to: number) {
      if (!(to > size) || to > 0xffffffff) return;
      const more = to - size;
      size = to;
      step = Math.max(1, Math.floor(size / 4));
      if (reading) grant(more); // before the first reader, the initial raise grants the whole size
    },
  };
}

/**
 * Hand the SSH packets our channel writes in one tick to the TCP socket as one gathered write. ssh2
 * cuts channel data into packets of the server's channel packet size (sshd: 32 KiB) and writes each
 * to the socket on its own: a 255 KiB WRITE was eight write system calls, now one writev. The socket
 * is corked at the channel's first write of a tick and uncorked before the event loop goes on
 * (process.nextTick), so nothing waits longer than the code that wrote it; order is unchanged and
 * ssh2's flow control (its channel window) still bounds what is written. If ssh2's internals are not
 * shaped as expected, nothing is changed.
 */
export function gatherSocketWrites(conn: ssh2.Client, channel: ClientChannel): void {
  const sock = (conn as unknown as ClientInternals)._sock;
  const ch = channel as unknown as { _write?: WriteFn };
  const write = ch._write;
  if (!sock || typeof sock.cork !== 'function' || typeof sock.uncork !== 'function' || typeof write !== 'function')
    return;
  let corked = false;
  const uncork = () => {
    corked = false;
    sock.uncork!();
  };
  ch._write = function (this: unknown, chunk, encoding, cb) {
    if (!corked && !sock.destroyed) {
      corked = true;
      sock.cork!();
      process.nextTick(uncork);
    }
    write.call(this, chunk, encoding, cb);
  };
}
