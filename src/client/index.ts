export { SftpClient, DEFAULT_LIMITS, DEFAULT_REQUESTS, MAX_DEFAULT_CHUNK, DEFAULT_LIST_MAX_ENTRIES } from './client.js';
export type { ClientOptions, DirEntry, ExtendedReply, CheckFileOptions, ListOptions } from './client.js';
export { Session } from './session.js';
export type { SessionOptions, RequestOptions, RequestBody, ReplyPacket } from './session.js';
export { AbortError, SourceChangedError } from './errors.js';
export { toPflags, type OpenMode } from './flags.js';
export { scandir, type ScandirOptions } from './scandir.js';
export { readChunks, type ReadChunksOptions, type ChunkReader } from './transfer-read.js';
export { writeChunks, FileSource, BufferSource, type WriteChunksOptions, type ChunkWriter, type ChunkSource } from './transfer-write.js';
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
} from './transfer.js';
export type {
  TransferOptions,
  TransferResult,
  TransferProgress,
  UploadHooks,
  UploadTarget,
  UploadSourceInfo,
  DownloadSink,
  DownloadHandleOptions,
} from './transfer.js';
export { createReadStream, createWriteStream, type ReadStreamOptions, type WriteStreamOptions } from './streams.js';
export { parseSftpUrl, formatSftpUrl, isSftpUrl, type SftpUrl } from './url.js';
export { putTree, getTree, rmtree, TreeError } from './tree.js';
export type { TreeOptions, TreeResult, TreeProgress, TreeEntryError, RmtreeOptions, SymlinkMode } from './tree.js';
export { VerifyError } from './atomic-verify.js';
export { atomicTempName, resumePartialName, resumePartialMatcher, ATOMIC_SUFFIX, RESUME_SUFFIX } from './partial-names.js';
export { defaultStateDir } from './resume-checkpoint.js';
