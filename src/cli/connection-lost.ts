/**
 * The CLI's one line for a command cut short by the loss of its connection (the server went away, a
 * reset): `sftp-wire: connection to HOST:PORT lost (ECONNRESET) during get of PATH`.
 */
import { SftpError } from '../protocol/index.js';

/**
 * The SftpError ECONNRESET behind `err` (itself, or one of its `cause`s: a call refused because the
 * session had already been lost carries the loss as its cause), or undefined.
 */
export function connectionLoss(err: unknown): SftpError | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = (e as Error).cause, depth++) {
    if (e instanceof SftpError && e.code === 'ECONNRESET') return e;
  }
  return undefined;
}

/** "host:port", with an IPv6 host in brackets. */
export function hostPort(target: { host: string; port: number }): string {
  return `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
}

/**
 * The line to print (without its newline) when `err` is the loss of the connection to `target`
 * `during` something ("get of /srv/a.bin", "connecting"); undefined for any other error.
 */
export function connectionLostLine(
  target: { host: string; port: number },
  err: unknown,
  during: string,
): string | undefined {
  const loss = connectionLoss(err);
  return loss ? `sftp-wire: connection to ${hostPort(target)} lost (${loss.code}) ${during}` : undefined;
}
