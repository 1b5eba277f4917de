import { LaterStatusCode, StatusCode, packetTypeName } from './constants.js';

/**
 * A violation of the wire format: a truncated packet, a length that points past the end, trailing
 * bytes, an unknown type, an absurd count. Never a raw RangeError.
 */
export class SftpProtocolError extends Error {
  override readonly name: string = 'SftpProtocolError';
  readonly code: string = 'ERR_SFTP_PROTOCOL';
  constructor(
    message: string,
    /** Byte offset within the packet payload where decoding failed, when known. */
    readonly offset?: number,
    /** Packet type number being decoded, when known. */
    readonly packetType?: number,
  ) {
    super(
      message +
        (packetType !== undefined ? ` (in ${packetTypeName(packetType)})` : '') +
        (offset !== undefined ? ` at byte ${offset}` : ''),
    );
  }
}

/**
 * A well-framed reply to a known request, of a type that request cannot get (DATA to a WRITE, HANDLE
 * to a STAT). Only that request fails with it; the session carries on.
 */
export class SftpBadReplyError extends SftpProtocolError {
  override readonly code: string = 'ERR_SFTP_BAD_REPLY';
  constructor(
    /** The request that got the reply ("WRITE"). */
    readonly request: string,
    /** The reply types it may get ("STATUS", ...). */
    readonly expected: readonly string[],
    /** The reply type it got ("DATA"). */
    readonly received: string,
    readonly id: number,
  ) {
    super(`${received} is not a valid reply to ${request} (id ${id}; expected ${expected.join(' or ')})`);
  }
}

const statusNames = new Map<number, string>(
  [...Object.entries(StatusCode), ...Object.entries(LaterStatusCode)].map(([k, v]) => [v, k]),
);
export function statusName(status: number): string {
  return statusNames.get(status) ?? `STATUS_${status}`;
}

/** Node-style error code for a status, where one fits. */
const statusToCode: Record<number, string> = {
  [StatusCode.EOF]: 'EOF',
  [StatusCode.NO_SUCH_FILE]: 'ENOENT',
  [StatusCode.PERMISSION_DENIED]: 'EACCES',
  [StatusCode.FAILURE]: 'EIO',
  [StatusCode.BAD_MESSAGE]: 'EBADMSG',
  [StatusCode.NO_CONNECTION]: 'ENOTCONN',
  [StatusCode.CONNECTION_LOST]: 'ECONNRESET',
  [StatusCode.OP_UNSUPPORTED]: 'ENOSYS',
  // the later drafts' codes, as Node's fs would name the same failure
  [LaterStatusCode.INVALID_HANDLE]: 'EBADF',
  [LaterStatusCode.NO_SUCH_PATH]: 'ENOENT',
  [LaterStatusCode.FILE_ALREADY_EXISTS]: 'EEXIST',
  [LaterStatusCode.WRITE_PROTECT]: 'EROFS',
  [LaterStatusCode.NO_MEDIA]: 'ENODEV',
  [LaterStatusCode.NO_SPACE_ON_FILESYSTEM]: 'ENOSPC',
  [LaterStatusCode.QUOTA_EXCEEDED]: 'EDQUOT',
  [LaterStatusCode.UNKNOWN_PRINCIPAL]: 'EINVAL',
  [LaterStatusCode.LOCK_CONFLICT]: 'EBUSY',
  [LaterStatusCode.DIR_NOT_EMPTY]: 'ENOTEMPTY',
  [LaterStatusCode.NOT_A_DIRECTORY]: 'ENOTDIR',
  [LaterStatusCode.INVALID_FILENAME]: 'EINVAL',
  [LaterStatusCode.LINK_LOOP]: 'ELOOP',
  [LaterStatusCode.CANNOT_DELETE]: 'EPERM',
  [LaterStatusCode.INVALID_PARAMETER]: 'EINVAL',
  [LaterStatusCode.FILE_IS_A_DIRECTORY]: 'EISDIR',
  [LaterStatusCode.BYTE_RANGE_LOCK_CONFLICT]: 'EAGAIN',
  [LaterStatusCode.BYTE_RANGE_LOCK_REFUSED]: 'ENOLCK',
  [LaterStatusCode.DELETE_PENDING]: 'EBUSY',
  [LaterStatusCode.FILE_CORRUPT]: 'EIO',
  [LaterStatusCode.OWNER_INVALID]: 'EINVAL',
  [LaterStatusCode.GROUP_INVALID]: 'EINVAL',
  [LaterStatusCode.NO_MATCHING_BYTE_RANGE_LOCK]: 'ENOLCK',
};

