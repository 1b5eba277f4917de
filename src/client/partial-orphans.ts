import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * Records of the remote temporary files of atomic uploads, so that one left behind is removed later.
 *
 * A record is written locally (one small file under `<stateDir>/orphans/`) BEFORE the OPEN that creates
 * the temporary file, and deleted once the file is renamed into place or its removal is confirmed. So
 * a record outlives the temporary file whenever the uploader could not clean up: the connection was
 * lost (even before the OPEN's reply came back, when the file may exist without the client knowing),
 * or the process died (a crash, a second Ctrl-C, SIGKILL). The next atomic upload to the same
 * destination removes the temporary files whose owner is gone:
 *  - the record says so (the owner tried to remove the file and could not);
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

interface TempRecord {
  destination: string;
  temp: string;
  host?: string;
  pid?: number;
  /** The owner gave up on it: remove whoever finds it. */
  orphaned?: boolean;
}

/** Uploads of this process in progress (destination NUL temp). */
const inProgress = new Set<string>();
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

async function writeRecord(stateDir: string, r: TempRecord): Promise<void> {
  const dir = join(stateDir, 'orphans');
  await mkdir(dir, { recursive: true });
  // O_NOFOLLOW: a link planted under the record's name (the default stateDir is in /tmp) is not followed.
  const fh = await open(join(dir, recordName(r.destination, r.temp)), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW, 0o600);
  try {
    await fh.writeFile(JSON.stringify(r));
  } finally {
    await fh.close();
  }
}

/** Before the OPEN that creates `temp`: record it as this process's upload in progress. */
export async function recordTemp(stateDir: string, destination: string, temp: string): Promise<void> {
  inProgress.add(liveKey(destination, temp));
  await writeRecord(stateDir, { destination, temp, host: HOST, pid: process.pid });
}

/** The temporary file could not be removed (or may exist unknown to us): whoever comes next removes it. */
export async function markOrphan(stateDir: string, destination: string, temp: string): Promise<void> {
  inProgress.delete(liveKey(destination, temp));
  await writeRecord(stateDir, { destination, temp, host: HOST, pid: process.pid, orphaned: true });
}

/** The temporary file is gone (renamed into place, removed, or never created): drop its record. */
export async function forgetTemp(stateDir: string, destination: string, temp: string): Promise<void> {
  inProgress.delete(liveKey(destination, temp));
  await rm(join(stateDir, 'orphans', recordName(destination, temp)), { force: true });
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
export async function sweepOrphans(stateDir: string, destination: string, remove: (temp: string) => Promise<void>): Promise<number> {
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
