/** SFTP version 3 wire constants (draft-ietf-secsh-filexfer-02) and OpenSSH's additions. */

export const SFTP_VERSION = 3;

/** Packet type numbers. Requests and replies share one number space, so one decoder serves both ends. */
export const PacketType = {
  INIT: 1,
  VERSION: 2,
  OPEN: 3,
  CLOSE: 4,
  READ: 5,
  WRITE: 6,
  LSTAT: 7,
  FSTAT: 8,
  SETSTAT: 9,
  FSETSTAT: 10,
  OPENDIR: 11,
  READDIR: 12,
  REMOVE: 13,
  MKDIR: 14,
  RMDIR: 15,
  REALPATH: 16,
  STAT: 17,
  RENAME: 18,
  READLINK: 19,
  SYMLINK: 20,
  STATUS: 101,
  HANDLE: 102,
  DATA: 103,
  NAME: 104,
  ATTRS: 105,
  EXTENDED: 200,
  EXTENDED_REPLY: 201,
} as const;
export type PacketTypeNumber = (typeof PacketType)[keyof typeof PacketType];

const typeNames = new Map<number, string>(Object.entries(PacketType).map(([k, v]) => [v, k]));
/** A readable name for a packet type number, for errors and logs. */
export function packetTypeName(type: number): string {
  return typeNames.get(type) ?? `UNKNOWN(${type})`;
}

/** OPEN pflags. */
export const OpenFlags = {
  READ: 0x01,
  WRITE: 0x02,
  APPEND: 0x04,
  CREAT: 0x08,
  TRUNC: 0x10,
  EXCL: 0x20,
} as const;

/** ATTRS flag bits. */
export const AttrFlags = {
  SIZE: 0x00000001,
  UIDGID: 0x00000002,
  PERMISSIONS: 0x00000004,
  ACMODTIME: 0x00000008,
  EXTENDED: 0x80000000,
} as const;

/** STATUS codes of version 3. */
export const StatusCode = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const;
export type StatusCodeNumber = (typeof StatusCode)[keyof typeof StatusCode];

/**
 * STATUS codes of the later drafts (versions 4 to 6), which some servers send to version 3 clients
 * anyway (ProFTPD answers FILE_ALREADY_EXISTS). Never sent by this package's server.
 */
export const LaterStatusCode = {
  INVALID_HANDLE: 9,
  NO_SUCH_PATH: 10,
  FILE_ALREADY_EXISTS: 11,
  WRITE_PROTECT: 12,
  NO_MEDIA: 13,
  NO_SPACE_ON_FILESYSTEM: 14,
  QUOTA_EXCEEDED: 15,
  UNKNOWN_PRINCIPAL: 16,
  LOCK_CONFLICT: 17,
  DIR_NOT_EMPTY: 18,
  NOT_A_DIRECTORY: 19,
  INVALID_FILENAME: 20,
  LINK_LOOP: 21,
  CANNOT_DELETE: 22,
  INVALID_PARAMETER: 23,
  FILE_IS_A_DIRECTORY: 24,
  BYTE_RANGE_LOCK_CONFLICT: 25,
  BYTE_RANGE_LOCK_REFUSED: 26,
  DELETE_PENDING: 27,
  FILE_CORRUPT: 28,
  OWNER_INVALID: 29,
  GROUP_INVALID: 30,
  NO_MATCHING_BYTE_RANGE_LOCK: 31,
} as const;

/** File type bits of the permissions field (POSIX st_mode). */
export const FileType = {
  MASK: 0o170000,
  SOCKET: 0o140000,
  SYMLINK: 0o120000,
  REGULAR: 0o100000,
  BLOCK: 0o060000,
  DIRECTORY: 0o040000,
  CHAR: 0o020000,
  FIFO: 0o010000,
} as const;

/** Size of the length prefix of every packet. */
export const LENGTH_PREFIX = 4;
/** Largest payload OpenSSH's sftp-server accepts in one WRITE (and our default chunk cap). */
export const DEFAULT_MAX_DATA = 256 * 1024;
/** Default largest packet we accept: 256 KiB of data plus room for the header of a WRITE. */
export const DEFAULT_MAX_PACKET = DEFAULT_MAX_DATA + 1024;
