// The packaged bench (`sftp-wire bench` from the npm package) forks its worker and embedded-server
// modules by path, so nothing imports them: the build must list them, or the package ships a bench
// that cannot start its children.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('every module the bench forks by path is an entry of the package build', () => {
  const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { files: string[] };
  const forked: string[] = [];
  for (const file of tsFiles(join(ROOT, 'bench'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/siblingScript\(import\.meta\.url, '([\w-]+)'\)/g)) {
      forked.push(relative(ROOT, join(file, '..', `${m[1]}.ts`)));
    }
  }
  assert.ok(forked.length >= 2, `found ${forked.join(', ')}`);
  for (const f of forked)
    assert.ok(build.files.includes(f), `${f} is forked by the bench but not built (tsconfig.build.json "files")`);
});
