export { SftpServer } from './sftp-server.js';
export type { ServeOptions, SftpServerStats } from './sftp-server.js';
export type { SftpServerOptions, ServerLimits, AtomicUploadMode } from './options.js';
export type { SessionSettings } from './session-settings.js';
export type { TransferReport, TransferListener } from './transfer-report.js';
export { DEFAULT_MAX_SERVER_HANDLES } from './options.js';
export { OutputMeter, WRITE_OVERHEAD, meterSocket } from './output-meter.js';
export type {
  FileSystem,
  FileStats,
  SetStats,
  OpenOptions,
  FsFile,
  FsDir,
  FsDirEntry,
  FsStatVfs,
} from './fs/file-system.js';
export { LocalFs } from './fs/local-fs.js';
export { MemoryFs, type MemoryFsOptions } from './fs/memory-fs.js';
export { FsError, fsError } from './fs/fs-error.js';
