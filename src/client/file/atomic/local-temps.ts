import { unlinkSync } from 'node:fs';

/**
 * The local temporary files of atomic downloads this process is writing. A failed download removes
 * its own (atomic-get.ts); these are removed here too when the process exits while they exist — an
 * uncaught error, process.exit() (e.g. the CLI's second Ctrl-C) — so no `.NAME.TAG.part` outlives
 * the process that wrote it unless it was killed outright (SIGKILL, power loss). The exit listener is
 * installed only while there are such files.
 */
const live = new Set<string>();

function removeAllNow(): void {
  for (const p of live) {
    try {
      unlinkSync(p); // unlink never follows a symlink: only the entry we created goes
    } catch {
      // already gone
    }
  }
  live.clear();
}

/** `path` was just created by this process as a temporary file. */
export function trackLocalTemp(path: string): void {
  if (live.size === 0) process.on('exit', removeAllNow);
  live.add(path);
}

/** `path` was renamed into place or removed: no longer ours to clean up. */
export function untrackLocalTemp(path: string): void {
  if (!live.delete(path)) return;
  if (live.size === 0) process.off('exit', removeAllNow);
}
