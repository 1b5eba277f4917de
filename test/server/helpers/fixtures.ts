import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryFs } from '../../../src/server/fs/memory-fs.js';
import { LocalFs } from '../../../src/server/fs/local-fs.js';
import type { FileSystem } from '../../../src/server/fs/file-system.js';

export function tempDir(prefix = 'sftp-wire-server-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The two built-in storages, each made fresh: request-level tests run against both. */
export const storages: { name: string; make(): { fs: FileSystem; root?: string; cleanup(): void } }[] = [
  { name: 'MemoryFs', make: () => ({ fs: new MemoryFs({ users: { 0: 'root' } }), cleanup: () => undefined }) },
  {
    name: 'LocalFs',
    make: () => {
      const t = tempDir();
      return { fs: new LocalFs(t.dir), root: t.dir, cleanup: t.cleanup };
    },
  },
];
