/** Temporary folders for tests: one helper, always with a cleanup that removes the folder. */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  /** The folder's real path (symbolic links in the system's temp path resolved). */
  dir: string;
  /** Remove the folder and everything in it, even folders left without write permission. */
  cleanup(): void;
  /** A new numbered folder inside (`case1`, `case2`, ...) holding the empty folders `subdirs`; returns its path. */
  fresh(...subdirs: string[]): string;
}

/** A new empty folder under the system's temp folder, named `prefix` plus random characters. */
export function tempDir(prefix = 'sftp-wire-test-'): TempDir {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  let n = 0;
  return {
    dir,
    cleanup: () => removeDir(dir),
    fresh(...subdirs) {
      const d = join(dir, `case${++n}`);
      mkdirSync(d);
      for (const s of subdirs) mkdirSync(join(d, s));
      return d;
    },
  };
}

/** Remove `dir` recursively; folders copied without write permission are made writable first. */
export function removeDir(dir: string): void {
  const fix = (d: string) => {
    try {
      chmodSync(d, 0o700);
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) fix(join(d, e.name));
    } catch {
      /* already gone */
    }
  };
  fix(dir);
  rmSync(dir, { recursive: true, force: true });
}
