import type { NameEntry } from '../../protocol/index.js';
import type { RequestOptions } from '../core/session.js';
import { closeHandle } from '../core/close-handle.js';
import { Window } from '../core/window.js';
import { DEFAULT_READ_AHEAD } from '../defaults.js';

export interface ScandirOptions extends RequestOptions {
  /** READDIR requests kept in flight ahead of the caller (default DEFAULT_READ_AHEAD, 4; at least 1). */
  readAhead?: number;
}

/** What scandir needs of a client. */
export interface DirReader {
  opendir(path: string, opts?: RequestOptions): Promise<Buffer>;
  readdir(handle: Buffer, opts?: RequestOptions): Promise<NameEntry[] | null>;
  close(handle: Buffer, opts?: RequestOptions): Promise<void>;
}

type Batch = { ok: true; entries: NameEntry[] | null } | { ok: false; error: unknown };

/**
 * Stream a directory: OPENDIR, then READDIR replies yielded as they come, with `readAhead` READDIRs in
 * flight. A server answering READDIRs out of order is handled: after the first end-of-directory no new
 * READDIR is sent, but those already in flight are still awaited and their entries yielded. The handle
 * is closed when the listing ends, when the caller breaks out early, or on an error.
 */
export async function* scandir(
  client: DirReader,
  path: string,
  opts: ScandirOptions = {},
): AsyncGenerator<NameEntry, void, undefined> {
  // A READDIR holds a slot from its sending until its batch is taken up.
  const window = new Window(Math.max(1, opts.readAhead ?? DEFAULT_READ_AHEAD));
  const reqOpts: RequestOptions = { signal: opts.signal };
  const handle = await client.opendir(path, reqOpts);
  const queue: Array<Promise<Batch>> = [];
  let eof = false;
  let completed = false;
  const fill = () => {
    while (!eof && window.tryAcquire()) {
      queue.push(
        client.readdir(handle, reqOpts).then(
          (entries): Batch => ({ ok: true, entries }),
          (error: unknown): Batch => ({ ok: false, error }),
        ),
      );
    }
  };
  try {
    fill();
    while (queue.length > 0) {
      const batch = await queue.shift()!;
      window.release();
      if (!batch.ok) throw batch.error;
      if (batch.entries === null || batch.entries.length === 0) {
        // Some servers answer an empty NAME instead of EOF; treat both as the end.
        eof = true;
        continue;
      }
      fill();
      for (const e of batch.entries) yield e;
    }
    completed = true;
  } finally {
    // Requests still in flight after an early exit settle on their own (their results are caught above).
    // The CLOSE is always sent, but its reply is not awaited long past the caller's cancellation.
    if (completed) await closeHandle(client, handle, opts.signal);
    else await closeHandle(client, handle, opts.signal).catch(() => {});
  }
}
