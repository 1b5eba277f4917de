import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';

/**
 * The client side's only contact with ssh2: open a connection, and open the `sftp` subsystem as a raw
 * channel (a Duplex of SFTP bytes). ssh2's own SFTP implementation is never used.
 */

/** Connect and authenticate; TCP no-delay is set on the socket (small SFTP requests must not wait for Nagle). */
export function connectSsh(config: ConnectConfig): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const conn = new ssh2.Client();
    const onError = (err: Error) => {
      conn.removeListener('ready', onReady);
      conn.end();
      reject(err);
    };
    const onReady = () => {
      conn.removeListener('error', onError);
      conn.setNoDelay(true);
      resolve(conn);
    };
    conn.once('ready', onReady);
    conn.once('error', onError);
    conn.connect(config);
  });
}

/** Start the `sftp` subsystem on a connected ssh2 Client; resolves with the raw channel. */
export function openSftpChannel(conn: ssh2.Client, subsystem = 'sftp'): Promise<ClientChannel> {
  conn.setNoDelay(true);
  return new Promise((resolve, reject) => {
    conn.subsys(subsystem, (err, channel) => (err ? reject(err) : resolve(channel)));
  });
}
