import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';

/**
 * The client side's only contact with ssh2: open a connection, and open the `sftp` subsystem as a raw
 * channel (a Duplex of SFTP bytes). ssh2's own SFTP implementation is never used.
 */

/**
 * Connect and authenticate; TCP no-delay is set on the socket (small SFTP requests must not wait for
 * Nagle). A failed connection is torn down (its later errors are swallowed, never thrown at the
 * process); `signal` gives up on connecting: the socket is destroyed and the call rejects with the
 * signal's reason.
 *
 * Once resolved, the connection's errors are the caller's: ssh2 emits 'error' on it (a reset, a
 * broken pipe) and an 'error' with no listener is thrown at the process. Attach one, or pass
 * `prepare`: it is called with the new Client before it connects, so that listeners attached there
 * (SftpClient.connect attaches one for the connection's whole life) see every event, none slipping
 * in between `ready` and the caller's next line.
 */
export function connectSsh(config: ConnectConfig, signal?: AbortSignal, prepare?: (conn: ssh2.Client) => void): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const conn = new ssh2.Client();
    prepare?.(conn);
    const settle = () => {
      conn.removeListener('ready', onReady);
      conn.removeListener('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    const giveUp = (err: unknown) => {
      settle();
      conn.on('error', () => undefined); // e.g. "Connection lost before handshake" after a readyTimeout
      conn.destroy();
      reject(err);
    };
    const onError = (err: Error) => giveUp(err);
    const onAbort = () => giveUp(signal!.reason);
    const onReady = () => {
      settle();
      conn.setNoDelay(true);
      resolve(conn);
    };
    conn.once('ready', onReady);
    conn.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    conn.connect(config);
  });
}

/** Start the `sftp` subsystem on a connected ssh2 Client; resolves with the raw channel. */
export function openSftpChannel(conn: ssh2.Client, subsystem = 'sftp'): Promise<ClientChannel> {
  conn.setNoDelay(true);
  return new Promise((resolve, reject) => {
    conn.subsys(subsystem, (err, channel) => {
      if (err) return reject(err);
      raiseReceiveWindow(conn, channel);
      resolve(channel);
    });
  });
}

/** The SFTP channel's receive window (ssh2's own is 2 MiB, refilled only once it falls to 1 MiB). */
export const SFTP_RECEIVE_WINDOW = 16 * 1024 * 1024;

/** The parts of ssh2's internals the tuning below relies on (checked at run time, never assumed). */
interface ChannelInternals {
  incoming?: { window?: number };
  outgoing?: { id?: number; state?: string };
}
interface ClientInternals {
  _protocol?: { channelWindowAdjust?: (id: number, amount: number) => void };
}

/**
 * Give the channel a larger receive window than ssh2's fixed 2 MiB, and keep it topped up as the
 * channel's data is consumed. ssh2 grants more window only once half of it is used, so a download
 * through it has 1-2 MiB on the way at most: at 20 ms round trip that caps it near 75 MiB/s, and at
 * zero round trip every pause of the event loop stalls the sender. Credit is returned for bytes the
 * channel has emitted ('data'), so a paused channel still stops the sender (backpressure is kept);
 * the server only sends what our READs asked for, which the session bounds. If ssh2's internals are
 * not shaped as expected, nothing is changed.
 */
export function raiseReceiveWindow(conn: ssh2.Client, channel: ClientChannel, size = SFTP_RECEIVE_WINDOW): void {
  const ch = channel as unknown as ChannelInternals;
  const proto = (conn as unknown as ClientInternals)._protocol;
  const incoming = ch.incoming;
  const outgoing = ch.outgoing;
  if (!incoming || typeof incoming.window !== 'number' || !outgoing || typeof outgoing.id !== 'number') return;
  if (typeof proto?.channelWindowAdjust !== 'function') return;
  const id = outgoing.id;
  const grant = (n: number) => {
    if (n <= 0 || (outgoing.state !== 'open' && outgoing.state !== 'eof')) return;
    incoming.window! += n;
    proto.channelWindowAdjust!(id, n);
  };
  // Top the window up in steps of a quarter: it stays above 3/4 of `size`, far above the 1 MiB at
  // which ssh2 would step in with its own (smaller) adjustment.
  const step = Math.max(1, Math.floor(size / 4));
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
    grant(size - incoming.window!);
    channel.on('data', onData);
  };
  channel.on('newListener', onNewListener);
}
