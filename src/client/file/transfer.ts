import type { TransferHost } from '../core/remote.js';
import { BufferSource } from '../engine/write-chunks.js';
import { atomicGet } from './atomic/atomic-get.js';
import { atomicPut, atomicWriteFile } from './atomic/atomic-put.js';
import { plainGet } from './download.js';
import { uploadWith, withLocalSource } from './upload.js';
import { unsupported, type TransferOptions, type TransferResult } from './transfer-options.js';

/**
 * The one-file transfers of the client: each goes the plain way (download.ts, upload.ts), or through
 * the atomic/resume/verify modes (atomic/) when one of those options is set.
 */

export type {
  TransferProgress,
  TransferOptions,
  TransferResult,
  VerifyMode,
  ResolvedTransfer,
} from './transfer-options.js';
export { resolveDownload, resolveUpload, chunkSizeFor, preservedAttrs } from './transfer-options.js';
export {
  downloadHandle,
  fileSink,
  finishLocalFile,
  notARegularFile,
  openForRead,
  readFile,
  type DownloadSink,
  type DownloadHandleOptions,
} from './download.js';
export {
  uploadWith,
  withLocalSource,
  plainUploadHooks,
  type UploadHooks,
  type UploadTarget,
  type UploadSourceInfo,
} from './upload.js';

/** get(remotePath, localPath): download with many READs in flight. */
export async function get(
  client: TransferHost,
  remotePath: string,
  localPath: string,
  opts: TransferOptions = {},
): Promise<TransferResult> {
  if (opts.atomic || opts.resume || opts.verify) return atomicGet(client, remotePath, localPath, opts);
  return plainGet(client, remotePath, localPath, opts);
}

/** put(localPath, remotePath): upload with many WRITEs in flight. */
export async function put(
  client: TransferHost,
  localPath: string,
  remotePath: string,
  opts: TransferOptions = {},
): Promise<TransferResult> {
  if (opts.atomic || opts.resume || opts.verify) return atomicPut(client, localPath, remotePath, opts);
  return withLocalSource(client, localPath, opts, (info) => uploadWith(client, info, remotePath, opts));
}

/** Write a Buffer as a remote file (created or truncated). */
export async function writeFile(
  client: TransferHost,
  remotePath: string,
  data: Buffer,
  opts: TransferOptions = {},
): Promise<TransferResult> {
  unsupported(opts, ['resume']); // a Buffer has no identity (path, mtime) to resume against
  if (opts.atomic || opts.verify) return atomicWriteFile(client, remotePath, data, opts);
  return uploadWith(client, { source: new BufferSource(data), size: data.length, attrs: {} }, remotePath, opts);
}
