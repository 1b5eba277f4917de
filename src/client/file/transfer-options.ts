import { SftpError, StatusCode, type Attrs } from '../../protocol/index.js';
import type { TransferHost } from '../core/remote.js';

/** The options and results of one-file transfers, and how a transfer sizes its chunks and window. */

export interface TransferProgress {
  /** Bytes transferred so far (acknowledged by the server for uploads; received in order and handed to the local file for downloads). */
  bytes: number;
  /** The source's size, when known. */
  total?: number;
}

export interface TransferOptions {
  /**
   * Bytes per READ/WRITE. Asked: used as asked, within the server's limits when it gives them and the
   * packet sizes each side takes. Default: from the server's limits, at most 256 KiB; 32 KiB when unknown.
   */
  chunkSize?: number;
  /** Requests in flight (default: the client's `requests` option, 32). */
  requests?: number;
  signal?: AbortSignal;
  onProgress?(p: TransferProgress): void;
  /** Copy the permission bits and times of the source onto the destination. */
  preserve?: boolean;
  /** Flush the destination to disk before closing (uploads: fsync@openssh.com when advertised). */
  fsync?: boolean;
  /**
   * Write to a temporary name in the destination's directory and rename it into place only when whole
   * (see src/client/file/atomic/atomic-put.ts and atomic-get.ts). The destination never holds a partial file.
   */
  atomic?: boolean;
  /**
   * Continue an interrupted transfer from a partial kept under a name derived from the destination and
   * the source's identity; the bytes before the resume point are verified first. Implies writing to a
   * partial and renaming it into place.
   */
  resume?: boolean;
  /** Check the result before it is committed: 'size', 'tail' (last window read back) or 'hash' (whole file). */
  verify?: VerifyMode | false;
  /**
   * atomic: when the server has no posix-rename@openssh.com and RENAME fails because the destination
   * exists, REMOVE it and RENAME (not atomic: `result.replaced` says 'non-atomic'). Default false: fail.
   */
  allowNonAtomicReplace?: boolean;
  /** resume: bytes before the partial's end read back when no checkpoint is found (default max(1 MiB, chunk x requests)). */
  tailWindow?: number;
  /** resume: folder of upload checkpoints and orphan records (default os.tmpdir()/sftp-wire-resume). */
  stateDir?: string;
}

export type VerifyMode = 'size' | 'tail' | 'hash';

export interface TransferResult {
  /** Bytes transferred by this call. */
  bytes: number;
  /** Size of the destination after the transfer (start offset + bytes). */
  size: number;
  /** Bytes per READ/WRITE this transfer used. */
  chunkSize: number;
  requests: number;
  /** True when the destination was flushed (fsync asked and, for uploads, advertised by the server). */
  fsynced: boolean;
  /** True when mode and times were copied. */
  preserved: boolean;
  /** True when the destination appeared whole in one step (temporary file renamed into place). */
  atomic: boolean;
  /** How an existing destination was replaced: 'atomic' (posix-rename), 'non-atomic' (REMOVE+RENAME), false (nothing replaced or plain overwrite). */
  replaced: 'atomic' | 'non-atomic' | false;
  /** Offset this call continued from (0 unless resumed). */
  resumedFrom: number;
  /** The verification done before the commit, or false. */
  verified: VerifyMode | false;
}

export interface ResolvedTransfer {
  chunkSize: number;
  requests: number;
  signal?: AbortSignal;
}

export function unsupported(
  opts: TransferOptions,
  keys: ReadonlyArray<'atomic' | 'resume' | 'verify'> = ['atomic', 'resume', 'verify'],
): void {
  for (const k of keys) {
    if (opts[k]) {
      throw new SftpError({
        status: StatusCode.OP_UNSUPPORTED,
        code: 'ERR_NOT_SUPPORTED',
        message: `the ${k} option is not supported yet`,
        op: 'transfer',
      });
    }
  }
}

export function resolveDownload(client: TransferHost, opts: TransferOptions): ResolvedTransfer {
  return {
    chunkSize: chunkSizeFor(client, 'read', opts.chunkSize),
    requests: opts.requests ?? client.defaultRequests,
    signal: opts.signal,
  };
}
export function resolveUpload(client: TransferHost, opts: TransferOptions): ResolvedTransfer {
  return {
    chunkSize: chunkSizeFor(client, 'write', opts.chunkSize),
    requests: opts.requests ?? client.defaultRequests,
    signal: opts.signal,
  };
}

/** Bytes of a DATA reply that are not data: type, id, the data's length. */
const DATA_HEADER = 1 + 4 + 4;
/** Bytes of a WRITE that are not data, with the longest handle the protocol allows (256). */
const WRITE_HEADER = 1 + 4 + 4 + 256 + 8 + 4;

/**
 * The chunk size of one transfer. Asked for (per transfer, else per client): that size, within what
 * the server's limits@openssh.com says when it says, and within the packets each side takes (our
 * framer's maximum for a DATA reply; the server's maximum packet for a WRITE). Not asked: the
 * conservative default of the client (the server's limits, at most 256 KiB; 32 KiB when unknown).
 */
export function chunkSizeFor(client: TransferHost, dir: 'read' | 'write', asked = client.options.chunkSize): number {
  let size = asked ?? (dir === 'read' ? client.readChunkSize : client.writeChunkSize);
  if (client.limitsFromServer) {
    const max = dir === 'read' ? client.limits.maxReadLength : client.limits.maxWriteLength;
    if (max > 0) size = Math.min(size, max);
  }
  if (dir === 'read') size = Math.min(size, client.session.maxIncomingPacket - DATA_HEADER);
  else if (Number.isFinite(client.session.maxOutgoingPacket))
    size = Math.min(size, client.session.maxOutgoingPacket - WRITE_HEADER);
  return Math.max(1, Math.floor(size));
}

/** Mode bits and times to set on a destination from the source's attributes. */
export function preservedAttrs(a: Attrs): Attrs {
  const out: Attrs = {};
  if (a.permissions !== undefined) out.permissions = a.permissions & 0o7777;
  if (a.atime !== undefined && a.mtime !== undefined) {
    out.atime = a.atime;
    out.mtime = a.mtime;
  }
  return out;
}

/** The result fields of a transfer without atomic, resume or verify. */
export const PLAIN = { atomic: false, replaced: false, resumedFrom: 0, verified: false } as const;
