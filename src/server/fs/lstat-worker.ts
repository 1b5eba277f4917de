import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import type * as WorkerThreads from 'node:worker_threads';
import type { FileStats } from './file-system.js';

/**
 * lstat of many names on a thread of its own, so that a large listing's lstat calls (through a
 * pinned directory's /proc/PID/fd path: several microseconds each, most of a listing's cost) run
 * beside the event loop rather than on it. The worker is in this process: the /proc/PID/fd path
 * it is given reaches the same pinned directory as on the main thread, so it confines exactly as
 * well. One worker per process, started at the first use; batches are declined until it runs (a
 * listing does not wait for it to start: its caller lstats on meanwhile); it never keeps the process
 * alive when idle. It answers batches in the order given, up to MAX_QUEUED at a time and all of one listing
 * (`owner`), so that the next batch is already there when it finishes one: a batch offered while it
 * works for another listing, or while that many are out, is declined, and the caller lstats it
 * itself, so no listing waits behind another. If the worker fails, it is not used again and every
 * batch is declined.
 */

/** Numbers per name in a reply: mode, size, uid, gid, atimeMs, mtimeMs, nlink, dev, ino (mode NaN: none). */
const FIELDS = 9;

/** Batches out in the worker at once (of one listing). */
export const MAX_QUEUED = 3;

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
/** The worker runs (it said so): batches are taken from then on. */
let online = false;
const onOnline: (() => void)[] = [];
let failed = false;
/** Batches the worker answered (for tests: whether a listing went through it). */
let answered = 0;

export function lstatWorkerBatches(): number {
  return answered;
}
/** The batches in the worker now, oldest first: how to settle each. */
const queued: { resolve(out: Float64Array): void; reject(err: Error): void }[] = [];
/** Whose batches are queued (meaningful while some are). */
let queuedOwner: object | undefined;

function fail(err: Error): void {
  failed = true;
  worker = undefined;
  online = false;
  for (const f of onOnline.splice(0)) f();
  for (const c of queued.splice(0)) c.reject(err);
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
    const c = queued.shift();
    answered++;
    if (queued.length === 0) w.unref();
    c?.resolve(out);
  });
  w.once('online', () => {
    online = true;
    for (const f of onOnline.splice(0)) f();
  });
  w.on('error', (err) => fail(err));
  w.on('exit', () => fail(new Error('lstat worker exited')));
  w.unref();
  return w;
}

/** Start the worker if it is not started (it takes batches once it runs); false if it cannot be used. */
export function startLstatWorker(): boolean {
  if (failed) return false;
  try {
    worker ??= start();
    return true;
  } catch {
    failed = true;
    return false;
  }
}

/** Whether the worker takes batches now; starts it if it is not started. */
export function lstatWorkerReady(): boolean {
  return startLstatWorker() && online;
}

/** Start the worker and wait until it takes batches: true then, false if it cannot be used. */
export function lstatWorkerOnline(): Promise<boolean> {
  if (!startLstatWorker()) return Promise.resolve(false);
  if (online) return Promise.resolve(true);
  // the caller waits for it: the starting worker keeps the process alive meanwhile
  const w = worker!;
  w.ref();
  return new Promise((resolve) =>
    onOnline.push(() => {
      if (queued.length === 0) w.unref();
      resolve(online);
    }),
  );
}

/**
 * The lstat of `prefix + name` for each name (undefined where there is nothing), from the worker;
 * undefined when the worker does not run yet (it is started; `evenIfStarting`: the batch is taken
 * and answered once it runs), holds another owner's batches or MAX_QUEUED of this one's, or cannot
 * be used (the caller lstats them). `owner`: the listing, the same object for all its batches.
 */
export function lstatInWorker(
  prefix: string,
  names: readonly string[],
  owner: object = {},
  evenIfStarting = false,
): Promise<(FileStats | undefined)[]> | undefined {
  if (names.length === 0 || !startLstatWorker() || (!online && !evenIfStarting)) return undefined;
  if (queued.length > 0 && (queuedOwner !== owner || queued.length >= MAX_QUEUED)) return undefined;
  const w = worker!;
  const sent = new Promise<Float64Array>((resolve, reject) => queued.push({ resolve, reject }));
  queuedOwner = owner;
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
