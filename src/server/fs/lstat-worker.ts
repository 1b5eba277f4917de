import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import type * as WorkerThreads from 'node:worker_threads';
import type { FileStats } from './file-system.js';

/**
 * lstat of many names on a thread of its own, so that a large listing's lstat calls (through a
 * pinned directory's /proc/PID/fd path: several microseconds each, most of a listing's cost) run
 * beside the event loop rather than on it. The worker is in this process: the /proc/PID/fd path
 * it is given reaches the same pinned directory as on the main thread, so it confines exactly as
 * well. One worker per process, started at the first use; it never keeps the process alive when
 * idle. It answers one batch at a time: a batch offered while it is busy (another listing) is
 * declined, and the caller lstats it itself, so no listing waits behind another. If the worker
 * fails, it is not used again and every batch is declined.
 */

/** Numbers per name in a reply: mode, size, uid, gid, atimeMs, mtimeMs, nlink, dev, ino (mode NaN: none). */
const FIELDS = 9;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const opts = { throwIfNoEntry: false };
parentPort.on('message', (m) => {
  const n = m.names.length;
  const out = new Float64Array(n * ${FIELDS});
  for (let i = 0; i < n; i++) {
    let st;
    try { st = fs.lstatSync(m.prefix + m.names[i], opts); } catch { st = undefined; }
    const o = i * ${FIELDS};
    if (st === undefined) { out[o] = NaN; continue; }
    out[o] = st.mode; out[o + 1] = st.size; out[o + 2] = st.uid; out[o + 3] = st.gid;
    out[o + 4] = st.atimeMs; out[o + 5] = st.mtimeMs; out[o + 6] = st.nlink; out[o + 7] = st.dev; out[o + 8] = st.ino;
  }
  parentPort.postMessage(out, [out.buffer]);
});
`;

let worker: Worker | undefined;
let failed = false;
/** Batches the worker answered (for tests: whether a listing went through it). */
let answered = 0;

export function lstatWorkerBatches(): number {
  return answered;
}
/** The batch in the worker now: how to settle it. */
let current: { resolve(out: Float64Array): void; reject(err: Error): void } | undefined;

function fail(err: Error): void {
  failed = true;
  const c = current;
  current = undefined;
  worker = undefined;
  c?.reject(err);
}

/**
 * node:worker_threads, loaded by the first start(): importing it loads node's whole worker machinery,
 * which a process that never lists a large local directory (every client) should not pay for.
 */
function workerThreads(): typeof WorkerThreads {
  return createRequire(import.meta.url)('node:worker_threads') as typeof WorkerThreads;
}

function start(): Worker {
  const w = new (workerThreads().Worker)(WORKER_SOURCE, {
    eval: true,
    // none of the parent's flags (a loader, a profiler), and never the parent's stdio
    execArgv: [],
    stdout: true,
    stderr: true,
    resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
  });
  w.on('message', (out: Float64Array) => {
    const c = current;
    current = undefined;
    answered++;
    w.unref();
    c?.resolve(out);
  });
  w.on('error', (err) => fail(err));
  w.on('exit', () => fail(new Error('lstat worker exited')));
  w.unref();
  return w;
}

/**
 * The lstat of `prefix + name` for each name (undefined where there is nothing), from the worker;
 * undefined when the worker is busy with another batch or cannot be used (the caller lstats them).
 */
export function lstatInWorker(
  prefix: string,
  names: readonly string[],
): Promise<(FileStats | undefined)[]> | undefined {
  if (failed || current !== undefined || names.length === 0) return undefined;
  let w: Worker;
  try {
    w = worker ??= start();
  } catch {
    failed = true;
    return undefined;
  }
  const sent = new Promise<Float64Array>((resolve, reject) => (current = { resolve, reject }));
  // while a batch is out, the worker keeps the process alive so that its answer arrives
  w.ref();
  try {
    w.postMessage({ prefix, names });
  } catch (err) {
    fail(err as Error);
  }
  return sent.then((out) => {
    const stats: (FileStats | undefined)[] = new Array(names.length);
    for (let i = 0, o = 0; i < names.length; i++, o += FIELDS) {
      stats[i] = Number.isNaN(out[o]!)
        ? undefined
        : {
            mode: out[o]!,
            size: out[o + 1]!,
            uid: out[o + 2]!,
            gid: out[o + 3]!,
            atime: Math.floor(out[o + 4]! / 1000),
            mtime: Math.floor(out[o + 5]! / 1000),
            nlink: out[o + 6]!,
            dev: out[o + 7]!,
            ino: out[o + 8]!,
          };
    }
    return stats;
  });
}
