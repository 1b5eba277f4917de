import { MemoryFs } from '../../../src/server/fs/memory-fs.js';
import { LocalFs } from '../../../src/server/fs/local-fs.js';
import type { FileSystem } from '../../../src/server/fs/file-system.js';
import { tempDir } from '../../support/temp-dir.js';

/** The two built-in storages, each made fresh: request-level tests run against both. */
export const storages: { name: string; make(): { fs: FileSystem; root?: string; cleanup(): void } }[] = [
  { name: 'MemoryFs', make: () => ({ fs: new MemoryFs({ users: { 0: 'root' } }), cleanup: () => undefined }) },
  {
    name: 'LocalFs',
    make: () => {
      const t = tempDir('sftp-wire-server-');
      return { fs: new LocalFs(t.dir), root: t.dir, cleanup: t.cleanup };
    },
  },
];
