export { SftpServer } from './sftp-server.js';
export type { SftpServerOptions, ServerLimits, AtomicUploadMode } from './options.js';
export type { FileSystem, FileStats, SetStats, OpenOptions, FsFile, FsDir, FsDirEntry, FsStatVfs } from './fs/file-system.js';
export { LocalFs } from './fs/local-fs.js';
export { MemoryFs, type MemoryFsOptions } from './fs/memory-fs.js';
export { FsError, fsError } from './fs/fs-error.js';
