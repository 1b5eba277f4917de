import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Temporary files of atomic uploads that could not be removed (the connection was lost before the
 * REMOVE). They are recorded locally, one small file each under `<stateDir>/orphans/`, and the next
 * atomic upload to the same destination removes them first. The temporary names carry random tags,
 * so removing one on a server that never had it is harmless (ENOENT, ignored).
 */

function destKey(destination: string): string {
  return createHash('sha256').update(destination).digest('hex').slice(0, 16);
}
function recordName(destination: string, temp: string): string {
  return `${destKey(destination)}-${createHash('sha256').update(temp).digest('hex').slice(0, 12)}.json`;
}

export async function recordOrphan(stateDir: string, destination: string, temp: string): Promise<void> {
  const dir = join(stateDir, 'orphans');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, recordName(destination, temp)), JSON.stringify({ destination, temp }));
}

export async function forgetOrphan(stateDir: string, destination: string, temp: string): Promise<void> {
  await rm(join(stateDir, 'orphans', recordName(destination, temp)), { force: true });
}

/** Temporary files recorded for `destination`. */
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
      const r = JSON.parse(await readFile(join(dir, n), 'utf8')) as { destination?: unknown; temp?: unknown };
      if (r.destination === destination && typeof r.temp === 'string') out.push(r.temp);
    } catch {
      // torn record: ignore
    }
  }
  return out;
}

/** Remove the recorded orphans of `destination` with `remove` (missing ones count as removed). */
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
    await forgetOrphan(stateDir, destination, temp);
  }
  return n;
}
