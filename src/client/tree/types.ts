/** Options, results and errors of the tree operations (putTree, getTree, rmtree). */

/** What a tree operation does with a symbolic link it meets inside the tree. */
export type SymlinkMode = 'copy' | 'follow' | 'skip';

export interface TreeProgress {
  /** Files (and copied links) finished so far. */
  files: number;
  /** File bytes transferred so far (acknowledged WRITEs for uploads, bytes written locally for downloads). */
  bytes: number;
  /** Files in the whole tree: known once the walk of the source has ended. */
  totalFiles?: number;
  /** Bytes in the whole tree: known once the walk of the source has ended. */
  totalBytes?: number;
}

export interface TreeOptions {
  /** Requests in flight at most over the whole tree: OPENs, WRITEs/READs, CLOSEs... (default 256). */
  requests?: number;
  /** WRITE/READ bytes in flight at most over the whole tree (default 16 MiB; one request always goes). */
  bytes?: number;
  /**
   * Remote handles open at once, files and directory listings together (default: the server's
   * limits@openssh.com max-open-handles, at most 128; 64 when the server does not say).
   */
  maxOpenFiles?: number;
  /**
   * Remote directories listed at once (getTree, rmtree; default and most: half of maxOpenFiles, and a
   * quarter of `requests`). A directory's listing starts as soon as its name arrives while under this.
   */
  listers?: number;
  /** Bytes per READ/WRITE (default: the client's chunk size from the server's limits). */
  chunkSize?: number;
  /** Stops the operation: nothing new is sent, every open handle is closed, then it rejects with an AbortError. */
  signal?: AbortSignal;
  onProgress?(p: TreeProgress): void;
  /** Stop at the first failing entry (reject with a TreeError) instead of collecting errors and going on. */
  stopOnError?: boolean;
  /** Copy permission bits and access/modification times of files and directories. */
  preserve?: boolean;
  /** Flush every file before closing it (uploads: fsync@openssh.com when the server advertises it). */
  fsync?: boolean;
  /** Symbolic links inside the tree: 'copy' (default) recreates them as links, 'follow' copies what they point at, 'skip' leaves them out. */
  symlinks?: SymlinkMode;
  /** Every file through a temporary name, renamed when complete (needs the client's atomic support). */
  atomic?: boolean;
  /** Continue interrupted files (needs the client's resume support). */
  resume?: boolean;
}

export interface RmtreeOptions {
  requests?: number;
  maxOpenFiles?: number;
  listers?: number;
  signal?: AbortSignal;
  onProgress?(p: TreeProgress): void;
  stopOnError?: boolean;
}

export interface TreeEntryError {
  /** The entry's path relative to the top of the tree ('' for the top itself), '/'-separated. */
  path: string;
  error: unknown;
}

export interface TreeResult {
  /** Regular files transferred (or removed). */
  files: number;
  /** File bytes transferred. */
  bytes: number;
  /** Directories created (or removed), the top one included. */
  directories: number;
  /** Symbolic links recreated (or removed). */
  symlinks: number;
  /** Entries left out on purpose: links with symlinks: 'skip', sockets, FIFOs, devices. */
  skipped: number;
  /** Entries that failed, with their paths. Their directories' contents may be missing too. */
  errors: TreeEntryError[];
}

/**
 * A tree operation that did not complete: with `stopOnError` the first failure, for rmtree any failure,
 * or a lost session. `errors` lists what failed, `result` what was done.
 */
export class TreeError extends Error {
  override readonly name = 'TreeError';
  readonly code = 'ERR_SFTP_TREE';
  constructor(
    message: string,
    readonly errors: TreeEntryError[],
    readonly result: TreeResult,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function emptyTreeResult(): TreeResult {
  return { files: 0, bytes: 0, directories: 0, symlinks: 0, skipped: 0, errors: [] };
}
