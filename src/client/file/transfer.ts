import type { Stats } from 'node:fs';
import { open as openLocal, type FileHandle } from 'node:fs/promises';
import { FileType, SftpError, StatusCode, type Attrs } from '../../protocol/index.js';
import type { SftpClient } from '../client.js';
import { readChunks } from '../engine/read-chunks.js';
import { BufferSource, FileSource, writeChunks, type ChunkSource, type ChunkWriter } from '../engine/write-chunks.js';
import { atomicGet } from './atomic/atomic-get.js';
import { atomicPut, atomicWriteFile } from './atomic/atomic-put.js';
import { writeBehindFileSink, type DownloadSink } from '../engine/write-behind.js';
import { abandonUpload, closeHandle } from '../core/close-handle.js';

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

function unsupported(opts: TransferOptions, keys: ReadonlyArray<'atomic' | 'resume' | 'verify'> = ['atomic', 'resume', 'verify']): void {
  for (const k of keys) {
    if (opts[k]) {
      throw new SftpError({ status: StatusCode.OP_UNSUPPORTED, code: 'ERR_NOT_SUPPORTED', message: `the ${k} option is not supported yet`, op: 'transfer' });
    }
  }
}

export function resolveDownload(client: SftpClient, opts: TransferOptions): ResolvedTransfer {
  return { chunkSize: chunkSizeFor(client, 'read', opts.chunkSize), requests: opts.requests ?? client.defaultRequests, signal: opts.signal };
}
export function resolveUpload(client: SftpClient, opts: TransferOptions): ResolvedTransfer {
  return { chunkSize: chunkSizeFor(client, 'write', opts.chunkSize), requests: opts.requests ?? client.defaultRequests, signal: opts.signal };
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
export function chunkSizeFor(client: SftpClient, dir: 'read' | 'write', asked = client.options.chunkSize): number {
  let size = asked ?? (dir === 'read' ? client.readChunkSize : client.writeChunkSize);
  if (client.limitsFromServer) {
    const max = dir === 'read' ? client.limits.maxReadLength : client.limits.maxWriteLength;
    if (max > 0) size = Math.min(size, max);
  }
  if (dir === 'read') size = Math.min(size, client.session.maxIncomingPacket - DATA_HEADER);
  else if (Number.isFinite(client.session.maxOutgoingPacket)) size = Math.min(size, client.session.maxOutgoingPacket - WRITE_HEADER);
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

// ---- downloads ---------------------------------------------------------------------------------

export type { DownloadSink } from '../engine/write-behind.js';

export interface DownloadHandleOptions extends ResolvedTransfer {
  start?: number;
  /** The source size (FSTAT/STAT); checked: a change is a SourceChangedError. */
  expectSize?: number;
  onProgress?(p: TransferProgress): void;
  path?: string;
}

/** The download engine on an open remote handle: bytes in order into `sink`. Returns bytes copied. */
export async function downloadHandle(client: SftpClient, handle: Buffer, sink: DownloadSink, opts: DownloadHandleOptions): Promise<number> {
  const start = opts.start ?? 0;
  let pos = start;
  try {
    for await (const buf of readChunks(client, handle, {
      start,
      expectSize: opts.expectSize,
      chunkSize: opts.chunkSize,
      requests: opts.requests,
      signal: opts.signal,
      path: opts.path,
    })) {
      await sink.write(pos, buf);
      pos += buf.length;
      opts.onProgress?.({ bytes: pos - start, total: opts.expectSize !== undefined ? opts.expectSize - start : undefined });
    }
  } catch (err) {
    await sink.flush?.().catch(() => {}); // let writes already accepted finish before the caller closes the file
    throw err;
  }
  await sink.flush?.();
  return pos - start;
}

/** A local file as a DownloadSink (positional writes). */
export function fileSink(fh: FileHandle): DownloadSink {
  return {
    async write(offset, data) {
      let done = 0;
      while (done < data.length) done += (await fh.write(data, done, data.length - done, offset + done)).bytesWritten;
    },
  };
}

/**
 * The end of a download into a local file: copy mode and times from the remote `attrs` (with
 * `preserve`), flush (with `fsync`), close. Returns whether mode and times were copied. The caller
 * forgets `fh` afterwards: it is closed, or closing it failed.
 */
export async function finishLocalFile(fh: FileHandle, attrs: Attrs, opts: Pick<TransferOptions, 'preserve' | 'fsync'>): Promise<boolean> {
  if (opts.preserve) {
    const a = preservedAttrs(attrs);
    if (a.permissions !== undefined) await fh.chmod(a.permissions);
    if (a.atime !== undefined && a.mtime !== undefined) await fh.utimes(a.atime, a.mtime);
  }
  if (opts.fsync) await fh.sync();
  await fh.close();
  return !!opts.preserve;
}

/**
 * The error for a source that is not a regular file (by the type bits of its attributes), or
 * undefined when it is one or the server does not say: a directory is EISDIR, anything else (device,
 * FIFO, socket) ERR_SFTP_NOT_A_FILE. Downloads check it before they create or truncate anything.
 */
export function notARegularFile(path: string, attrs: Attrs, op: string): SftpError | undefined {
  const type = attrs.permissions !== undefined ? attrs.permissions & FileType.MASK : 0;
  if (type === 0 || type === FileType.REGULAR) return undefined;
  const dir = type === FileType.DIRECTORY;
  return new SftpError({
    status: StatusCode.FAILURE,
    code: dir ? 'EISDIR' : 'ERR_SFTP_NOT_A_FILE',
    message: `${dir ? 'the source is a directory' : `the source is not a regular file (type 0o${type.toString(8)})`}: nothing was written`,
    op,
    path,
  });
}

/**
 * Open a remote file for reading and STAT it in the same round trip (FSTAT the handle when the STAT
 * fails). A source that is not a regular file is closed again and refused (see notARegularFile), so a
 * download never creates or truncates its destination for a directory.
 */
export async function openForRead(client: SftpClient, remotePath: string, signal?: AbortSignal, op = 'get'): Promise<{ handle: Buffer; attrs: Attrs }> {
  const opening = client.open(remotePath, 'r', {}, { signal });
  const stat = client.stat(remotePath, { signal }).then(
    (a) => ({ ok: true as const, a }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  const handle = await opening; // if this rejects, the stat settles on its own (already caught)
  const s = await stat;
  try {
    // STAT failed but OPEN worked (a race, or a server quirk): ask the handle.
    const attrs = s.ok ? s.a : await client.fstat(handle, { signal });
    const bad = notARegularFile(remotePath, attrs, op);
    if (bad) throw bad;
    return { handle, attrs };
  } catch (err) {
    await closeHandle(client, handle, signal).catch(() => {});
    throw err;
  }
}

/**
 * Open a remote file for reading (with its attributes), run `use` on the handle, then CLOSE it: checked
 * when `use` succeeded, best effort when it failed. The handle is closed by this scope, never looked up
 * by client.pathOf(handle): servers reuse handle strings, and after our CLOSE the same bytes may already
 * name another transfer's file.
 */
async function withReadHandle<T>(
  client: SftpClient,
  remotePath: string,
  signal: AbortSignal | undefined,
  op: string,
  use: (handle: Buffer, attrs: Attrs) => Promise<T>,
): Promise<T> {
  const { handle, attrs } = await openForRead(client, remotePath, signal, op);
  let out: T;
  try {
    out = await use(handle, attrs);
  } catch (err) {
    await closeHandle(client, handle, signal).catch(() => {});
    throw err;
  }
  await closeHandle(client, handle, signal);
  return out;
}

/** get(remotePath, localPath): download with many READs in flight. */
export async function get(client: SftpClient, remotePath: string, localPath: string, opts: TransferOptions = {}): Promise<TransferResult> {
  if (opts.atomic || opts.resume || opts.verify) return atomicGet(client, remotePath, localPath, opts);
  const t = resolveDownload(client, opts);
  return withReadHandle(client, remotePath, t.signal, 'get', async (handle, attrs) => {
    let fh: FileHandle | undefined = await openLocal(localPath, 'w', attrs.permissions !== undefined ? attrs.permissions & 0o777 : 0o666);
    try {
      const bytes = await downloadHandle(client, handle, writeBehindFileSink(fh), {
        ...t,
        expectSize: attrs.size,
        onProgress: opts.onProgress,
        path: remotePath,
      });
      const preserved = await finishLocalFile(fh, attrs, opts);
      fh = undefined;
      return { bytes, size: bytes, chunkSize: t.chunkSize, requests: t.requests, fsynced: !!opts.fsync, preserved, ...PLAIN };
    } finally {
      if (fh) await fh.close().catch(() => {});
    }
  });
}

/** The whole remote file as one Buffer. */
export async function readFile(client: SftpClient, remotePath: string, opts: TransferOptions = {}): Promise<Buffer> {
  unsupported(opts);
  const t = resolveDownload(client, opts);
  return withReadHandle(client, remotePath, t.signal, 'readFile', async (handle, attrs) => {
    const parts: Buffer[] = [];
    let total = 0;
    const sink: DownloadSink = {
      async write(_offset, data) {
        parts.push(data);
        total += data.length;
      },
    };
    await downloadHandle(client, handle, sink, { ...t, expectSize: attrs.size, onProgress: opts.onProgress, path: remotePath });
    return Buffer.concat(parts, total);
  });
}

// ---- uploads -----------------------------------------------------------------------------------

/** Where an upload writes: an open remote handle and the offset to start at. */
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

const PLAIN = { atomic: false, replaced: false, resumedFrom: 0, verified: false } as const;

/** The default: open the destination itself with CREAT|TRUNC. */
export function plainUploadHooks(client: SftpClient): UploadHooks {
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
  client: SftpClient,
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
    return { bytes, size: start + bytes, chunkSize: t.chunkSize, requests: t.requests, fsynced, preserved, ...PLAIN, resumedFrom: start };
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
  client: SftpClient,
  localPath: string,
  opts: TransferOptions,
  use: (info: UploadSourceInfo, fh: FileHandle, st: Stats) => Promise<T>,
): Promise<T> {
  const fh = await openLocal(localPath, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw Object.assign(new Error(`${localPath} is not a regular file`), { code: 'EISDIR', path: localPath });
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

/** put(localPath, remotePath): upload with many WRITEs in flight. */
export async function put(client: SftpClient, localPath: string, remotePath: string, opts: TransferOptions = {}): Promise<TransferResult> {
  if (opts.atomic || opts.resume || opts.verify) return atomicPut(client, localPath, remotePath, opts);
  return withLocalSource(client, localPath, opts, (info) => uploadWith(client, info, remotePath, opts));
}

/** Write a Buffer as a remote file (created or truncated). */
export async function writeFile(client: SftpClient, remotePath: string, data: Buffer, opts: TransferOptions = {}): Promise<TransferResult> {
  unsupported(opts, ['resume']); // a Buffer has no identity (path, mtime) to resume against
  if (opts.atomic || opts.verify) return atomicWriteFile(client, remotePath, data, opts);
  return uploadWith(client, { source: new BufferSource(data), size: data.length, attrs: {} }, remotePath, opts);
}
