export { SftpClient, DEFAULT_LIMITS, DEFAULT_REQUESTS, MAX_DEFAULT_CHUNK, DEFAULT_LIST_MAX_ENTRIES } from './client.js';
export type { ClientOptions, DirEntry, ExtendedReply, CheckFileOptions, ListOptions } from './client.js';
export { Session } from './core/session.js';
export type { SessionOptions, RequestOptions, RequestBody, ReplyPacket } from './core/session.js';
export { AbortError, SourceChangedError } from './core/errors.js';
export { toPflags, type OpenMode } from './core/flags.js';
export { scandir, type ScandirOptions } from './file/scandir.js';
export { readChunks, type ReadChunksOptions, type ChunkReader } from './engine/read-chunks.js';
export {
  writeChunks,
  FileSource,
  BufferSource,
  type WriteChunksOptions,
  type ChunkWriter,
  type ChunkSource,
} from './engine/write-chunks.js';
export {
  get,
  put,
  readFile,
  writeFile,
  uploadWith,
  downloadHandle,
  openForRead,
  fileSink,
  plainUploadHooks,
  preservedAttrs,
  resolveDownload,
  resolveUpload,
} from './file/transfer.js';
export type {
  TransferOptions,
  TransferResult,
  TransferProgress,
  UploadHooks,
  UploadTarget,
  UploadSourceInfo,
  DownloadSink,
  DownloadHandleOptions,
} from './file/transfer.js';
export {
  createReadStream,
  createWriteStream,
  type ReadStreamOptions,
  type WriteStreamOptions,
} from './file/streams.js';
export { parseSftpUrl, formatSftpUrl, isSftpUrl, type SftpUrl } from './url.js';
export { putTree, getTree, rmtree, TreeError } from './tree/index.js';
export type {
  TreeOptions,
  TreeResult,
  TreeProgress,
  TreeEntryError,
  RmtreeOptions,
  SymlinkMode,
} from './tree/index.js';
export { VerifyError } from './file/atomic/atomic-verify.js';
export {
  atomicTempName,
  resumePartialName,
  resumePartialMatcher,
  ATOMIC_SUFFIX,
  RESUME_SUFFIX,
} from './file/atomic/partial-names.js';
export { defaultStateDir } from './file/atomic/resume-checkpoint.js';
