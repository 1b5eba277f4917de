/**
 * The storage the server serves. Every path is a normalised virtual path ("/" is the root of the
 * served tree; see vpath.ts). Errors are thrown as objects with a Node-style errno `code`
 * (FsError, or Node's own fs errors); the server turns them into STATUS replies.
 * Implement this to serve another storage; LocalFs and MemoryFs are the two built in. The optional
 * methods are capabilities: the server advertises (and answers) the extensions that need one only
 * when the FileSystem has it.
 */
export interface FileStats {
  /** st_mode: type bits and permission bits. */
  mode: number;
  size: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  atime: number;
  mtime: number;
  nlink: number;
  /** Device and inode, when the storage has them: two names (or handles) of one file have the same pair. */
  dev?: number;
  ino?: number;
}

/** The attributes SETSTAT may change; undefined fields stay as they are. */
export interface SetStats {
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  atime?: number;
  mtime?: number;
}

export interface OpenOptions {
  read: boolean;
  write: boolean;
  /** Writes go to the end of the file whatever their offset. */
  append: boolean;
  create: boolean;
  truncate: boolean;
  /** With create: fail with EEXIST when the name exists (a symlink counts and is not followed). */
  exclusive: boolean;
  /** Permission bits of a file created by this open. */
  mode?: number;
}

export interface FsFile {
  /** Up to `length` bytes at `position`; fewer at the end of the file, none past it. */
  read(position: number, length: number): Promise<Buffer>;
  write(position: number, data: Buffer): Promise<void>;
  /**
   * Optional vectored write: the buffers one after another from `position`, all of them or an error
   * (a cut leaves a prefix of them written). The server merges a handle's queued contiguous WRITEs
   * into one call; without it they are written one by one.
   */
  writev?(position: number, buffers: readonly Buffer[]): Promise<void>;
  /**
   * Optional vectored read: fill the buffers one after another from `position`; returns the bytes
   * read, fewer than their total only at the end of the file.
   */
  readv?(position: number, buffers: readonly Buffer[]): Promise<number>;
  stat(): Promise<FileStats>;
  setstat(attrs: SetStats): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface FsDirEntry {
  name: string;
  /** lstat of the entry, when it could be read. */
  stats?: FileStats;
}

export interface FsDir {
  /** The next few entries, or null at the end. "." and ".." are not included. */
  read(max: number): Promise<FsDirEntry[] | null>;
  close(): Promise<void>;
}

export interface FsStatVfs {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail: number;
  fsid: number;
  namemax: number;
  readOnly: boolean;
}

export interface FileSystem {
  open(path: string, opts: OpenOptions): Promise<FsFile>;
  opendir(path: string): Promise<FsDir>;
  /** Follows symlinks. */
  stat(path: string): Promise<FileStats>;
  /** Does not follow a final symlink. */
  lstat(path: string): Promise<FileStats>;
  setstat(path: string, attrs: SetStats, opts: { follow: boolean }): Promise<void>;
  mkdir(path: string, mode?: number): Promise<void>;
  rmdir(path: string): Promise<void>;
  /** Remove a file or symlink (not a directory). */
  remove(path: string): Promise<void>;
  /** With overwrite false an existing target is EEXIST (SFTP v3 RENAME); true replaces it (posix-rename). */
  rename(oldPath: string, newPath: string, opts: { overwrite: boolean }): Promise<void>;
  /** Optional: without it the server does not offer hardlink@openssh.com. */
  link?(existingPath: string, newPath: string): Promise<void>;
  /** Create `linkPath` pointing at `target`, stored as given. */
  symlink(target: string, linkPath: string): Promise<void>;
  readlink(path: string): Promise<string>;
  /** The canonical virtual path: symlinks resolved, the last component may not exist. */
  realpath(path: string): Promise<string>;
  /** Optional: without it the server does not offer statvfs@openssh.com and fstatvfs@openssh.com. */
  statvfs?(path: string): Promise<FsStatVfs>;
  /**
   * Names for ls -l longnames and users-groups-by-id; undefined when unknown. Optional: without
   * either the server does not offer users-groups-by-id@openssh.com.
   */
  userName?(uid: number): string | undefined;
  groupName?(gid: number): string | undefined;
}

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

export const isDirMode = (mode: number): boolean => (mode & S_IFMT) === S_IFDIR;
export const isRegMode = (mode: number): boolean => (mode & S_IFMT) === S_IFREG;
export const isLinkMode = (mode: number): boolean => (mode & S_IFMT) === S_IFLNK;
