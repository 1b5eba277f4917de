import { SftpError, StatusCode } from '../../protocol/index.js';

/** The error an aborted request or transfer rejects with (like Node's own AbortError). */
export class AbortError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'ABORT_ERR';
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function abortError(signal: AbortSignal | undefined): AbortError {
  return new AbortError(
    'The operation was aborted',
    signal?.reason !== undefined ? { cause: signal.reason } : undefined,
  );
}

/** The channel closed (or failed) while the request was pending. */
export function connectionLostError(op: string | undefined, why = 'the channel closed', cause?: unknown): SftpError {
  return new SftpError({
    status: StatusCode.CONNECTION_LOST,
    code: 'ECONNRESET',
    message: `SFTP session lost: ${why}`,
    op,
    cause,
  });
}

/** The session was ended (or failed earlier) before the request could be sent. */
export function sessionClosedError(op: string | undefined, cause?: unknown): SftpError {
  return new SftpError({
    status: StatusCode.NO_CONNECTION,
    code: 'ERR_SFTP_CLOSED',
    message: 'SFTP session is closed',
    op,
    cause,
  });
}

/** An extension the server did not advertise. */
export function notSupportedError(extension: string, op: string, path?: string): SftpError {
  return new SftpError({
    status: StatusCode.OP_UNSUPPORTED,
    code: 'ENOSYS',
    message: `the server does not advertise ${extension}`,
    op,
    path,
  });
}

/**
 * The source of a transfer changed size while it was being copied: it ended before the size seen at
 * the start (`actual < expected`) or had bytes past it (`actual > expected`, a lower bound).
 */
export class SourceChangedError extends Error {
  override readonly name = 'SourceChangedError';
  readonly code = 'ERR_SFTP_SOURCE_CHANGED';
  constructor(
    readonly path: string | undefined,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(
      `source ${path !== undefined ? JSON.stringify(path) + ' ' : ''}${actual < expected ? 'shrank' : 'grew'} during the transfer: ` +
        `expected ${expected} bytes, ${actual < expected ? 'ended at' : 'has at least'} ${actual}`,
    );
  }
}
