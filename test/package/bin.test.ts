// The command in a fresh clone, before any build: bin/sftp-wire.js runs the CLI from source through
// tsx and says so in one line (it never builds silently); with dist/ present it is silent (types.test.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let clone: string;

before(() => {
  clone = mkdtempSync(join(tmpdir(), 'sftp-wire-clone-'));
  cpSync(join(ROOT, 'bin'), join(clone, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(clone, 'package.json'));
  symlinkSync(join(ROOT, 'src'), join(clone, 'src'), 'dir');
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
});
after(() => rmSync(clone, { recursive: true, force: true }));

function bin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [join(clone, 'bin', 'sftp-wire.js'), ...args],
      { timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({
          code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0,
          stdout,
          stderr,
        }),
    ),
  );
}

test('a clone without dist/ runs from source, with one notice line and no build', async () => {
  assert.equal(existsSync(join(clone, 'dist')), false);
  const r = await bin(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^usage: sftp-wire <command>/);
  assert.equal(r.stderr, 'sftp-wire: running from source (no dist/ yet; `npm run build` compiles it)\n');
  const ls = await bin(['ls', '--help']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^usage: sftp-wire ls/);
  assert.equal(existsSync(join(clone, 'dist')), false, 'nothing was built');
});

test('the exit code of the command comes through', async () => {
  const r = await bin(['no-such-command']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command "no-such-command"/);
});
