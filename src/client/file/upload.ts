import type { Stats } from 'node:fs';
import { open as openLocal, type FileHandle } from 'node:fs/promises';
import type { Attrs } from '../../protocol/index.js';
import type { TransferHost } from '../core/remote.js';
import { abandonUpload, closeHandle } from '../core/close-handle.js';
import { FileSource, writeChunks, type ChunkSource, type ChunkWriter } from '../engine/write-chunks.js';
import { PLAIN, preservedAttrs, resolveUpload, type TransferOptions, type TransferResult } from './transfer-options.js';
import { localError } from '../core/local-error.js';

/** Uploads: the engine with its hooks (atomic and resume replace some), and a local file as the source. */

export interface UploadTarget {
  handle: Buffer;
  /** Offset to start at, in source and destination alike (0 for a fresh upload; resume sets it). */
  startOffset: number;
}

/**
 * The steps of an upload that atomic and resume modes replace: how the destination is opened, and what
 * happens after the bytes are written and the handle is closed (e.g. a rename into place), or when
 * it failed (e.g. removing a temporary file).
 */
export interface UploadHooks {
  openTarget(remotePath: string, attrs: Attrs, signal?: AbortSignal): Promise<UploadTarget>;
  /** After the last WRITE was acknowledged, before fsync/preserve/CLOSE. */
  beforeClose?(target: UploadTarget): Promise<void>;
  /** After a successful CLOSE. */
  commit?(target: UploadTarget): Promise<void>;
  /** After any failure (the handle is already closed, best effort). */
  abort?(target: UploadTarget | undefined, err: unknown): Promise<void>;
  /** Each acknowledged WRITE (in any order), e.g. to keep a resume checkpoint. */
  onWritten?(offset: number, length: number): void;
}

/** The default: open the destination itself with CREAT|TRUNC. */
export function plainUploadHooks(client: TransferHost): UploadHooks {
  return {
    async openTarget(remotePath, attrs, signal) {
      return { handle: await client.open(remotePath, 'w', attrs, { signal }), startOffset: 0 };
    },
  };
}

export interface UploadSourceInfo {
  source: ChunkSource;
  /** The source's size at the start. */
  size: number;
  /** Mode and times of the source, for `preserve`. */
  attrs: Attrs;
}

/**
 * The upload engine: open the target through the hooks, write from `startOffset` with many WRITEs in
 * flight, optionally fsync and preserve mode/times, CLOSE (a CLOSE error is a failure), then commit.
 */
export async function uploadWith(
  client: TransferHost,
  src: UploadSourceInfo,
  remotePath: string,
  opts: TransferOptions,
  hooks: UploadHooks = plainUploadHooks(client),
): Promise<TransferResult> {
  const t = resolveUpload(client, opts);
  const createAttrs: Attrs = src.attrs.permissions !== undefined ? { permissions: src.attrs.permissions & 0o777 } : {};
  let target: UploadTarget | undefined;
  let open = false;
  try {
    target = await hooks.openTarget(remotePath, createAttrs, t.signal);
    open = true;
    const start = target.startOffset;
    const onWritten = hooks.onWritten?.bind(hooks);
    const writer: ChunkWriter = onWritten
      ? { write: (h, off, data, o) => client.write(h, off, data, o).then(() => onWritten(off, data.length)) }
      : client;
    const bytes = await writeChunks(writer, target.handle, src.source, {
      start,
      expectSize: src.size,
      chunkSize: t.chunkSize,
      requests: t.requests,
      signal: t.signal,
      path: remotePath,
      onProgress: opts.onProgress ? (b) => opts.onProgress!({ bytes: b, total: src.size - start }) : undefined,
    });
    await hooks.beforeClose?.(target);
    let fsynced = false;
    if (opts.fsync && client.supports('fsync')) {
      await client.fsync(target.handle, { signal: t.signal });
      fsynced = true;
    }
    let preserved = false;
    if (opts.preserve) {
      const a = preservedAttrs(src.attrs);
      if (Object.keys(a).length > 0) await client.fsetstat(target.handle, a, { signal: t.signal });
      preserved = true;
    }
    open = false;
    await closeHandle(client, target.handle, t.signal); // a CLOSE error (or an abort) fails the upload: nothing is committed
    await hooks.commit?.(target);
    return {
      bytes,
      size: start + bytes,
      chunkSize: t.chunkSize,
      requests: t.requests,
      fsynced,
      preserved,
      ...PLAIN,
      resumedFrom: start,
    };
  } catch (err) {
    if (open && target) await abandonUpload(client, target.handle, t.signal).catch(() => {});
    if (hooks.abort) await hooks.abort(target, err).catch(() => {});
    throw err;
  }
}

/**
 * Open a local regular file as the source of an upload (size, mode and times from its FSTAT) and run
 * `use` with it; the file is closed when `use` settles.
 */
export async function withLocalSource<T>(
  client: TransferHost,
  localPath: string,
  opts: TransferOptions,
  use: (info: UploadSourceInfo, fh: FileHandle, st: Stats) => Promise<T>,
): Promise<T> {
  const fh = await openLocal(localPath, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw localError('EISDIR', 'the source is not a regular file', localPath);
    const chunk = resolveUpload(client, opts).chunkSize;
    const info: UploadSourceInfo = {
      source: new FileSource(fh, chunk),
      size: st.size,
      attrs: { permissions: st.mode, atime: Math.floor(st.atimeMs / 1000), mtime: Math.floor(st.mtimeMs / 1000) },
    };
    return await use(info, fh, st);
  } finally {
    await fh.close();
  }
}
