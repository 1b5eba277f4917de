import { DEFAULT_MAX_PACKET } from '../protocol/constants.js';
import type { FileSystem } from './fs/file-system.js';

export type AtomicUploadMode = 'off' | 'atomic' | 'atomic-resume';
export type SymlinkOrder = 'auto' | 'openssh' | 'draft';

/**
 * The server's limits. The first four carry the names of the client's `limits` (the fields of
 * limits@openssh.com, which the server advertises from them); the older names `maxPacket`, `maxRead`,
 * `maxWrite` and `maxHandles` are still accepted for them.
 */
export interface ServerLimits {
  /** Largest packet accepted (default 256 KiB + 1024); longer ones are answered with BAD_MESSAGE. */
  maxPacketLength?: number;
  /** Largest READ answered (longer READs return fewer bytes). Default 261120, OpenSSH's figure. */
  maxReadLength?: number;
  /** Largest WRITE payload advertised in limits@openssh.com. Default 261120. */
  maxWriteLength?: number;
  /** Open file and directory handles per session (default 1024). */
  maxOpenHandles?: number;
  /**
   * Open file and directory handles across every session of this server (default 4096), so that one
   * client cannot take every descriptor of the process. OPEN/OPENDIR past it fail with "EMFILE".
   */
  maxServerHandles?: number;
  /** Requests received and not yet answered, per session, before the server stops reading (default 64). */
  maxInFlight?: number;
  /**
   * Replies queued and not yet sent, per session and per SSH connection, before the server stops
   * taking requests (default 16 MiB). Each queued write counts at least REPLY_OVERHEAD bytes (what
   * the process spends on it, whatever its size), and each READ running counts the bytes it may return.
   */
  maxOutputBuffer?: number;
  /** @deprecated the same as maxPacketLength */
  maxPacket?: number;
  /** @deprecated the same as maxReadLength */
  maxRead?: number;
  /** @deprecated the same as maxWriteLength */
  maxWrite?: number;
  /** @deprecated the same as maxOpenHandles */
  maxHandles?: number;
}

export interface SftpServerOptions {
  /** The storage to serve; default a LocalFs on `root`. */
  fs?: FileSystem;
  /** Root directory for the default LocalFs (default: the current directory). */
  root?: string;
  /**
   * For the LocalFs made from `root` (and from a session's own root): how long one file system call
   * may take before the next ones go to the thread pool; 0 sends every call there (default 2 ms; see
   * LocalFs). Not with `fs`: give your LocalFs its own.
   */
  syncBudgetMs?: number;
  /**
   * Where relative paths and REALPATH(".") start, as a path inside the served tree (OpenSSH's
   * sftp-server -d). Default: the process's working directory when the whole file system is served
   * (a LocalFs on root "/"), else "/" (the top of the served tree).
   */
  startDir?: string;
  /**
   * Order of SYMLINK's two paths as read from clients: 'openssh' (target first, what OpenSSH's sftp
   * and most clients send), 'draft' (the draft's: link path first), or 'auto' (default): from the
   * client's SSH identification when the transport knows it (see symlinkOrderForClient), else 'openssh'.
   */
  symlinkOrder?: SymlinkOrder;
  atomicUploads?: AtomicUploadMode;
  readOnly?: boolean;
  limits?: ServerLimits;
  /** Kept partial uploads (atomic-resume) older than this are discarded (default 24 hours). */
  partialMaxAgeMs?: number;
  /** Diagnostics (internal errors); default: none. Never receives file data. */
  log?: (message: string) => void;
}

export interface ResolvedLimits {
  maxPacket: number;
  maxRead: number;
  maxWrite: number;
  maxHandles: number;
  maxServerHandles: number;
  maxInFlight: number;
  maxOutputBuffer: number;
}

/** Handles open at once across all sessions of one server by default. */
export const DEFAULT_MAX_SERVER_HANDLES = 4096;

const OPENSSH_MAX_RW = 256 * 1024 - 1024;

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`limits.${name} must be a positive integer, got ${v}`);
  return v;
}

/** A limit given under its name or its older one (both, if they differ, is an error). */
function either(l: ServerLimits, name: keyof ServerLimits, old: keyof ServerLimits): number | undefined {
  const a = l[name];
  const b = l[old];
  if (a !== undefined && b !== undefined && a !== b)
    throw new RangeError(`limits.${name} and limits.${old} (its older name) disagree: ${a} and ${b}`);
  return a ?? b;
}

export function resolveLimits(l: ServerLimits = {}): ResolvedLimits {
  const maxPacket = positive('maxPacketLength', either(l, 'maxPacketLength', 'maxPacket'), DEFAULT_MAX_PACKET);
  if (maxPacket < 1024) throw new RangeError('limits.maxPacketLength must be at least 1024');
  const room = maxPacket - 512;
  return {
    maxPacket,
    maxRead: Math.min(positive('maxReadLength', either(l, 'maxReadLength', 'maxRead'), OPENSSH_MAX_RW), room),
    maxWrite: Math.min(positive('maxWriteLength', either(l, 'maxWriteLength', 'maxWrite'), OPENSSH_MAX_RW), room),
    maxHandles: positive('maxOpenHandles', either(l, 'maxOpenHandles', 'maxHandles'), 1024),
    maxServerHandles: positive('maxServerHandles', l.maxServerHandles, DEFAULT_MAX_SERVER_HANDLES),
    maxInFlight: positive('maxInFlight', l.maxInFlight, 64),
    maxOutputBuffer: positive('maxOutputBuffer', l.maxOutputBuffer, 16 * 1024 * 1024),
  };
}
