import type ssh2 from 'ssh2';
import type { ConnectConfig } from 'ssh2';
import { ssh2Lib } from './ssh2-lib.js';

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
export function connectSsh(
  config: ConnectConfig,
  signal?: AbortSignal,
  prepare?: (conn: ssh2.Client) => void,
): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const conn = new (ssh2Lib().Client)();
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

export {
  openSftpChannel,
  raiseReceiveWindow,
  SFTP_RECEIVE_WINDOW,
  serverSoftware,
  type SshConnection,
  type SshConnectConfig,
} from './ssh-channel.js';
/** The types of ssh2's authentication hooks, for callers that log in their own way (the CLI). */
export type { AuthenticationType, AuthHandlerMiddleware, NextAuthHandler, ParsedKey, Prompt } from 'ssh2';
