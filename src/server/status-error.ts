import { StatusCode } from '../protocol/constants.js';
import { statusForErrno } from '../protocol/errors.js';
import { describeErrno, errnoOf, FsError } from './fs/fs-error.js';

/** A handler's deliberate answer: this STATUS code and message. */
export class StatusError extends Error {
  override readonly name = 'StatusError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const badHandle = (): StatusError => new StatusError(StatusCode.FAILURE, 'EBADF: invalid handle');
export const readOnlyError = (): StatusError =>
  new StatusError(StatusCode.PERMISSION_DENIED, 'EROFS: the server is read-only');

/**
 * The STATUS for an error thrown while serving a request. Messages start with the errno name
 * ("EEXIST: file exists") so a client can map a FAILURE precisely; real paths never appear.
 */
export function statusFor(err: unknown): { code: number; message: string; internal: boolean } {
  if (err instanceof StatusError) return { code: err.status, message: err.message, internal: false };
  const errno = errnoOf(err);
  if (errno && /^E[A-Z0-9]+$/.test(errno)) {
    const message = err instanceof FsError ? err.message : `${errno}: ${describeErrno(errno)}`;
    return { code: statusForErrno(errno), message, internal: false };
  }
  if (errno === 'ERR_INVALID_ARG_VALUE' || errno === 'ERR_OUT_OF_RANGE' || errno === 'ERR_INVALID_ARG_TYPE') {
    return { code: StatusCode.BAD_MESSAGE, message: 'EINVAL: invalid argument', internal: false };
  }
  return { code: StatusCode.FAILURE, message: 'EIO: internal server error', internal: true };
}
