/**
 * scripts/patch-ssh2.mjs (run by `npm ci` as postinstall) corrects ssh2's handling of what a peer may
 * send during a key re-exchange. The installed ssh2 must carry the correction; the script must be
 * idempotent, and must fail loudly, changing nothing, when ssh2's code no longer has the spot.
 * (What the correction does on the wire is proved by asyncssh-rekey.test.ts.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MARKER, PATCHES, patchSource, ssh2KexPath } from '../../scripts/patch-ssh2.mjs';

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/patch-ssh2.mjs');
const installed = readFileSync(ssh2KexPath(), 'utf8');
/** The installed source with every correction taken back out: ssh2 as published. */
const pristine = PATCHES.reduce((s, [from, to]) => s.replace(to, from), installed);

function runScript(file: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, file], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('patch-ssh2 (postinstall)', () => {
  it('the installed ssh2 carries every correction (npm ci ran the postinstall)', () => {
    for (const [from, to] of PATCHES) {
      assert.ok(installed.includes(to), `missing: ${to.split('\n')[0]}`);
      assert.ok(!pristine.includes(to) && pristine.includes(from));
    }
    assert.ok(installed.includes(MARKER));
    assert.equal(patchSource(installed), installed, 'patching again changes nothing');
  });

  it('patches a published copy once, and a second run leaves it byte-identical', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sftp-wire-patch-'));
    try {
      const file = path.join(dir, 'kex.js');
      writeFileSync(file, pristine);
      const first = runScript(file);
      assert.equal(first.status, 0, first.out);
      assert.match(first.out, /patched/);
      assert.equal(readFileSync(file, 'utf8'), installed);
      const second = runScript(file);
      assert.equal(second.status, 0, second.out);
      assert.match(second.out, /already patched/);
      assert.equal(readFileSync(file, 'utf8'), installed);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails loudly and changes nothing when a spot is missing or found twice', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sftp-wire-patch-'));
    try {
      const [from] = PATCHES[1]!;
      for (const broken of [
        pristine.replace(from, '  if (!this._strictModeRenamed) {'),
        pristine.replace(from, `${from}\n${from}`),
      ]) {
        assert.throws(() => patchSource(broken), /expected exactly one occurrence/);
        const file = path.join(dir, 'kex.js');
        writeFileSync(file, broken);
        const r = runScript(file);
        assert.equal(r.status, 1, r.out);
        assert.match(r.out, /patch-ssh2: FAILED: .*expected exactly one occurrence/);
        assert.equal(readFileSync(file, 'utf8'), broken, 'the file is left as it was');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
