import { createHash } from 'node:crypto';
import { closeSync, constants as fsc, mkdirSync, openSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * Records of the remote temporary files of atomic uploads, so that one left behind is removed later.
 *
 * An upload registers its temporary file (in memory) before the OPEN that creates it. A record is
 * written locally — one small file under `<stateDir>/orphans/` — when the upload fails and cannot
 * remove the file (the connection was lost, even before the OPEN's reply came back), when the process
 * exits with the upload unfinished (an uncaught error, process.exit(): written synchronously at exit),
 * and, against a process killed outright (SIGKILL), once the upload has run for RECORD_AFTER_MS. The
 * record is deleted once the file is renamed into place or its removal is confirmed. Uploads that end
 * sooner (the many small files of a tree) never touch the disk for it: creating and deleting a file
 * costs about half a millisecond of kernel time. What is not covered: a process killed outright within
 * RECORD_AFTER_MS of an OPEN.
 *
 * The next atomic upload to the same destination removes the recorded files whose owner is gone:
 *  - the record says so (the owner could not remove it, or exited without finishing);
 *  - the owner was a process on this host that no longer runs;
 *  - the owner is this process and the upload is no longer in progress.
 * A record of a process that still runs (a concurrent upload of the same file) is left alone, as is
 * one from another host (a shared stateDir) until its owner marks it. The temporary names carry random
 * tags, so removing one that is already gone is harmless (ENOENT, the record is dropped).
 *
 * Why records and not a listing of the destination's directory: an upload cannot tell from a name
 * whether another client is still writing that file, and listing the directory on every atomic
 * upload costs a READDIR walk per file (quadratic for a tree uploaded into one big directory).
 */

/** How long an upload runs before its temporary file is recorded on disk (see above). */
export const RECORD_AFTER_MS = 250;

interface TempRecord {
  destination: string;
  temp: string;
  host?: string;
  pid?: number;
  /** The owner gave up on it: remove whoever finds it. */
  orphaned?: boolean;
}

interface Upload {
  stateDir: string;
  destination: string;
  temp: string;
  timer?: ReturnType<typeof setTimeout>;
  /** The record being written by the timer, if any. */
  writing?: Promise<void>;
}

/** Uploads of this process in progress, by destination NUL temp. */
const inProgress = new Map<string, Upload>();
const HOST = hostname();

function liveKey(destination: string, temp: string): string {
  return `${destination}\0${temp}`;
}
function destKey(destination: string): string {
  return createHash('sha256').update(destination).digest('hex').slice(0, 16);
}
function recordName(destination: string, temp: string): string {
  return `${destKey(destination)}-${createHash('sha256').update(temp).digest('hex').slice(0, 12)}.json`;
}
function recordPath(stateDir: string, destination: string, temp: string): string {
  return join(stateDir, 'orphans', recordName(destination, temp));
}

// O_NOFOLLOW: a link planted under a record's name (the default stateDir is in /tmp) is not followed.
const RECORD_FLAGS = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW;

async function writeRecord(stateDir: string, r: TempRecord): Promise<void> {
  await mkdir(join(stateDir, 'orphans'), { recursive: true });
  const fh = await open(recordPath(stateDir, r.destination, r.temp), RECORD_FLAGS, 0o600);
  try {
    await fh.writeFile(JSON.stringify(r));
  } finally {
    await fh.close();
  }
}

/** At exit: every unfinished upload's file is recorded as an orphan (synchronously: nothing else runs then). */
function recordAllNow(): void {
  for (const u of inProgress.values()) {
    try {
      mkdirSync(join(u.stateDir, 'orphans'), { recursive: true });
      const fd = openSync(recordPath(u.stateDir, u.destination, u.temp), RECORD_FLAGS, 0o600);
      try {
        writeSync(
          fd,
          JSON.stringify({ destination: u.destination, temp: u.temp, host: HOST, pid: process.pid, orphaned: true }),
        );
      } finally {
        closeSync(fd);
      }
    } catch {
      // best effort
    }
  }
}

function untrack(destination: string, temp: string): Upload | undefined {
  const k = liveKey(destination, temp);
  const u = inProgress.get(k);
  if (!u) return undefined;
  inProgress.delete(k);
  if (u.timer) clearTimeout(u.timer);
  if (inProgress.size === 0) process.off('exit', recordAllNow);
  return u;
}

/** Before the OPEN that creates `temp`: this process's upload of it is in progress. */
export function startTemp(stateDir: string, destination: string, temp: string): void {
  if (inProgress.size === 0) process.on('exit', recordAllNow);
  const u: Upload = { stateDir, destination, temp };
  inProgress.set(liveKey(destination, temp), u);
  u.timer = setTimeout(() => {
    u.timer = undefined;
    u.writing = writeRecord(stateDir, { destination, temp, host: HOST, pid: process.pid }).catch(() => {});
  }, RECORD_AFTER_MS);
  u.timer.unref();
}

/** The temporary file could not be removed (or may exist unknown to us): whoever comes next removes it. */
export async function markOrphan(stateDir: string, destination: string, temp: string): Promise<void> {
  await untrack(destination, temp)?.writing;
  await writeRecord(stateDir, { destination, temp, host: HOST, pid: process.pid, orphaned: true });
}

/** The temporary file is gone (renamed into place, removed, or never created): drop its record, if any. */
export async function forgetTemp(stateDir: string, destination: string, temp: string): Promise<void> {
  const u = untrack(destination, temp);
  if (u && !u.writing) return; // never written
  await u?.writing;
  await rm(recordPath(stateDir, destination, temp), { force: true });
}

/** Whether process `pid` runs on this host (EPERM: it runs, as another user). */
function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/** Whether the upload that recorded `r` is over (see the module comment). */
export function ownerGone(r: TempRecord): boolean {
  if (r.orphaned || r.pid === undefined) return true; // records without an owner are orphans (older format)
  if (r.host !== HOST) return false;
  if (r.pid === process.pid) return !inProgress.has(liveKey(r.destination, r.temp));
  return !processRuns(r.pid);
}

/** Temporary files recorded for `destination` whose owner is gone. */
export async function orphansOf(stateDir: string, destination: string): Promise<string[]> {
  const dir = join(stateDir, 'orphans');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const prefix = `${destKey(destination)}-`;
  const out: string[] = [];
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    try {
      const r = JSON.parse(await readFile(join(dir, n), 'utf8')) as Partial<TempRecord>;
      if (r.destination !== destination || typeof r.temp !== 'string') continue;
      if (ownerGone(r as TempRecord)) out.push(r.temp);
    } catch {
      // torn record: ignore
    }
  }
  return out;
}

/** Remove the orphaned temporary files of `destination` with `remove` (missing ones count as removed). */
export async function sweepOrphans(
  stateDir: string,
  destination: string,
  remove: (temp: string) => Promise<void>,
): Promise<number> {
  let n = 0;
  for (const temp of await orphansOf(stateDir, destination)) {
    try {
      await remove(temp);
      n++;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'ENOENT') continue; // keep the record: try again next time
    }
    await forgetTemp(stateDir, destination, temp);
  }
  return n;
}
