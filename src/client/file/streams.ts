import { Readable, Writable } from 'node:stream';
import type { Attrs } from '../../protocol/index.js';
import type { TransferHost } from '../core/remote.js';
import type { OpenMode } from '../core/flags.js';
import { readChunks } from '../engine/read-chunks.js';
import { resolveDownload, resolveUpload } from './transfer-options.js';
import { abandonUpload, closeHandle as closeRemote } from '../core/close-handle.js';
import { Window } from '../core/window.js';

export interface ReadStreamOptions {
  /** Open flags (default 'r'). */
  flags?: OpenMode;
  /** First byte to read (default 0). */
  start?: number;
  /** Last byte to read, INCLUSIVE (as in fs.createReadStream); default: to the end of the file. */
  end?: number;
  /** Use an open handle instead of opening `path`. */
  handle?: Buffer;
  /** Close the handle at the end or on destroy (default true; a given handle is closed only if true is passed). */
  autoClose?: boolean;
  chunkSize?: number;
  /** READs in flight (default: the client's `requests`). */
  requests?: number;
  signal?: AbortSignal;
  highWaterMark?: number;
}

/** A Readable of a remote file: READs kept in flight by the transfer engine, bytes pushed in order. */
export function createReadStream(client: TransferHost, path: string, opts: ReadStreamOptions = {}): Readable {
  const { chunkSize, requests } = resolveDownload(client, opts);
  const start = opts.start ?? 0;
  const length = opts.end !== undefined ? Math.max(0, opts.end - start + 1) : undefined;
  const autoClose = opts.autoClose ?? opts.handle === undefined;
  async function* bytes(): AsyncGenerator<Buffer> {
    const handle = opts.handle ?? (await client.open(path, opts.flags ?? 'r', {}, { signal: opts.signal }));
    let ok = false;
    try {
      yield* readChunks(client, handle, { start, length, chunkSize, requests, signal: opts.signal, path });
      ok = true;
    } finally {
      if (autoClose) {
        if (ok) await closeRemote(client, handle, opts.signal);
        else await closeRemote(client, handle, opts.signal).catch(() => {});
      }
    }
  }
  return Readable.from(bytes(), { objectMode: false, highWaterMark: opts.highWaterMark ?? chunkSize });
}

export interface WriteStreamOptions {
  /** Open flags (default 'w': create or truncate). */
  flags?: OpenMode;
  /** Offset of the first byte written (default 0). */
  start?: number;
  /** Permissions for a file the OPEN creates. */
  mode?: number;
  /** Use an open handle instead of opening `path`. */
  handle?: Buffer;
  /** Close the handle at the end or on destroy (default true; a given handle is closed only if true is passed). */
  autoClose?: boolean;
  chunkSize?: number;
  /** WRITEs in flight (default: the client's `requests`). */
  requests?: number;
  signal?: AbortSignal;
}

/**
 * A Writable to a remote file. Bytes are gathered into chunks (copied: the caller may reuse its
 * buffers) and sent as WRITEs in ascending order, up to `requests` in flight; `write()` callbacks
 * return as soon as the chunk is sent, and wait only when the window is full. 'finish' comes after
 * every WRITE is acknowledged and the handle is closed.
 */
export function createWriteStream(client: TransferHost, path: string, opts: WriteStreamOptions = {}): Writable {
  const resolved = resolveUpload(client, opts);
  const chunkSize = resolved.chunkSize;
  const window = new Window(Math.max(1, resolved.requests));
  const autoClose = opts.autoClose ?? opts.handle === undefined;
  const reqOpts = { signal: opts.signal };
  let handle: Buffer | undefined = opts.handle;
  let offset = opts.start ?? 0;
  let buf: Buffer | null = null;
  let fill = 0;
  let failure: unknown;
  /** Take a slot of the window for the next WRITE (after a failure: throw it once a slot is free). */
  const takeSlot = async () => {
    const w = window.acquire();
    if (w) await w;
    if (failure !== undefined) {
      window.release();
      throw failure;
    }
  };
  /** Send a WRITE in the slot just taken; the slot is given back with its reply. */
  const send = (data: Buffer) => {
    const at = offset;
    offset += data.length;
    client.write(handle!, at, data, reqOpts).then(
      () => window.release(),
      (err: unknown) => {
        if (failure === undefined) failure = err;
        window.release();
      },
    );
  };
  /** Every WRITE answered; throws the first failure. */
  const settled = async () => {
    await window.idle();
    if (failure !== undefined) throw failure;
  };
  /** CLOSE the handle; after a failure (`failed`), ask the server not to commit what was written. */
  const closeHandle = async (failed = false) => {
    const h = handle;
    handle = undefined;
    if (h && autoClose) await (failed ? abandonUpload : closeRemote)(client, h, opts.signal);
  };

  return new Writable({
    highWaterMark: chunkSize,
    construct(cb) {
      if (handle) return cb();
      const attrs: Attrs = opts.mode !== undefined ? { permissions: opts.mode } : {};
      client.open(path, opts.flags ?? 'w', attrs, reqOpts).then(
        (h) => {
          handle = h;
          cb();
        },
        (err: Error) => cb(err),
      );
    },
    write(chunk: Buffer, _enc, cb) {
      (async () => {
        let pos = 0;
        while (pos < chunk.length) {
          if (failure !== undefined) throw failure;
          if (!buf) {
            buf = Buffer.allocUnsafe(chunkSize);
            fill = 0;
          }
          const n = Math.min(chunkSize - fill, chunk.length - pos);
          chunk.copy(buf, fill, pos, pos + n);
          fill += n;
          pos += n;
          if (fill === chunkSize) {
            await takeSlot();
            send(buf);
            buf = null;
          }
        }
      })().then(
        () => cb(),
        (err: Error) => cb(err),
      );
    },
    final(cb) {
      (async () => {
        if (buf && fill > 0) {
          await takeSlot();
          send(buf.subarray(0, fill));
          buf = null;
        }
        await settled();
        await closeHandle();
      })().then(
        () => cb(),
        (err: Error) => cb(err),
      );
    },
    destroy(err, cb) {
      closeHandle(err !== null).then(
        () => cb(err),
        () => cb(err),
      );
    },
  });
}
