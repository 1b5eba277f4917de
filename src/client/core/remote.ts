import type { Attrs, CheckFileReply, Limits, NameEntry } from '../../protocol/index.js';
import type { OpenMode } from './flags.js';
import type { RequestOptions } from './session.js';

/**
 * What the layers above the core (file transfers, atomic and resumable transfers, trees) need of a
 * client: one method per request, the server's limits and the transfer defaults. SftpClient is one;
 * nothing above the core imports SftpClient itself, so the facade can import them all without a loop.
 */

/** One entry of a directory listing (a NAME entry). */
export type DirEntry = NameEntry;

/** The reply of a generic EXTENDED request. */
export type ExtendedReply =
  { type: 'status' } | { type: 'data'; data: Buffer } | { type: 'name'; entries: NameEntry[] };

export interface CheckFileOptions extends RequestOptions {
  /** Hash names in order of preference (default ['sha256', 'sha1', 'md5']). */
  algorithms?: string[];
  startOffset?: number;
  /** 0 (default): to the end of the file. */
  length?: number;
  /** 0 (default): one hash over the range; otherwise at least 256. */
  blockSize?: number;
}

/** The requests of SFTP version 3 and the extensions the upper layers use. */
export interface RemoteFs {
  open(path: string, flags?: OpenMode, attrs?: Attrs, opts?: RequestOptions): Promise<Buffer>;
  close(handle: Buffer, opts?: RequestOptions): Promise<void>;
  read(handle: Buffer, offset: number, length: number, opts?: RequestOptions): Promise<Buffer>;
  /** `read` with the bytes as the pieces they arrived in (an empty list at end of file); optional. */
  readPieces?(handle: Buffer, offset: number, length: number, opts?: RequestOptions): Promise<Buffer[]>;
  write(handle: Buffer, offset: number, data: Buffer, opts?: RequestOptions): Promise<void>;
  fstat(handle: Buffer, opts?: RequestOptions): Promise<Attrs>;
  fsetstat(handle: Buffer, attrs: Attrs, opts?: RequestOptions): Promise<void>;
  stat(path: string, opts?: RequestOptions): Promise<Attrs>;
  lstat(path: string, opts?: RequestOptions): Promise<Attrs>;
  setstat(path: string, attrs: Attrs, opts?: RequestOptions): Promise<void>;
  opendir(path: string, opts?: RequestOptions): Promise<Buffer>;
  readdir(handle: Buffer, opts?: RequestOptions): Promise<DirEntry[] | null>;
  /** Entries of a directory as READDIR replies arrive (see file/scandir.ts). */
  scandir(path: string, opts?: RequestOptions & { readAhead?: number }): AsyncIterable<DirEntry>;
  remove(path: string, opts?: RequestOptions): Promise<void>;
  mkdir(path: string, attrs?: Attrs, opts?: RequestOptions): Promise<void>;
  rmdir(path: string, opts?: RequestOptions): Promise<void>;
  realpath(path: string, opts?: RequestOptions): Promise<string>;
  rename(oldPath: string, newPath: string, opts?: RequestOptions): Promise<void>;
  readlink(path: string, opts?: RequestOptions): Promise<string>;
  symlink(target: string, linkPath: string, opts?: RequestOptions): Promise<void>;
  extended(name: string, data?: Buffer, opts?: RequestOptions): Promise<ExtendedReply>;
  /** True when the server advertised the extension (by key, e.g. 'posixRename', or by wire name). */
  supports(ext: string): boolean;
  posixRename(oldPath: string, newPath: string, opts?: RequestOptions): Promise<void>;
  fsync(handle: Buffer, opts?: RequestOptions): Promise<void>;
  checkFile(target: string | Buffer, opts?: CheckFileOptions): Promise<CheckFileReply>;
}

/** What a transfer asks of a client to size itself: the server's limits and the client's defaults. */
export interface TransferHost extends RemoteFs {
  readonly options: { readonly chunkSize?: number; readonly requests?: number; readonly abortGraceMs?: number };
  readonly limits: Limits;
  readonly limitsFromServer: boolean;
  readonly session: { readonly maxIncomingPacket: number; readonly maxOutgoingPacket: number };
  readonly readChunkSize: number;
  readonly writeChunkSize: number;
  readonly defaultRequests: number;
}
