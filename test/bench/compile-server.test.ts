// The server benches compile our server once from a checkout's src/ into a work folder. Nothing of
// that compile may land in the checkout: a stray bench/*.js beside its .ts is what tsx runs next time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileServer, REPO } from '../../bench/lib/stdio-servers.js';

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? jsFiles(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
  );
}

test(
  'compileServer writes only into its output folder, and returns a server command that exists',
  { timeout: 240_000 },
  () => {
    const work = mkdtempSync(join(tmpdir(), 'sftp-wire-test-compile-'));
    try {
      const before = new Set([...jsFiles(join(REPO, 'bench')), ...jsFiles(join(REPO, 'src'))]);
      const cmd = compileServer(join(REPO, 'src'), join(work, 'build'), join(work, 'root'));
      const main = cmd[1]!;
      assert.ok(main.startsWith(join(work, 'build')) && existsSync(main), main);
      assert.deepEqual(cmd.slice(2), ['serve', '--stdio', '--root', join(work, 'root')]);
      const stray = [...jsFiles(join(REPO, 'bench')), ...jsFiles(join(REPO, 'src'))].filter((f) => !before.has(f));
      for (const f of stray) rmSync(f);
      assert.deepEqual(stray, [], 'compiled files left in the checkout');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
);