/** The Node-style code each STATUS maps to (v3 and the later drafts), for docs and tests. */
export const STATUS_CODES: Readonly<Record<number, string>> = Object.freeze({ ...statusToCode });

/** Errno names a server may put at the start of a FAILURE message ("EEXIST: ...") to be more precise. */
const KNOWN_ERRNOS = new Set([
  'EEXIST',
  'ENOTEMPTY',
  'EISDIR',
  'ENOTDIR',
  'ENOSPC',
  'EDQUOT',
  'EXDEV',
  'ELOOP',
  'EROFS',
  'ENAMETOOLONG',
  'EINVAL',
  'EBUSY',
  'EMFILE',
  'EFBIG',
  'ETXTBSY',
  'EMLINK',
  'EPERM',
]);

export interface SftpErrorInit {
  status: number;
  message?: string;
  path?: string;
  op?: string;
  code?: string;
  cause?: unknown;
}

/**
 * An SFTP request that failed: the STATUS code from the wire (`status`), a Node-style `code`
 * (ENOENT, EACCES, EEXIST, ... where one fits), the `path` and the `op` that failed.
 */
export class SftpError extends Error {
  override readonly name = 'SftpError';
  readonly status: number;
  readonly code: string;
  readonly path?: string;
  readonly op?: string;
  /** The message the server sent, unchanged. */
  readonly serverMessage: string;
  constructor(init: SftpErrorInit) {
    const serverMessage = init.message ?? '';
    const code = init.code ?? codeForStatus(init.status, serverMessage);
    const what = [init.op, init.path !== undefined ? JSON.stringify(init.path) : undefined].filter(Boolean).join(' ');
    super(
      `${withCode(code, serverMessage || statusName(init.status))}${what ? ` (${what})` : ''}`,
      init.cause !== undefined ? { cause: init.cause } : undefined,
    );
    this.status = init.status;
    this.code = code;
    this.path = init.path;
    this.op = init.op;
    this.serverMessage = serverMessage;
  }
}

/** `text` led by `code` once: "ENOENT: no such file", never "ENOENT: ENOENT: no such file". */
function withCode(code: string, text: string): string {
  return text === code || text.startsWith(`${code}:`) ? text : `${code}: ${text}`;
}

/**
 * The Node-style code for a status. A message that starts with an errno name takes that errno when it
 * fits the status: any known errno for a FAILURE or PERMISSION_DENIED, and one the server maps to this
 * very status otherwise (NO_SUCH_FILE with "ENOTDIR: not a directory" is ENOTDIR, not ENOENT).
 */
export function codeForStatus(status: number, message = ''): string {
  const m = /^(E[A-Z]+)\b/.exec(message);
  if (m) {
    const errno = m[1]!;
    if ((status === StatusCode.FAILURE || status === StatusCode.PERMISSION_DENIED) && KNOWN_ERRNOS.has(errno))
      return errno;
    if (statusToCode[status] !== undefined && statusForErrno(errno) === status && status !== StatusCode.FAILURE)
      return errno;
  }
  return statusToCode[status] ?? 'ESFTP';
}

/** The STATUS code a server sends for a Node/libc errno name (after OpenSSH's mapping, refined). */
export function statusForErrno(code: string | undefined): number {
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'EBADF':
    case 'ELOOP':
      return StatusCode.NO_SUCH_FILE;
    case 'EPERM':
    case 'EACCES':
    case 'EFAULT':
    case 'EROFS':
      return StatusCode.PERMISSION_DENIED;
    case 'ENAMETOOLONG':
    case 'EINVAL':
      return StatusCode.BAD_MESSAGE;
    case 'ENOSYS':
    case 'ENOTSUP':
    case 'EOPNOTSUPP':
      return StatusCode.OP_UNSUPPORTED;
    default:
      return StatusCode.FAILURE;
  }
}
