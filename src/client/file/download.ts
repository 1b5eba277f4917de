import { open as openLocal, type FileHandle } from 'node:fs/promises';
import { FileType, SftpError, StatusCode, isDirectory, isRegularFile, type Attrs } from '../../protocol/index.js';
import type { TransferHost } from '../core/remote.js';
import { closeHandle } from '../core/close-handle.js';
import { readChunkPieces, readChunks } from '../engine/read-chunks.js';
import { piecesLength } from '../../protocol/framing-pieces.js';
import { writeBehindFileSink, type DownloadSink } from '../engine/write-behind.js';
import { WRITE_BEHIND_BATCH, WRITE_BEHIND_BYTES } from '../defaults.js';
import {
  PLAIN,
  preservedAttrs,
  resolveDownload,
  unsupported,
  type ResolvedTransfer,
  type TransferOptions,
  type TransferProgress,
  type TransferResult,
} from './transfer-options.js';

/** Downloads: the engine on an open handle, opening a source for reading, and the plain get/readFile. */

export type { DownloadSink } from '../engine/write-behind.js';

export interface DownloadHandleOptions extends ResolvedTransfer {
  start?: number;
  /** The source size (FSTAT/STAT); checked: a change is a SourceChangedError. */
  expectSize?: number;
  onProgress?(p: TransferProgress): void;
  path?: string;
}

/** The download engine on an open remote handle: bytes in order into `sink`. Returns bytes copied. */
export async function downloadHandle(
  client: TransferHost,
  handle: Buffer,
  sink: DownloadSink,
  opts: DownloadHandleOptions,
): Promise<number> {
  const start = opts.start ?? 0;
  let pos = start;
  const engine = {
    start,
    expectSize: opts.expectSize,
    chunkSize: opts.chunkSize,
    requests: opts.requests,
    signal: opts.signal,
    path: opts.path,
  };
  const total = opts.expectSize !== undefined ? opts.expectSize - start : undefined;
  try {
    if (client.readPieces && sink.writev) {
      // Large replies stay the pieces they arrived in, written with one writev: never joined or copied.
      const reader = { readPieces: client.readPieces.bind(client) };
      for await (const pieces of readChunkPieces(reader, handle, engine)) {
        await sink.writev(pos, pieces);
        pos += piecesLength(pieces);
        opts.onProgress?.({ bytes: pos - start, total });
      }
    } else {
      for await (const buf of readChunks(client, handle, engine)) {
        await sink.write(pos, buf);
        pos += buf.length;
        opts.onProgress?.({ bytes: pos - start, total });
      }
    }
  } catch (err) {
    await sink.flush?.().catch(() => {}); // let writes already accepted finish before the caller closes the file
    throw err;
  }
  await sink.flush?.();
  return pos - start;
}

export { fileSink } from '../engine/write-behind.js';

/**
 * The end of a download into a local file: copy mode and times from the remote `attrs` (with
 * `preserve`), flush (with `fsync`), close. Returns whether mode and times were copied. The caller
 * forgets `fh` afterwards: it is closed, or closing it failed.
 */
export async function finishLocalFile(
  fh: FileHandle,
  attrs: Attrs,
  opts: Pick<TransferOptions, 'preserve' | 'fsync'>,
): Promise<boolean> {
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
  if (type === 0 || isRegularFile(attrs)) return undefined; // the server does not say, or a file
  const dir = isDirectory(attrs);
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
export async function openForRead(
  client: TransferHost,
  remotePath: string,
  signal?: AbortSignal,
  op = 'get',
): Promise<{ handle: Buffer; attrs: Attrs }> {
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
  client: TransferHost,
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

/** get(remotePath, localPath) without atomic, resume or verify: download with many READs in flight. */
export async function plainGet(
  client: TransferHost,
  remotePath: string,
  localPath: string,
  opts: TransferOptions = {},
): Promise<TransferResult> {
  const t = resolveDownload(client, opts);
  return withReadHandle(client, remotePath, t.signal, 'get', async (handle, attrs) => {
    let fh: FileHandle | undefined = await openLocal(
      localPath,
      'w',
      attrs.permissions !== undefined ? attrs.permissions & 0o777 : 0o666,
    );
    try {
      const bytes = await downloadHandle(
        client,
        handle,
        writeBehindFileSink(fh, WRITE_BEHIND_BYTES, WRITE_BEHIND_BATCH),
        {
          ...t,
          expectSize: attrs.size,
          onProgress: opts.onProgress,
          path: remotePath,
        },
      );
      const preserved = await finishLocalFile(fh, attrs, opts);
      fh = undefined;
      return {
        bytes,
        size: bytes,
        chunkSize: t.chunkSize,
        requests: t.requests,
        fsynced: !!opts.fsync,
        preserved,
        ...PLAIN,
      };
    } finally {
      if (fh) await fh.close().catch(() => {});
    }
  });
}

/** The whole remote file as one Buffer. */
export async function readFile(client: TransferHost, remotePath: string, opts: TransferOptions = {}): Promise<Buffer> {
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
      async writev(_offset, data) {
        for (const d of data) {
          parts.push(d);
          total += d.length;
        }
      },
    };
    await downloadHandle(client, handle, sink, {
      ...t,
      expectSize: attrs.size,
      onProgress: opts.onProgress,
      path: remotePath,
    });
    return Buffer.concat(parts, total);
  });
}
